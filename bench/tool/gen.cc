// The traffic generator (subcommand `gen`): builds the template frame, picks how to send it
// (--generator live|packet|auto, see gen.h), runs until --seconds or SIGTERM, and prints one
// JSON object: sent, seconds, pps, calls, spans (what bench/report.py reads), and which
// generator ran and why. `auto` tries live frames first and falls back to AF_PACKET when the
// kernel refuses them; `--probe 1` only makes that choice and prints it, so bench/run.sh can
// decide once per run and record it.
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>

#include "gen.h"

namespace bench {

namespace {

void buildFrame(bench_gen_state& s, const Mac& dmac, const Mac& smac, uint32_t saddr,
                uint32_t daddr, uint16_t dport) {
  uint8_t* f = s.frame;
  std::memset(f, 0, sizeof s.frame);
  auto* eth = reinterpret_cast<ethhdr*>(f);
  std::memcpy(eth->h_dest, dmac.data(), 6);
  std::memcpy(eth->h_source, smac.data(), 6);
  eth->h_proto = htons(ETH_P_IP);
  auto* ip = reinterpret_cast<iphdr*>(f + sizeof(ethhdr));
  ip->version = 4;
  ip->ihl = 5;
  ip->tot_len = htons(BENCH_FRAME_LEN - sizeof(ethhdr));
  ip->ttl = 64;
  ip->protocol = IPPROTO_UDP;
  ip->saddr = htonl(saddr);
  ip->daddr = htonl(daddr);  // checksum: computed per packet
  auto* udp = reinterpret_cast<udphdr*>(f + sizeof(ethhdr) + sizeof(iphdr));
  udp->source = htons(1024);
  udp->dest = htons(dport);
  udp->len = htons(BENCH_FRAME_LEN - sizeof(ethhdr) - sizeof(iphdr));
  udp->check = 0;  // IPv4 UDP without a checksum is valid
  std::memcpy(f + sizeof(ethhdr) + sizeof(iphdr) + sizeof(udphdr), "sluice-bench", 12);
}

double cpuSeconds() {  // this process, user + system: what the generator's core spent
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

uint64_t txDropped(const std::string& iface) {
  std::ifstream f("/sys/class/net/" + iface + "/statistics/tx_dropped");
  uint64_t v = 0;
  f >> v;
  return v;
}

std::string packetName(const std::string& io) {
  return io == "ring" ? "AF_PACKET TX_RING" : io == "xsk" ? "AF_XDP TX (copy mode)" : "AF_PACKET sendmmsg";
}

}  // namespace

// gen --bpf-dir D --iface IF --dmac MAC --src IP --dst IP --dport N --mode random|cycle|unique
//     [--flows N] [--seconds S] [--generator auto|live|packet] [--packet-io mmsg|ring|xsk]
//     [--batch N] [--probe 1]
int runGen(const Args& a) {
  GenSetup g;
  g.iface = a.str("iface");
  bench_gen_state& s = g.state;
  std::string mode = a.str("mode", "random");
  if (mode == "random") s.mode = BENCH_GEN_RANDOM;
  else if (mode == "cycle") s.mode = BENCH_GEN_CYCLE;
  else if (mode == "unique") s.mode = BENCH_GEN_UNIQUE;
  else die("--mode must be random, cycle or unique");
  s.nflows = uint32_t(a.num("flows", 1024));
  if (s.nflows == 0 || s.nflows > 60000) die("--flows must be 1..60000");
  s.port_base = 1024;
  s.saddr_base = parseIpv4(a.str("src"));
  // New-flow mode starts at a random point of its 2^32-flow space, so flows left in the
  // director's table by an earlier run are not met again.
  s.ctr = s.mode == BENCH_GEN_UNIQUE ? (std::random_device{}() & 0xffffffffu) : 0;
  buildFrame(s, parseMac(a.str("dmac")), ifaceMac(g.iface), s.saddr_base, parseIpv4(a.str("dst")),
             uint16_t(a.num("dport", 5000)));
  std::string which = a.str("generator", "auto");
  if (which != "auto" && which != "live" && which != "packet")
    die("--generator must be auto, live or packet");
  std::string io = a.str("packet-io", "mmsg");
  if (io != "mmsg" && io != "ring" && io != "xsk") die("--packet-io must be mmsg, ring or xsk");
  uint64_t batch = a.num("batch", 256);
  if (batch == 0 || batch > 4096) die("--batch must be 1..4096");
  bool probe = a.num("probe", 0) != 0;
  double seconds = a.real("seconds", 5);

  installStopHandlers();
  uint64_t start = nowNs();
  g.deadline_ns = start + uint64_t(seconds * 1e9);
  uint64_t dropped0 = txDropped(g.iface);
  GenResult r;
  std::string name = "live XDP frames (BPF_PROG_TEST_RUN)", note;
  if (which != "packet") {
    GenOutcome o = runLiveGen(a.str("bpf-dir"), g, r, probe);
    if (o.refused) {
      if (which == "live") die("BPF_PROG_TEST_RUN (live frames) refused: %s", std::strerror(o.err));
      note = std::string("live XDP frames refused: ") + std::strerror(o.err);
      which = "packet";
    }
  }
  if (which == "packet") {
    name = packetName(io);
    if (!probe) runPacketGen(g, io, uint32_t(batch), r);
  }
  if (probe && which == "packet") {
    // The twin must write what gen.bpf.c writes, in every mode, before it stands in for it.
    for (uint32_t m : {BENCH_GEN_RANDOM, BENCH_GEN_CYCLE, BENCH_GEN_UNIQUE}) {
      bench_gen_state t = s;
      t.mode = m;
      t.nflows = 7;  // cycle: wraps within the check
      t.ctr = m == BENCH_GEN_UNIQUE ? BENCH_UNIQUE_PORTS - 100 : 0;  // unique: crosses an address
      if (std::string e = checkTwin(a.str("bpf-dir"), t, 300); !e.empty())
        die("the AF_PACKET generator's frames do not match gen.bpf.c's (mode %u): %s", m, e.c_str());
    }
    note += note.empty() ? "" : "; ";
    note += "frames checked equal to gen.bpf.c's";
  }
  if (probe) {
    std::printf("{\"generator\": \"%s\", \"kind\": \"%s\", \"note\": \"%s\"}\n", name.c_str(),
                which == "packet" ? "packet" : "live", note.c_str());
    return 0;
  }
  double el = double(nowNs() - start) / 1e9, cpu = cpuSeconds();
  std::printf("{\"generator\": \"%s\", \"note\": \"%s\", \"sent\": %llu, \"dropped\": %llu, "
              "\"seconds\": %.3f, \"pps\": %.0f, \"cpu_s\": %.3f, \"pps_per_cpu_s\": %.0f, "
              "\"calls\": %llu, \"spans\": [",
              name.c_str(), note.c_str(), (unsigned long long)r.sent,
              (unsigned long long)(txDropped(g.iface) - dropped0), el, double(r.sent) / el, cpu,
              cpu > 0 ? double(r.sent) / cpu : 0.0, (unsigned long long)r.calls);
  for (size_t i = 0; i < r.spans.size(); ++i)
    std::printf("%s[%llu, %llu, %llu]", i ? ", " : "", (unsigned long long)r.spans[i].t0,
                (unsigned long long)r.spans[i].t1, (unsigned long long)r.spans[i].n);
  std::printf("]}\n");
  return 0;
}

}  // namespace bench
