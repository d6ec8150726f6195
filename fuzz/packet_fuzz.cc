// Fuzzes parseFrame with arbitrary bytes and checks what callers rely on: a kOk result's
// offsets lie inside the frame and inside the IP datagram, and a drop counter is named
// exactly when the frame is dropped. Any broken invariant aborts, which libFuzzer (and the
// corpus replay in normal builds) reports as a crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "dp/counters.h"
#include "net/icmp_quote.h"
#include "net/packet.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "packet_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  const net::ParseResult r = net::parseFrame(std::span<const uint8_t>(data, size));
  const net::Parsed& p = r.pkt;
  if (r.status == net::ParseStatus::kDrop) {
    check(r.drop < dp::Counter::kCount, "a drop names a counter");
    check(dp::kCounterIsDrop[size_t(r.drop)], "a drop's counter is a drop counter");
    return 0;
  }
  check(r.drop == dp::Counter::kCount, "no drop counter unless dropped");
  check(size >= 14, "accepted frames hold an Ethernet header");
  check(p.vlan_depth <= net::kMaxVlanDepth, "VLAN depth bounded");
  check(p.l3_off == 14 + 4 * p.vlan_depth, "l3 follows the tags");
  if (r.status == net::ParseStatus::kNotIp) {
    check(p.ethertype != net::kEthP_IPv4 && p.ethertype != net::kEthP_IPv6, "IP is not not-IP");
    return 0;
  }
  const size_t l3 = p.l3_off, end = l3 + p.ip_len;
  check(p.family == net::Family::kV4 || p.family == net::Family::kV6, "family set");
  check(p.saddr.family == p.family && p.daddr.family == p.family, "addresses of the family");
  check(p.ip_len >= (p.family == net::Family::kV4 ? 20 : 40), "ip_len covers the header");
  check(end <= size, "datagram inside the frame");
  check(!p.first_fragment || p.fragment, "first_fragment implies fragment");
  if (p.l4_off != 0) {
    check(p.l4_off > l3 && p.l4_off < end, "l4 inside the datagram");
    check(p.l4_off + size_t(p.l4_len) == end, "l4_len reaches the datagram end");
    check(!p.fragment || p.first_fragment, "no L4 in a non-first fragment");
    const size_t min_l4 = p.proto == net::kProtoTcp ? 20 : 8;
    check(p.l4_len >= min_l4, "the L4 header is whole");
  } else {
    check(p.sport == 0 && p.dport == 0 && p.l4_len == 0, "no ports without L4");
    const bool l4_proto = p.proto == net::kProtoTcp || p.proto == net::kProtoUdp ||
                          (p.proto == net::kProtoIcmp && p.family == net::Family::kV4) ||
                          (p.proto == net::kProtoIcmp6 && p.family == net::Family::kV6);
    check(!l4_proto || (p.fragment && !p.first_fragment), "TCP/UDP/ICMP parsed when present");
  }
  if (net::isIcmpError(p)) {
    const net::QuoteResult q = net::parseIcmpQuote(std::span<const uint8_t>(data, size), p);
    const net::IcmpQuote& iq = q.quote;
    if (q.status == net::QuoteStatus::kDrop) {
      check(q.drop < dp::Counter::kCount && dp::kCounterIsDrop[size_t(q.drop)],
            "a dropped quote names a drop counter");
    } else {
      check(q.drop == dp::Counter::kCount, "no drop counter unless the quote is dropped");
      check(iq.ip_off == p.l4_off + 8 && iq.end == end, "the quote follows the ICMP header");
    }
    if (q.status == net::QuoteStatus::kOk) {
      check(iq.proto == net::kProtoTcp || iq.proto == net::kProtoUdp, "quoted TCP or UDP");
      check(iq.l4_off > iq.ip_off && iq.l4_off + 8u <= iq.end, "the quoted ports are inside the quote");
      check(iq.saddr.family == p.family && iq.daddr.family == p.family, "the quote's family");
    }
  }
  return 0;
}
