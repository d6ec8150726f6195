// Fuzzes the whole packet step: arbitrary frames (split from the input at 0xff 0xfe marks,
// so one input is a sequence that can build up connection state) through
// dp::Datapath::process for a director with TCP and UDP services over IPv4 and IPv6,
// persistence on one of them. Checks what the data path promises: no crash, every drop
// names a drop counter, a transmitted frame keeps its length and only its MACs change
// (DR), and the real servers' counts never go negative (wrap).
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
      : plane(clock, daemon::PlaneLimits{16, 64, 1024}) {
    add("10.0.2.100", 80, svc::Proto::kTcp, "rr", false);
    add("10.0.2.100", 53, svc::Proto::kUdp, "sh", false);
    add("10.0.2.101", 0, svc::Proto::kTcp, "wlc", true);
    add("2001:db8:2::100", 80, svc::Proto::kTcp, "mh", false);
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
  void add(const char* vip, uint16_t port, svc::Proto proto, const char* sched, bool persistent) {
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
      (void)table.addDest(s.key, d);
    }
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
    dp::Verdict v = d->dp.process(frame, *snap, d->clock.now());
    check(frame.size() == before.size(), "the frame keeps its length");
    if (v.action == dp::Action::kDrop) {
      check(v.reason < dp::Counter::kCount && dp::kCounterIsDrop[size_t(v.reason)],
            "a drop names a drop counter");
      check(frame == before, "a dropped frame is untouched");
    } else if (v.action == dp::Action::kPass) {
      check(frame == before, "a passed frame is untouched");
    } else if (v.action == dp::Action::kLocal) {
      check(std::memcmp(frame.data(), before.data(), 12) == 0,
            "a frame for the local stack keeps its MACs");
    } else {
      check(frame.size() >= 12 && std::memcmp(frame.data() + 12, before.data() + 12,
                                              frame.size() - 12) == 0,
            "DR changes nothing but the MACs");
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
