// One measurement window. Attaches the counting sink (bench/bpf/sink.bpf.c) to the sink's
// veth, waits for the first delivered packet, lets the engine warm up, then reads at both
// edges of the window: the sink's counters, the CPU time of every task charged to the
// director, and /proc/stat. Prints one JSON object.
//
// Charged to the director: the director's NAPI kernel threads (named napi/DEV-ID after their
// veth, found by prefix) and every thread of every process in the director's network
// namespace, each by the first field of /proc/PID/task/TID/schedstat (ns on CPU). With
// threaded NAPI on every veth, that is where the director's receive, forwarding and
// user-space work runs, whichever CPU it lands on.
#include <bpf/bpf.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "../bpf/bench_abi.h"
#include "common.h"

namespace bench {

namespace {

struct Task {
  std::string comm;
  uint64_t ns = 0;
};

struct CpuTicks {
  uint64_t busy = 0, total = 0, steal = 0;
};

struct Snapshot {
  uint64_t t_ns = 0;
  uint64_t valid = 0, wrong = 0;
  std::vector<uint64_t> per_key;
  std::map<int, Task> tasks;  // tid -> task
  CpuTicks cpu;               // the director's CPU
  CpuTicks all;
};

std::string readFirstLine(const std::string& path) {
  std::ifstream f(path);
  std::string s;
  std::getline(f, s);
  return s;
}

bool isNumber(const char* s) { return *s && std::strspn(s, "0123456789") == std::strlen(s); }

uint64_t schedRuntime(const std::string& task_dir) {
  std::string s = readFirstLine(task_dir + "/schedstat");
  return s.empty() ? 0 : std::strtoull(s.c_str(), nullptr, 10);
}

class Charger {
 public:
  Charger(std::string netns_id, std::vector<std::string> napi_prefixes)
      : netns_id_(std::move(netns_id)), napi_(std::move(napi_prefixes)) {}

  void collect(std::map<int, Task>& out) const {
    DIR* d = opendir("/proc");
    if (!d) die("cannot list /proc");
    while (dirent* e = readdir(d)) {
      if (!isNumber(e->d_name)) continue;
      std::string pdir = std::string("/proc/") + e->d_name;
      std::string comm = readFirstLine(pdir + "/comm");
      bool napi = std::any_of(napi_.begin(), napi_.end(),
                              [&](const std::string& p) { return comm.rfind(p, 0) == 0; });
      char link[64] = {};
      ssize_t n = readlink((pdir + "/ns/net").c_str(), link, sizeof link - 1);
      bool in_ns = n > 0 && netns_id_ == link;
      if (!napi && !in_ns) continue;
      DIR* td = opendir((pdir + "/task").c_str());
      if (!td) continue;  // gone meanwhile
      while (dirent* t = readdir(td)) {
        if (!isNumber(t->d_name)) continue;
        std::string tdir = pdir + "/task/" + t->d_name;
        out[std::atoi(t->d_name)] = Task{readFirstLine(tdir + "/comm"), schedRuntime(tdir)};
      }
      closedir(td);
    }
    closedir(d);
  }

 private:
  std::string netns_id_;
  std::vector<std::string> napi_;
};

CpuTicks readCpu(const std::string& label) {
  std::ifstream f("/proc/stat");
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream in(line);
    std::string name;
    in >> name;
    if (name != label) continue;
    uint64_t v[10] = {};
    for (auto& x : v) in >> x;
    CpuTicks c;
    for (auto x : v) c.total += x;
    c.total -= v[8] + v[9];  // guest time is already inside user/nice
    c.busy = c.total - v[3] - v[4];
    c.steal = v[7];
    return c;
  }
  die("no %s line in /proc/stat", label.c_str());
}

void readCounts(int map_fd, Snapshot& s) {
  static int ncpu = libbpf_num_possible_cpus();
  std::vector<uint64_t> vals(static_cast<size_t>(ncpu));
  s.per_key.assign(BENCH_SINK_KEYS, 0);
  s.valid = s.wrong = 0;
  for (uint32_t k = 0; k < BENCH_SINK_KEYS; ++k) {
    if (bpf_map_lookup_elem(map_fd, &k, vals.data())) die("cannot read the sink counters");
    uint64_t sum = 0;
    for (auto v : vals) sum += v;
    s.per_key[k] = sum;
    if (k == BENCH_SINK_WRONG) s.wrong += sum;
    else s.valid += sum;
  }
}

void sleepUntil(uint64_t t_ns) {
  timespec ts{time_t(t_ns / 1000000000ull), long(t_ns % 1000000000ull)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {}
}

std::vector<std::string> splitComma(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string x;
  while (std::getline(in, x, ','))
    if (!x.empty()) out.push_back(x);
  return out;
}

std::string jsonEscape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (uint8_t(c) >= 0x20) o += c;
  }
  return o;
}

}  // namespace

// measure --bpf-dir D --iface SINK_IF --netns /run/netns/DIR --napi PFX[,PFX] --cpu N
//         [--warmup S] [--window S] [--first-timeout S] [--ready FILE]
int runMeasure(const Args& a) {
  std::string iface = a.str("iface");
  bench_sink_state st{};
  Mac mac = ifaceMac(iface);
  std::memcpy(st.mac, mac.data(), 6);
  bpf_object* obj = loadObject(a.str("bpf-dir"), "sink", &st, sizeof st);
  int counts_fd = mapFd(obj, "sink_counts");

  struct stat ns {};
  std::string ns_path = a.str("netns");
  if (stat(ns_path.c_str(), &ns)) die("cannot stat %s", ns_path.c_str());
  Charger charger("net:[" + std::to_string(ns.st_ino) + "]", splitComma(a.str("napi")));
  std::string cpu_label = "cpu" + a.str("cpu", "0");
  double warmup = a.real("warmup", 1), window = a.real("window", 4);

  bpf_link* link = attachXdp(program(obj, "bench_sink"), iface);
  signalReady(a.str("ready", ""));

  Snapshot s0, s1;
  uint64_t give_up = nowNs() + uint64_t(a.real("first-timeout", 5) * 1e9);
  for (;;) {
    readCounts(counts_fd, s0);
    if (s0.valid > 0) break;
    if (nowNs() > give_up) {
      std::printf("{\"error\": \"nothing delivered to the sink\", \"wrong\": %llu}\n",
                  (unsigned long long)s0.wrong);
      bpf_link__destroy(link);
      return 3;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  uint64_t t_start = nowNs() + uint64_t(warmup * 1e9);
  auto take = [&](Snapshot& s, uint64_t at) {
    sleepUntil(at);
    s.t_ns = nowNs();
    readCounts(counts_fd, s);
    s.cpu = readCpu(cpu_label);
    s.all = readCpu("cpu");
    charger.collect(s.tasks);
  };
  take(s0, t_start);
  take(s1, t_start + uint64_t(window * 1e9));
  bpf_link__destroy(link);

  double secs = double(s1.t_ns - s0.t_ns) / 1e9;
  uint64_t delivered = s1.valid - s0.valid;
  uint64_t cpu_ns = 0;
  std::vector<std::pair<uint64_t, std::string>> charged;
  for (const auto& [tid, t] : s1.tasks) {
    auto it = s0.tasks.find(tid);
    uint64_t d = t.ns - (it != s0.tasks.end() ? std::min(it->second.ns, t.ns) : 0);
    cpu_ns += d;
    charged.emplace_back(d, t.comm);
  }
  std::sort(charged.rbegin(), charged.rend());
  double cores = double(cpu_ns) / 1e9 / secs;
  auto frac = [](const CpuTicks& x, const CpuTicks& y, uint64_t CpuTicks::*f) {
    uint64_t t = y.total - x.total;
    return t ? double(y.*f - x.*f) / double(t) : 0.0;
  };

  std::printf("{\"delivered\": %llu, \"wrong\": %llu, \"seconds\": %.4f, \"pps\": %.0f, "
              "\"cpu_ns\": %llu, \"director_cores\": %.4f, \"pps_per_core\": %.0f, "
              "\"ns_per_packet\": %.1f, \"director_cpu_busy\": %.3f, \"director_cpu_steal\": %.3f, "
              "\"machine_busy\": %.3f, \"t0_ns\": %llu, \"t1_ns\": %llu, \"per_dst_last_octet\": {",
              (unsigned long long)delivered, (unsigned long long)(s1.wrong - s0.wrong), secs,
              double(delivered) / secs, (unsigned long long)cpu_ns, cores,
              cpu_ns ? double(delivered) / (double(cpu_ns) / 1e9) : 0.0,
              delivered ? double(cpu_ns) / double(delivered) : 0.0,
              frac(s0.cpu, s1.cpu, &CpuTicks::busy), frac(s0.cpu, s1.cpu, &CpuTicks::steal),
              frac(s0.all, s1.all, &CpuTicks::busy), (unsigned long long)s0.t_ns,
              (unsigned long long)s1.t_ns);
  const char* sep = "";
  for (uint32_t k = 0; k < 256; ++k) {
    uint64_t d = s1.per_key[k] - s0.per_key[k];
    if (!d) continue;
    std::printf("%s\"%u\": %llu", sep, k, (unsigned long long)d);
    sep = ", ";
  }
  std::printf("}, \"charged\": [");
  sep = "";
  for (size_t i = 0; i < charged.size() && i < 8; ++i) {
    if (!charged[i].first) break;
    std::printf("%s{\"comm\": \"%s\", \"cores\": %.4f}", sep, jsonEscape(charged[i].second).c_str(),
                double(charged[i].first) / 1e9 / secs);
    sep = ", ";
  }
  std::printf("]}\n");
  bpf_object__close(obj);
  return 0;
}

}  // namespace bench
