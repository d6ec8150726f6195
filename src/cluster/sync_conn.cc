// sl_conn <-> SyncEntry (see sync_conn.h). Keys hold ports in network order, entries in host
// order.
#include "cluster/sync_conn.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "conn/tuple_key.h"

namespace sluice::cluster {
namespace {

net::Family familyOf(uint8_t f) {
  return f == SL_AF_V4 ? net::Family::kV4 : f == SL_AF_V6 ? net::Family::kV6 : net::Family::kNone;
}

net::IpAddr addrOf(const uint8_t* p, uint8_t family) {
  net::IpAddr a;
  std::memcpy(a.bytes.data(), p, 16);
  a.family = familyOf(family);
  return a;
}

}  // namespace

SyncEntry entryFromConn(const sl_conn& c, const ConnContext& ctx, Nanos now) {
  SyncEntry e;
  e.kind = c.key.kind;
  e.proto = c.key.proto;
  e.fwd = c.fwd;
  e.state = c.state;
  e.flags = c.flags & kSyncedConnFlags;
  Nanos deadline = c.last_seen_ns + Nanos(c.timeout_s) * kSecond;
  Nanos left = deadline > now ? deadline - now : 0;
  e.timeout_s = uint32_t(std::max<Nanos>(1, (left + kSecond - 1) / kSecond));
  e.client = {addrOf(c.key.caddr, c.key.family), ntohs(c.key.cport)};
  e.vip = {addrOf(c.key.vaddr, c.key.family), ntohs(c.key.vport)};
  e.svc_fwmark = ctx.svc_fwmark;
  e.svc_port = ctx.svc_port;
  e.dest = ctx.dest;
  e.local = ctx.local;
  if (ctx.tmpl) {
    e.has_template = true;
    e.tmpl_caddr = addrOf(ctx.tmpl->caddr, ctx.tmpl->family);
    e.tmpl_vport = ntohs(ctx.tmpl->vport);
  }
  return e;
}

sl_conn_key connKeyOf(const SyncEntry& e) {
  return conn::tupleKey(e.family(), e.proto, e.client.addr, e.client.port, e.vip.addr,
                        e.vip.port, e.kind);
}

std::optional<sl_conn_key> templateKeyOf(const SyncEntry& e) {
  if (!e.has_template) return std::nullopt;
  sl_conn_key k = connKeyOf(e);
  std::memcpy(k.caddr, e.tmpl_caddr.bytes.data(), 16);
  k.cport = 0;
  k.vport = htons(e.tmpl_vport);
  k.kind = SL_KEY_TEMPLATE;
  return k;
}

}  // namespace sluice::cluster
