// vip_hold: a stand-in for sluiced's cluster part in the routing labs (tests/lab/vip_lab.sh).
// It owns a VipDevice, puts the VIPs named on the command line on it, prints "ready" and
// waits: SIGUSR1 adds the --extra VIPs, SIGUSR2 removes them, SIGTERM/SIGINT exit. Killing it
// with SIGKILL is the "director crashed" case: the kernel removes the device.
//
//   vip_hold DEVICE VIP... [--extra VIP]...
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cluster/vip_device.h"

using sluice::cluster::VipDevice;
using sluice::net::IpAddr;

namespace {

int usage() {
  std::fprintf(stderr, "usage: vip_hold DEVICE VIP... [--extra VIP]...\n");
  return 2;
}

bool apply(VipDevice& d, const std::vector<IpAddr>& vips, bool add) {
  bool ok = true;
  for (const auto& v : vips) {
    auto st = add ? d.add(v) : d.remove(v);
    if (!st) {
      std::fprintf(stderr, "vip_hold: %s\n", st.error().message.c_str());
      ok = false;
    } else {
      std::printf("%s %s\n", add ? "added" : "removed", v.str().c_str());
    }
  }
  std::fflush(stdout);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return usage();
  std::vector<IpAddr> vips, extra;
  for (int i = 2; i < argc; ++i) {
    bool is_extra = std::strcmp(argv[i], "--extra") == 0;
    if (is_extra && ++i >= argc) return usage();
    auto a = IpAddr::parse(argv[i]);
    if (!a) {
      std::fprintf(stderr, "vip_hold: '%s' is not an IP address\n", argv[i]);
      return 2;
    }
    (is_extra ? extra : vips).push_back(*a);
  }
  // Block the signals before anything else so none is lost between "ready" and sigwait.
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGUSR1, SIGUSR2, SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
  sigprocmask(SIG_BLOCK, &set, nullptr);

  auto dev = VipDevice::create(argv[1]);
  if (!dev) {
    std::fprintf(stderr, "vip_hold: %s\n", dev.error().message.c_str());
    return 1;
  }
  if (!apply(**dev, vips, true)) return 1;
  std::printf("ready\n");
  std::fflush(stdout);
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) return 1;
    if (sig == SIGUSR1) apply(**dev, extra, true);
    else if (sig == SIGUSR2) apply(**dev, extra, false);
    else return 0;
  }
}
