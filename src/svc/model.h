// The configuration model: virtual services and their real servers ("dests"), as an
// operator states them with ipvsadm or keepalived.conf. Plain values, validated by the
// ServiceTable (svc/service_table.h) before they reach the data plane.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "abi/records.h"
#include "net/addr.h"

namespace sluice::svc {

enum class Proto : uint8_t { kTcp = 6, kUdp = 17 };

enum class FwdMethod : uint8_t {
  kDr = SL_FWD_DR,          // ipvsadm -g, "Route"
  kTun = SL_FWD_TUN,        // -i, "Tunnel"
  kNat = SL_FWD_NAT,        // -m, "Masq"
  kFullNat = SL_FWD_FULLNAT,  // -b (DPVS spelling), "FullNat"
  kLocal = SL_FWD_LOCAL,    // "Local"
};

// ipvsadm's Forward column: Route, Tunnel, Masq, FullNat, Local.
const char* fwdName(FwdMethod m);

// -b flags: sh-fallback/mh-fallback are flag-1, sh-port/mh-port are flag-2 (as in IPVS).
constexpr uint32_t kSchedFlag1 = 0x1;
constexpr uint32_t kSchedFlag2 = 0x2;
constexpr uint32_t kSchedFlag3 = 0x4;

struct ServiceKey {
  Proto proto = Proto::kTcp;  // ignored for fwmark services
  net::IpAddr addr;           // zero/kNone for fwmark services
  uint16_t port = 0;          // host order; 0 only with persistence
  uint32_t fwmark = 0;        // non-zero: a firewall-mark service (family in fwmark_family)
  net::Family fwmark_family = net::Family::kV4;

  friend bool operator==(const ServiceKey&, const ServiceKey&) = default;
  friend auto operator<=>(const ServiceKey&, const ServiceKey&) = default;
};

// FULLNAT: how the client's address reaches the real server, since the packets it gets come
// from a local address (SL_CA_*). DPVS inserts TOA by default, hence the default here; it
// means nothing to a service without FULLNAT real servers.
enum class ClientAddr : uint8_t {
  kNone = SL_CA_NONE,      // not at all: the real server sees the local address
  kToa = SL_CA_TOA,        // TCP option 254 (TOA) in the first ACK
  kProxyV2 = SL_CA_PROXY2, // a PROXY protocol v2 header before the first data byte
};

// "none", "toa", "proxy-v2" (sluiceadm --client-addr, the control protocol, the state file).
const char* clientAddrName(ClientAddr c);
std::optional<ClientAddr> clientAddrFromName(std::string_view name);

struct ServiceConfig {
  ServiceKey key;
  std::string scheduler = "wlc";
  uint32_t sched_flags = 0;           // kSchedFlag*
  bool persistent = false;            // -p
  uint32_t persistence_timeout = 300; // seconds, -p [timeout]
  unsigned persistence_prefix = 32;   // -M, as a prefix length (IPv6: 128)
  bool one_packet = false;            // -o / ops
  ClientAddr client_addr = ClientAddr::kToa;  // FULLNAT only: --client-addr

  friend bool operator==(const ServiceConfig&, const ServiceConfig&) = default;
};

// A FULLNAT local address of a virtual service (DPVS's laddr, keepalived's
// local_address_group member): the source address of the connections the director opens to
// FULLNAT real servers, with the interface it lives on as DPVS keeps it (empty: any).
struct LocalAddress {
  net::IpAddr addr;
  std::string ifname;

  friend bool operator==(const LocalAddress&, const LocalAddress&) = default;
  friend auto operator<=>(const LocalAddress&, const LocalAddress&) = default;
};

struct DestConfig {
  net::Endpoint ep;                // real server address:port
  FwdMethod fwd = FwdMethod::kDr;
  int32_t weight = 1;              // 0 = quiescent
  uint32_t u_threshold = 0;        // -x, 0 = none
  uint32_t l_threshold = 0;        // -y, 0 = 3/4 of -x
  // TUN only (ipvsadm 1.31 --tun-type/--tun-port/--tun-*csum): SL_TUN_*, the GUE port
  // (host order, 0 = none), SL_TUN_F_*.
  uint8_t tun_type = SL_TUN_IPIP;
  uint16_t tun_port = 0;
  uint8_t tun_flags = 0;

  friend bool operator==(const DestConfig&, const DestConfig&) = default;
};

// What the data plane cannot carry yet. The model refuses it on every way in (sluiceadm and
// its -R, the state file a restart restores, later config files and sync), with a line that
// says what to use instead, so that nothing is accepted, listed and saved, and then dropped
// packet by packet. Each refusal is one line of a table in model.cc: lifting one (when its
// forwarding method or fwmark classification lands) is deleting that line.
Status checkImplemented(FwdMethod m);
Status checkImplemented(const ServiceKey& k);
// The tunnel options the data plane cannot carry yet (GRE, remote checksum offload), on
// top of checkImplemented(d.fwd).
Status checkImplemented(const DestConfig& d);
// The client-address modes the data path cannot carry yet (PROXY protocol v2).
Status checkImplemented(ClientAddr c);

// ipvsadm 1.31's names of the tunnel types: "ipip", "gue", "gre" ("?" for others).
const char* tunTypeName(uint8_t tun_type);
std::optional<uint8_t> tunTypeFromName(std::string_view name);

// The tunnel options as values, by ipvsadm 1.31's rules (its tunnel_opt_check table and
// "Tunnel options conflict with forward method"): none unless the method is TUN; a GUE
// tunnel needs its port, and only GUE has one; the checksum options only with GUE and GRE,
// at most one of them, remote checksum offload only with GUE. Every way in checks them
// (sluiceadm parses the options and then the table checks the values), so a state file or
// a control request cannot carry what the command line refuses.
Status checkTunnel(const DestConfig& d);

// Per-state timeouts in seconds, as ipvsadm --set changes them.
struct Timeouts {
  uint32_t tcp = 900;
  uint32_t tcp_fin = 120;
  uint32_t udp = 300;
};

}  // namespace sluice::svc
