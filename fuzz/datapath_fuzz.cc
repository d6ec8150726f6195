// Fuzzes the whole packet step: arbitrary frames (split from the input at 0xff 0xfe marks,
// so one input is a sequence that can build up connection state) through
// dp::Datapath::process for a director with TCP and UDP services over IPv4 and IPv6,
// persistence on one of them, and a FULLNAT service (with TOA, so segments grow). Checks
// what the data path promises: no crash, every drop names a drop counter, a DR frame keeps
// its length and only its MACs change, whatever the step rewrote or grew (NAT, FULLNAT, TOA)
// still parses as a well-formed packet, and the real servers' counts never go negative.
#include <arpa/inet.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "common/clock.h"
#include "conn/conn_table.h"
#include "conn/dest_counts.h"
#include "daemon/plane.h"
#include "dp/datapath.h"
#include "dp/dest_table.h"
#include "net/packet.h"
#include "svc/service_table.h"
#include "svc/stats.h"

namespace {

using namespace sluice;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "datapath_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

struct Director {
  Director()
      : plane(clock, daemon::PlaneLimits{16, 64, 1024, conn::ConnTable::kDefaultSeed, 1, 0,
                                         laddr::PortRange{1024, 1055}}) {
    add("10.0.2.100", 80, svc::Proto::kTcp, "rr", false);
    add("10.0.2.100", 53, svc::Proto::kUdp, "sh", false);
    add("10.0.2.101", 0, svc::Proto::kTcp, "wlc", true);
    add("2001:db8:2::100", 80, svc::Proto::kTcp, "mh", false);
    add("10.0.2.102", 80, svc::Proto::kTcp, "rr", false, svc::FwdMethod::kFullNat);
    add("10.0.2.102", 53, svc::Proto::kUdp, "rr", false, svc::FwdMethod::kFullNat);
    add("2001:db8:2::102", 80, svc::Proto::kTcp, "rr", false, svc::FwdMethod::kFullNat);
    const net::MacAddr smac{2, 0, 0, 0, 2, 0x10};
    auto snap = table.snapshot();
    for (const auto& s : snap->services())
      for (const auto& d : s->dest_rt) {
        const net::MacAddr dmac{2, 0, 0, 0, 2, uint8_t(d.dest_id)};
        // Every other dest unresolved: both outcomes get exercised.
        dests.write(d.dest_id, d.dest_id % 2 ? dp::makeDestRecord(d.cfg.ep, uint8_t(d.cfg.fwd))
                                             : dp::makeDestRecord(d.cfg.ep, uint8_t(d.cfg.fwd),
                                                                  &smac, &dmac, 7));
      }
  }
  void add(const char* vip, uint16_t port, svc::Proto proto, const char* sched, bool persistent,
           svc::FwdMethod fwd = svc::FwdMethod::kDr) {
    svc::ServiceConfig s;
    s.key = svc::ServiceKey{proto, *net::IpAddr::parse(vip), port};
    s.scheduler = sched;
    s.persistent = persistent;
    s.persistence_prefix = s.key.addr.isV6() ? 128 : 24;
    (void)table.addService(s);
    bool v6 = s.key.addr.isV6();
    for (int i = 1; i <= 3; ++i) {
      svc::DestConfig d;
      d.ep.addr = *net::IpAddr::parse(v6 ? "2001:db8:2::10" : "10.0.2.10");
      d.ep.addr.bytes[v6 ? 15 : 3] = uint8_t(0x10 + i);
      d.ep.port = port;
      d.weight = i == 3 ? 0 : i;  // one quiescent server
      d.fwd = fwd;
      (void)table.addDest(s.key, d);
    }
    if (fwd == svc::FwdMethod::kFullNat)  // a small port range: exhaustion gets exercised
      (void)table.addLaddr(s.key, svc::LocalAddress{*net::IpAddr::parse(v6 ? "2001:db8:3::1" : "10.0.3.1"), ""});
  }

  ManualClock clock;
  daemon::Plane plane;  // the daemon's own assembly
  conn::DestAccounting& accounting = plane.accounting();
  svc::ServiceTable& table = plane.services();
  dp::DestTable& dests = plane.dests();
  conn::ConnTable& conns = plane.conns();
  dp::Datapath& dp = plane.datapath();
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Director* d = new Director();  // state carries across inputs, as in a real run
  auto snap = d->table.snapshot();
  size_t start = 0;
  for (size_t i = 0; i <= size; ++i) {
    bool end = i == size || (i + 1 < size && data[i] == 0xff && data[i + 1] == 0xfe);
    if (!end) continue;
    std::vector<uint8_t> frame(data + start, data + i);
    std::vector<uint8_t> before = frame;
    const size_t n = frame.size();
    constexpr size_t kRoom = 64;  // as an AF_XDP frame has: TOA may grow a segment
    frame.resize(n + kRoom);
    dp::Verdict v = d->dp.process(std::span<uint8_t>(frame.data(), n), *snap, d->clock.now(), kRoom);
    check(v.len <= n + kRoom, "a grown frame stays within its buffer");
    frame.resize(v.len ? v.len : n);
    const net::ParseResult in = net::parseFrame(before);
    // DR services only: their frames keep everything but the MACs.
    const bool dr = in.status == net::ParseStatus::kOk &&
                    (in.pkt.daddr == *net::IpAddr::parse("10.0.2.100") ||
                     in.pkt.daddr == *net::IpAddr::parse("10.0.2.101") ||
                     in.pkt.daddr == *net::IpAddr::parse("2001:db8:2::100"));
    if (v.action == dp::Action::kDrop) {
      check(v.reason < dp::Counter::kCount && dp::kCounterIsDrop[size_t(v.reason)],
            "a drop names a drop counter");
      check(frame == before, "a dropped frame is untouched");
    } else if (v.action == dp::Action::kPass) {
      check(frame == before, "a passed frame is untouched");
    } else if (v.action == dp::Action::kLocal) {
      check(std::memcmp(frame.data(), before.data(), 12) == 0,
            "a frame for the local stack keeps its MACs");
    } else if (dr && v.len == 0) {
      check(frame.size() == before.size() &&
                std::memcmp(frame.data() + 12, before.data() + 12, frame.size() - 12) == 0,
            "DR changes nothing but the MACs");
    } else {
      check(net::parseFrame(frame).status == net::ParseStatus::kOk,
            "a rewritten frame is still a well-formed packet");
    }
    d->clock.advance(kSecond / 10);
    i += 1;
    start = i + 1;
  }
  for (uint32_t id = 0; id < 64; ++id) {
    sl_dest_counts c = d->accounting.read(id);
    check(c.active < (1u << 30) && c.inactive < (1u << 30) && c.persist < (1u << 30),
          "connection counts never wrap below zero");
  }
  d->conns.expireSome(d->clock.now(), 64);
  return 0;
}
