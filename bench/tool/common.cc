// See common.h.
#include "common.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <net/if.h>
#include <signal.h>
#include <time.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace bench {

std::atomic<bool> g_stop{false};

void die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::fputs("sluice-bench: ", stderr);
  std::vfprintf(stderr, fmt, ap);
  std::fputc('\n', stderr);
  va_end(ap);
  std::exit(1);
}

Args::Args(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0 || i + 1 >= argc) die("expected --name value, got '%s'", argv[i]);
    kv_.emplace_back(k.substr(2), argv[++i]);
  }
}

std::string Args::str(const char* name, const char* fallback) const {
  for (const auto& [k, v] : kv_)
    if (k == name) return v;
  if (!fallback) die("missing --%s", name);
  return fallback;
}

uint64_t Args::num(const char* name, uint64_t fallback) const {
  std::string s = str(name, "");
  if (s.empty()) return fallback;
  char* e = nullptr;
  uint64_t v = std::strtoull(s.c_str(), &e, 0);
  if (*e) die("--%s: not a number: %s", name, s.c_str());
  return v;
}

double Args::real(const char* name, double fallback) const {
  std::string s = str(name, "");
  if (s.empty()) return fallback;
  char* e = nullptr;
  double v = std::strtod(s.c_str(), &e);
  if (*e) die("--%s: not a number: %s", name, s.c_str());
  return v;
}

Mac parseMac(const std::string& s) {
  Mac m{};
  unsigned b[6];
  if (std::sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
    die("bad MAC address '%s'", s.c_str());
  for (int i = 0; i < 6; ++i) m[i] = uint8_t(b[i]);
  return m;
}

Mac ifaceMac(const std::string& ifname) {
  // /sys/class/net is this namespace's view under `ip netns exec`.
  std::ifstream f("/sys/class/net/" + ifname + "/address");
  std::string s;
  if (!(f >> s)) die("cannot read the MAC address of %s", ifname.c_str());
  return parseMac(s);
}

uint32_t ifaceIndex(const std::string& ifname) {
  uint32_t i = if_nametoindex(ifname.c_str());
  if (!i) die("no interface %s in this namespace", ifname.c_str());
  return i;
}

uint32_t parseIpv4(const std::string& s) {
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) die("bad IPv4 address '%s'", s.c_str());
  return ntohl(a.s_addr);
}

uint64_t nowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

bpf_object* loadObject(const std::string& obj_dir, const char* name, const void* state, size_t size) {
  std::string path = obj_dir + "/" + name + ".bpf.o";
  bpf_object* obj = bpf_object__open_file(path.c_str(), nullptr);
  if (!obj) die("cannot open %s: %s", path.c_str(), std::strerror(errno));
  if (state) {
    bpf_map* bss = nullptr;
    bpf_map* m;
    bpf_object__for_each_map(m, obj) {
      const char* n = bpf_map__name(m);
      size_t l = std::strlen(n);
      if (l >= 4 && std::strcmp(n + l - 4, ".bss") == 0) bss = m;
    }
    if (!bss) die("%s has no .bss section for its settings", path.c_str());
    if (int e = bpf_map__set_initial_value(bss, state, size); e)
      die("%s: settings do not fit its .bss (%s)", path.c_str(), std::strerror(-e));
  }
  if (int e = bpf_object__load(obj); e) die("cannot load %s: %s", path.c_str(), std::strerror(-e));
  return obj;
}

bpf_program* program(bpf_object* obj, const char* name) {
  bpf_program* p = bpf_object__find_program_by_name(obj, name);
  if (!p) die("BPF program %s not found", name);
  return p;
}

int mapFd(bpf_object* obj, const char* name) {
  int fd = bpf_object__find_map_fd_by_name(obj, name);
  if (fd < 0) die("BPF map %s not found", name);
  return fd;
}

bpf_link* attachXdp(bpf_program* prog, const std::string& ifname) {
  bpf_link* l = bpf_program__attach_xdp(prog, int(ifaceIndex(ifname)));
  if (!l)
    die("cannot attach XDP to %s: %s (another XDP program still attached?)", ifname.c_str(),
        std::strerror(errno));
  return l;
}

static void onSignal(int) { g_stop.store(true); }

void installStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

void signalReady(const std::string& file) {
  if (file.empty()) return;
  std::ofstream f(file);
  if (!f) die("cannot create %s", file.c_str());
}

}  // namespace bench
