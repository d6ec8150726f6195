// Encoding and validation of one synced connection (layout in sync_entry.h).
#include "cluster/sync_entry.h"

#include <algorithm>
#include <cstring>

#include "net/bytes.h"

namespace sluice::cluster {
namespace {

constexpr uint8_t kLinkTemplate = 0x01;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;

bool isFamily(net::Family f) { return f == net::Family::kV4 || f == net::Family::kV6; }

// IPv4 addresses keep bytes 4..15 zero (records.h), so one address has one encoding.
bool canonical(const net::IpAddr& a) {
  if (a.family == net::Family::kNone) return a.isZero();
  if (a.family != net::Family::kV4) return true;
  return std::all_of(a.bytes.begin() + 4, a.bytes.end(), [](uint8_t b) { return b == 0; });
}

WireResult<void> checkAddr(const net::IpAddr& a, const char* what, bool may_be_zero) {
  if (!canonical(a))
    return wireError(WireErrc::kBadAddress, "sync entry: {} is IPv4 with bytes past the 4th", what);
  if (!may_be_zero && a.isZero())
    return wireError(WireErrc::kBadAddress, "sync entry: {} is zero", what);
  return {};
}

WireResult<void> checkState(const SyncEntry& e) {
  if (e.kind == SL_KEY_TEMPLATE) {
    if (e.state != SL_TCP_NONE)
      return wireError(WireErrc::kBadState, "sync entry: template in state {}, not NONE", e.state);
    return {};
  }
  if (e.proto == kProtoTcp && e.state > SL_TCP_SYNACK)
    return wireError(WireErrc::kBadState, "sync entry: TCP connection in state {}", e.state);
  if (e.proto == kProtoUdp && e.state != SL_STATE_UDP)
    return wireError(WireErrc::kBadState, "sync entry: UDP connection in state {}", e.state);
  return {};
}

WireResult<void> checkFlags(const SyncEntry& e) {
  if (e.flags & ~kSyncedConnFlags)
    return wireError(WireErrc::kBadFlags, "sync entry: unknown flag bits {:#x}",
                     e.flags & ~kSyncedConnFlags);
  bool is_tmpl = e.kind == SL_KEY_TEMPLATE;
  if (bool(e.flags & SL_CONN_F_TEMPLATE) != is_tmpl)
    return wireError(WireErrc::kBadFlags, "sync entry: template flag disagrees with the kind");
  if ((e.flags & SL_CONN_F_ASSURED) && !is_tmpl)
    return wireError(WireErrc::kBadFlags, "sync entry: ASSURED on a connection, not a template");
  if ((e.flags & SL_CONN_F_CONTROLLED) && !e.has_template)
    return wireError(WireErrc::kBadFlags, "sync entry: CONTROLLED without a template link");
  return {};
}

WireResult<void> checkService(const SyncEntry& e) {
  if (e.svc_fwmark != 0) {
    if (e.svc_port != 0)
      return wireError(WireErrc::kBadService, "sync entry: fwmark service with port {}", e.svc_port);
    return {};
  }
  if (e.svc_port != 0 && e.svc_port != e.vip.port)
    return wireError(WireErrc::kBadService, "sync entry: service port {} is neither 0 nor vport {}",
                     e.svc_port, e.vip.port);
  return {};
}

WireResult<void> checkTemplateLink(const SyncEntry& e) {
  if (e.kind == SL_KEY_TEMPLATE) {
    if (e.client.port != 0)
      return wireError(WireErrc::kBadTemplate, "sync entry: template with client port {}",
                       e.client.port);
    if (e.has_template)
      return wireError(WireErrc::kBadTemplate, "sync entry: a template linked to a template");
  }
  if (!e.has_template) {
    if (e.tmpl_vport != 0 || e.tmpl_caddr.family != net::Family::kNone || !e.tmpl_caddr.isZero())
      return wireError(WireErrc::kBadTemplate, "sync entry: template fields set without a link");
    return {};
  }
  if (e.tmpl_caddr.family != e.family())
    return wireError(WireErrc::kBadTemplate, "sync entry: template address family differs");
  if (auto s = checkAddr(e.tmpl_caddr, "template client address", true); !s) return s;
  if (e.tmpl_vport != 0 && e.tmpl_vport != e.vip.port)
    return wireError(WireErrc::kBadTemplate, "sync entry: template vport {} is neither 0 nor {}",
                     e.tmpl_vport, e.vip.port);
  return {};
}

WireResult<void> checkLocal(const SyncEntry& e) {
  if (e.fwd != SL_FWD_FULLNAT) {
    if (e.local.addr.family != net::Family::kNone || !e.local.addr.isZero() || e.local.port != 0)
      return wireError(WireErrc::kBadLocal, "sync entry: local address set for a non-FULLNAT entry");
    return {};
  }
  if (e.local.addr.family != e.dest.addr.family)
    return wireError(WireErrc::kBadLocal, "sync entry: FULLNAT local address family differs from the real server's");
  if (auto s = checkAddr(e.local.addr, "FULLNAT local address", false); !s)
    return WireError{WireErrc::kBadLocal, s.error().message};
  if (e.local.port == 0)
    return wireError(WireErrc::kBadLocal, "sync entry: FULLNAT local port is zero");
  return {};
}

void putAddr(uint8_t* p, const net::IpAddr& a) { std::memcpy(p, a.bytes.data(), 16); }

net::IpAddr getAddr(const uint8_t* p, net::Family f) {
  net::IpAddr a;
  std::memcpy(a.bytes.data(), p, 16);
  a.family = f;
  return a;
}

WireResult<net::Family> getFamily(uint8_t b, const char* what) {
  if (b == SL_AF_V4) return net::Family::kV4;
  if (b == SL_AF_V6) return net::Family::kV6;
  return wireError(WireErrc::kBadFamily, "sync entry: {} family {} is not 4 or 6", what, b);
}

bool allZero(const uint8_t* p, size_t n) {
  return std::all_of(p, p + n, [](uint8_t b) { return b == 0; });
}

}  // namespace

WireResult<void> validateEntry(const SyncEntry& e) {
  if (e.kind != SL_KEY_CONN && e.kind != SL_KEY_TEMPLATE)
    return wireError(WireErrc::kBadKind, "sync entry: kind {} is neither connection nor template", e.kind);
  if (e.proto != kProtoTcp && e.proto != kProtoUdp)
    return wireError(WireErrc::kBadProto, "sync entry: protocol {} is not TCP or UDP", e.proto);
  if (!isFamily(e.family()) || e.vip.addr.family != e.family())
    return wireError(WireErrc::kBadFamily, "sync entry: client and virtual addresses need one family, 4 or 6");
  if (!isFamily(e.dest.addr.family))
    return wireError(WireErrc::kBadFamily, "sync entry: real server family is not 4 or 6");
  if (e.fwd > SL_FWD_LOCAL)
    return wireError(WireErrc::kBadMethod, "sync entry: forwarding method {} unknown", e.fwd);
  // A template's client address is masked and may be all zero (-M 0.0.0.0).
  if (auto s = checkAddr(e.client.addr, "client address", e.kind == SL_KEY_TEMPLATE); !s) return s;
  if (auto s = checkAddr(e.vip.addr, "virtual address", false); !s) return s;
  if (auto s = checkAddr(e.dest.addr, "real server address", false); !s) return s;
  if (auto s = checkState(e); !s) return s;
  if (auto s = checkFlags(e); !s) return s;
  if (e.timeout_s == 0 || e.timeout_s > kMaxSyncTimeoutS)
    return wireError(WireErrc::kBadTimeout, "sync entry: timeout {} s outside 1..{}", e.timeout_s,
                     kMaxSyncTimeoutS);
  if (auto s = checkService(e); !s) return s;
  if (auto s = checkTemplateLink(e); !s) return s;
  return checkLocal(e);
}

void encodeEntry(const SyncEntry& e, std::span<uint8_t, kEntryWireSize> out) noexcept {
  uint8_t* p = out.data();
  std::memset(p, 0, kEntryWireSize);
  p[0] = e.kind;
  p[1] = e.proto;
  p[2] = uint8_t(e.family());
  p[3] = uint8_t(e.dest.addr.family);
  p[4] = e.fwd;
  p[5] = e.state;
  p[6] = e.flags;
  p[7] = e.has_template ? kLinkTemplate : 0;
  net::store16be(p + 8, e.client.port);
  net::store16be(p + 10, e.vip.port);
  net::store16be(p + 12, e.dest.port);
  net::store16be(p + 14, e.local.port);
  net::store32be(p + 16, e.timeout_s);
  net::store32be(p + 20, e.svc_fwmark);
  net::store16be(p + 24, e.svc_port);
  net::store16be(p + 26, e.tmpl_vport);
  putAddr(p + 32, e.client.addr);
  putAddr(p + 48, e.vip.addr);
  putAddr(p + 64, e.dest.addr);
  putAddr(p + 80, e.local.addr);
  putAddr(p + 96, e.tmpl_caddr);
}

WireResult<SyncEntry> decodeEntry(std::span<const uint8_t, kEntryWireSize> in) {
  const uint8_t* p = in.data();
  if (p[7] & ~kLinkTemplate)
    return wireError(WireErrc::kReserved, "sync entry: unknown link bits {:#x}", p[7]);
  if (!allZero(p + 28, 4)) return wireError(WireErrc::kReserved, "sync entry: reserved bytes not zero");
  auto fam = getFamily(p[2], "client");
  if (!fam) return fam.error();
  auto dfam = getFamily(p[3], "real server");
  if (!dfam) return dfam.error();

  SyncEntry e;
  e.kind = p[0];
  e.proto = p[1];
  e.fwd = p[4];
  e.state = p[5];
  e.flags = p[6];
  e.has_template = p[7] & kLinkTemplate;
  e.client = {getAddr(p + 32, *fam), net::load16be(p + 8)};
  e.vip = {getAddr(p + 48, *fam), net::load16be(p + 10)};
  e.dest = {getAddr(p + 64, *dfam), net::load16be(p + 12)};
  // The local address has a family only where it exists (FULLNAT); elsewhere it must be
  // zero, which validateEntry() checks on the value read here.
  e.local = {getAddr(p + 80, e.fwd == SL_FWD_FULLNAT ? *dfam : net::Family::kNone),
             net::load16be(p + 14)};
  e.timeout_s = net::load32be(p + 16);
  e.svc_fwmark = net::load32be(p + 20);
  e.svc_port = net::load16be(p + 24);
  e.tmpl_vport = net::load16be(p + 26);
  e.tmpl_caddr = getAddr(p + 96, e.has_template ? *fam : net::Family::kNone);
  if (auto s = validateEntry(e); !s) return s.error();
  return e;
}

}  // namespace sluice::cluster
