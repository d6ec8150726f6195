#include "svc/model.h"

#include <iterator>

namespace sluice::svc {

const char* fwdName(FwdMethod m) {
  switch (m) {
    case FwdMethod::kDr: return "Route";
    case FwdMethod::kTun: return "Tunnel";
    case FwdMethod::kNat: return "Masq";
    case FwdMethod::kFullNat: return "FullNat";
    case FwdMethod::kLocal: return "Local";
  }
  return "?";
}

namespace {

struct NotYet {
  FwdMethod method;
  const char* why;
};

// The forwarding methods the data path drops today (dp::Datapath::forward counts them as
// fwd_unsupported, the XDP program leaves them to it).
constexpr NotYet kFwdNotYet[] = {
    {FwdMethod::kLocal, "Local forwarding (a real server on the director itself) is not implemented "
                        "yet; use -g (DR) to another host"},
};

}  // namespace

Status checkImplemented(FwdMethod m) {
  for (const NotYet& n : kFwdNotYet)
    if (n.method == m) return Error{n.why};
  return {};
}

Status checkImplemented(const ServiceKey& k) {
  // The data path is never given a packet's firewall mark yet, so such a service would
  // match nothing.
  if (k.fwmark != 0)
    return makeError("Firewall-mark services (-f) are not implemented yet; use -t or -u with the "
                     "virtual address and port");
  return {};
}

Status checkImplemented(const DestConfig& d) {
  if (Status st = checkImplemented(d.fwd); !st) return st;
  if (d.fwd != FwdMethod::kTun) return {};
  // IPVS encapsulates GRE in the kernel (ip_vs_tunnel_xmit, IP_VS_CONN_F_TUNNEL_TYPE_GRE);
  // our TUN data path builds IPIP and GUE headers only.
  if (d.tun_type == SL_TUN_GRE) return makeError("GRE tunnels are not implemented yet; use ipip or gue");
  if (d.tun_flags & SL_TUN_F_REMCSUM)
    return makeError("Remote checksum offload (--tun-remcsum) is not implemented yet; use --tun-csum "
                     "or --tun-nocsum");
  return {};
}

namespace {

struct ClientAddrNotYet {
  ClientAddr mode;
  const char* why;
};

// Client-address modes the FULLNAT data path does not insert yet; lifting one is deleting
// its line, as for kFwdNotYet.
constexpr ClientAddrNotYet kClientAddrNotYet[] = {
    {ClientAddr::kProxyV2, "PROXY protocol v2 is not implemented yet; use toa"},
};

constexpr const char* kClientAddrNames[] = {"none", "toa", "proxy-v2"};  // indexed by SL_CA_*
static_assert(SL_CA_NONE == 0 && SL_CA_TOA == 1 && SL_CA_PROXY2 == 2);

}  // namespace

Status checkImplemented(ClientAddr c) {
  for (const ClientAddrNotYet& n : kClientAddrNotYet)
    if (n.mode == c) return Error{n.why};
  return {};
}

const char* clientAddrName(ClientAddr c) {
  return uint8_t(c) < std::size(kClientAddrNames) ? kClientAddrNames[uint8_t(c)] : "?";
}

std::optional<ClientAddr> clientAddrFromName(std::string_view name) {
  for (uint8_t i = 0; i < std::size(kClientAddrNames); ++i)
    if (name == kClientAddrNames[i]) return ClientAddr(i);
  return std::nullopt;
}

namespace {
constexpr const char* kTunNames[] = {"ipip", "gue", "gre"};  // indexed by SL_TUN_*
static_assert(SL_TUN_IPIP == 0 && SL_TUN_GUE == 1 && SL_TUN_GRE == 2);
}  // namespace

const char* tunTypeName(uint8_t tun_type) {
  return tun_type < std::size(kTunNames) ? kTunNames[tun_type] : "?";
}

std::optional<uint8_t> tunTypeFromName(std::string_view name) {
  for (uint8_t t = 0; t < std::size(kTunNames); ++t)
    if (name == kTunNames[t]) return t;
  return std::nullopt;
}

Status checkTunnel(const DestConfig& d) {
  const bool any = d.tun_type != SL_TUN_IPIP || d.tun_port != 0 || d.tun_flags != 0;
  if (d.fwd != FwdMethod::kTun) {
    if (any) return makeError("Tunnel options conflict with forward method: --tun-* need -i (tunnelling)");
    return {};
  }
  if (d.tun_type > SL_TUN_GRE) return makeError("Invalid tunnel type {}", unsigned(d.tun_type));
  if (d.tun_flags & ~(SL_TUN_F_CSUM | SL_TUN_F_REMCSUM))
    return makeError("Invalid tunnel flags 0x{:x}", unsigned(d.tun_flags));
  const char* type = tunTypeName(d.tun_type);
  if (d.tun_type == SL_TUN_GUE && d.tun_port == 0)
    return makeError("You need to supply the 'tun-port' option for the 'gue' tunnel type");
  if (d.tun_type != SL_TUN_GUE && d.tun_port != 0)
    return makeError("Illegal 'tun-port' option with the '{}' tunnel type", type);
  if (d.tun_type == SL_TUN_IPIP && d.tun_flags != 0)
    return makeError("Illegal '{}' option with the 'ipip' tunnel type",
                     d.tun_flags & SL_TUN_F_CSUM ? "tun-csum" : "tun-remcsum");
  if (d.tun_type == SL_TUN_GRE && (d.tun_flags & SL_TUN_F_REMCSUM))
    return makeError("Illegal 'tun-remcsum' option with the 'gre' tunnel type");
  if ((d.tun_flags & SL_TUN_F_CSUM) && (d.tun_flags & SL_TUN_F_REMCSUM))
    return makeError("The option 'tun-remcsum' conflicts with the 'tun-csum' option in the '{}' tunnel type",
                     type);
  return {};
}

}  // namespace sluice::svc
