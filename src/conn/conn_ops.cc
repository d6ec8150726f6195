// Connection lifecycle; see conn_ops.h.
#include "conn/conn_ops.h"

#include <netinet/in.h>

namespace sluice::conn {
namespace {

// Marks an invalidated template's key so it can never equal a key a lookup builds
// (those always have pad 0), whatever its port.
constexpr uint8_t kKeyPadInvalidated = 0xff;

sl_conn* bindNew(ConnTable& table, const sl_conn_key& key, const Binding& b, uint8_t state,
                 uint32_t timeout_s, uint8_t flags, Nanos now,
                 const sl_conn_ext* ext = nullptr) noexcept {
  sl_conn* c = table.insert(key, now);
  if (!c) return nullptr;
  table.ext(*c) = ext ? *ext : sl_conn_ext{};  // before the entry is unlocked
  c->svc_id = b.svc_id;
  c->dest_id = b.dest_id;
  c->fwd = b.fwd;
  c->state = state;
  c->timeout_s = timeout_s;
  c->flags = flags;
  if (DestAccounting* d = table.dests()) d->bind(*c);
  ConnTable::unlockEntry(*c);  // insert() handed it over locked
  return c;
}

}  // namespace

uint8_t initialState(uint8_t proto) noexcept {
  switch (proto) {
    case IPPROTO_UDP:
      return SL_STATE_UDP;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
      return SL_STATE_ICMP;
    default:
      return SL_TCP_NONE;
  }
}

sl_conn* createConn(ConnTable& table, const sl_conn_key& key, const Binding& b,
                    const TimeoutTable& timeouts, Nanos now, sl_conn* tmpl,
                    const sl_conn_ext* ext) noexcept {
  uint8_t state = initialState(key.proto);
  sl_conn* c =
      bindNew(table, key, b, state, timeouts.seconds(state), SL_CONN_F_INACTIVE, now, ext);
  if (c && tmpl) {
    table.attachToTemplate(*c, *tmpl, now);
    if (!(tmpl->flags & SL_CONN_F_ASSURED)) {
      ConnTable::lockEntry(*c);
      c->flags |= SL_CONN_F_CONTROLLED;
      ConnTable::unlockEntry(*c);
    }
  }
  return c;
}

bool updateConn(ConnTable& table, sl_conn& c, Direction dir, uint8_t tcp_flags,
                const TimeoutTable& timeouts, Nanos now) noexcept {
  if (c.flags & SL_CONN_F_TEMPLATE) return false;
  bool assure = false;
  if (c.key.proto == IPPROTO_TCP) {
    if (dir == Direction::kInput && seesOnlyInput(c.fwd)) dir = Direction::kInputOnly;
    uint8_t next = nextTcpState(c.state, dir, tcp_flags);
    if (next != c.state) {
      if (DestAccounting* d = table.dests())
        d->noteActivity(c, isActiveState(next));
      else if (isActiveState(next))
        c.flags &= ~SL_CONN_F_INACTIVE;
      else
        c.flags |= SL_CONN_F_INACTIVE;
      c.state = next;
      // ip_vs_control_assure_ct: the template's first established connection assures it.
      if (next == SL_TCP_ESTABLISHED && (c.flags & SL_CONN_F_CONTROLLED)) {
        c.flags &= ~SL_CONN_F_CONTROLLED;
        assure = true;
      }
    }
  }
  c.timeout_s = timeouts.seconds(c.state);
  c.last_seen_ns = now;
  return assure;
}

void assureTemplate(ConnTable& table, const sl_conn_key& key, Nanos now) noexcept {
  ConnTable::WriterLock lock = table.lockWriter();
  sl_conn* c = table.lookup(key, now);
  if (!c) return;
  if (sl_conn* t = table.templateOf(*c)) {
    ConnTable::lockEntry(*t);
    t->flags |= SL_CONN_F_ASSURED;
    ConnTable::unlockEntry(*t);
  }
}

sl_conn* createTwin(ConnTable& table, const sl_conn_key& twin_key, const Binding& b,
                    Nanos now, const sl_conn_ext* ext) noexcept {
  ConnTable::WriterLock lock = table.lockWriter();
  sl_conn* t = table.lookup(twin_key, now);
  if (t) {
    ConnTable::lockEntry(*t);  // an older connection's twin for the same tuple: ours now
  } else {
    t = table.insert(twin_key, now);
    if (!t) return nullptr;
  }
  t->svc_id = b.svc_id;
  t->dest_id = b.dest_id;
  t->fwd = b.fwd;
  t->state = SL_TCP_NONE;
  t->flags = 0;
  t->timeout_s = ConnTable::kTwinTimeout;
  t->last_seen_ns = now;
  table.ext(*t) = ext ? *ext : sl_conn_ext{};
  ConnTable::unlockEntry(*t);
  return t;
}

sl_conn_key templateKey(const sl_conn_key& k, unsigned prefix_len, bool any_port) noexcept {
  sl_conn_key t = k;
  unsigned bits = k.family == SL_AF_V4 ? 32 : 128;
  if (prefix_len > bits) prefix_len = bits;
  for (unsigned byte = 0; byte < 16; ++byte) {
    unsigned keep = prefix_len > byte * 8 ? prefix_len - byte * 8 : 0;
    if (keep >= 8) continue;
    t.caddr[byte] &= uint8_t(0xff00u >> keep);
  }
  t.cport = 0;
  if (any_port) t.vport = 0;
  t.kind = SL_KEY_TEMPLATE;
  t.pad = 0;
  return t;
}

sl_conn* createTemplate(ConnTable& table, const sl_conn_key& tkey, const Binding& b,
                        uint32_t timeout_s, Nanos now) noexcept {
  return bindNew(table, tkey, b, SL_TCP_NONE, timeout_s, SL_CONN_F_TEMPLATE, now);
}

void invalidateTemplate(sl_conn& tmpl) noexcept {
  if (!(tmpl.flags & SL_CONN_F_TEMPLATE)) return;
  tmpl.key.vport = 0xffff;
  tmpl.key.cport = 0;
  tmpl.key.pad = kKeyPadInvalidated;
}

}  // namespace sluice::conn
