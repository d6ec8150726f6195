// sluice-decap: the real-server side of TUN forwarding without tunnel devices. Attaches
// bpf/decap.bpf.o to one interface, decapsulating IPIP, IPv6-in-IPv6 (and the mixed
// families) and GUE packets whose inner destination is one of the given VIPs, stays in the
// foreground until SIGTERM/SIGINT, then detaches and exits 0. With --mss, SYN-ACKs sent
// from the VIPs get their MSS option lowered on egress of the same interface (a tc filter,
// which unlike the XDP link outlives a killed process: see docs/TUN.md). See docs/TUN.md.
//
//   sluice-decap --interface IF --vip ADDR [--vip ADDR ...] [--gue-port N]
//                [--mode native|generic|auto] [--mss N]
#include <getopt.h>
#include <net/if.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/log.h"
#include "decap/decap_program.h"

namespace {

using namespace sluice;

const log::Logger kLog("decap");

int usage(const char* why) {
  if (why) std::fprintf(stderr, "sluice-decap: %s\n", why);
  std::fprintf(stderr,
               "usage: sluice-decap --interface IF --vip ADDR [--vip ADDR ...] [--gue-port N]\n"
               "                    [--mode native|generic|auto] [--mss N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string ifname;
  std::vector<net::IpAddr> vips;
  uint16_t gue_port = 0;
  uint16_t mss = 0;
  io::XdpMode mode = io::XdpMode::kNativeOrGeneric;
  static const option opts[] = {{"interface", required_argument, nullptr, 'i'},
                                {"vip", required_argument, nullptr, 'v'},
                                {"gue-port", required_argument, nullptr, 'g'},
                                {"mode", required_argument, nullptr, 'm'},
                                {"mss", required_argument, nullptr, 's'},
                                {"help", no_argument, nullptr, 'h'},
                                {nullptr, 0, nullptr, 0}};
  for (int c; (c = getopt_long(argc, argv, "i:v:g:m:s:h", opts, nullptr)) != -1;) {
    const std::string arg = optarg ? optarg : "";
    switch (c) {
      case 'i':
        ifname = arg;
        break;
      case 'v': {
        auto a = net::IpAddr::parse(arg);
        if (!a) return usage(("--vip " + arg + ": not an IPv4 or IPv6 address").c_str());
        vips.push_back(*a);
        break;
      }
      case 'g': {
        char* end = nullptr;
        unsigned long n = std::strtoul(arg.c_str(), &end, 10);
        if (arg.empty() || *end || n == 0 || n > 65535)
          return usage(("--gue-port " + arg + ": not a port number (1-65535)").c_str());
        gue_port = uint16_t(n);
        break;
      }
      case 's': {
        // 536: the smallest MSS every IPv4 host must accept (RFC 9293); IPv6's 1220 is
        // higher, so a lower clamp would only break connections.
        char* end = nullptr;
        unsigned long n = std::strtoul(arg.c_str(), &end, 10);
        if (arg.empty() || *end || n < 536 || n > 65535)
          return usage(("--mss " + arg + ": not a segment size (536-65535)").c_str());
        mss = uint16_t(n);
        break;
      }
      case 'm':
        if (arg == "native") mode = io::XdpMode::kNative;
        else if (arg == "generic") mode = io::XdpMode::kGeneric;
        else if (arg == "auto") mode = io::XdpMode::kNativeOrGeneric;
        else return usage(("--mode " + arg + ": use native, generic or auto").c_str());
        break;
      case 'h':
        usage(nullptr);
        return 0;
      default:
        return usage(nullptr);
    }
  }
  if (optind < argc) return usage((std::string("unexpected argument ") + argv[optind]).c_str());
  if (ifname.empty()) return usage("--interface is required");
  if (vips.empty()) return usage("at least one --vip is required");
  const uint32_t ifindex = if_nametoindex(ifname.c_str());
  if (!ifindex) return usage(("--interface " + ifname + ": no such interface").c_str());

  // Signals are taken synchronously (sigwait) so the detach runs in ordinary code.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  auto prog = decap::DecapProgram::load();
  if (!prog) {
    kLog.error("{}", prog.error().message);
    return 1;
  }
  for (const auto& v : vips)
    if (Status st = (*prog)->addVip(v); !st) {
      kLog.error("{}", st.error().message);
      return 1;  // not attached yet: nothing to undo
    }
  if (Status st = (*prog)->setGuePort(gue_port); !st) {
    kLog.error("{}", st.error().message);
    return 1;
  }
  if (Status st = (*prog)->setMssClamp(mss); !st) {
    kLog.error("{}", st.error().message);
    return 1;
  }
  if (Status st = (*prog)->attach(ifindex, mode); !st) {
    kLog.error("{}", st.error().message);
    return 1;
  }
  std::string list;
  for (const auto& v : vips) list += (list.empty() ? "" : ", ") + v.str();
  kLog.info("decapsulating on {} ({} mode) for {}{}", ifname, (*prog)->attachedMode(), list,
            gue_port ? ", GUE on UDP port " + std::to_string(gue_port) : std::string());
  if ((*prog)->clampingMss())
    kLog.info("clamping the MSS of SYN-ACKs from the VIPs to {} on egress of {}", mss, ifname);
  int sig = 0;
  sigwait(&stop, &sig);
  auto c = (*prog)->counters();
  (*prog)->detach();  // the tc filter too: the kernel would leave it behind
  if (c)
    kLog.info("signal {}: detached from {}; decapsulated {}, not ours {}, malformed {}, "
              "SYN-ACKs clamped {}", sig, ifname, c->decapsulated, c->not_ours, c->malformed,
              c->mss_clamped);
  else
    kLog.info("signal {}: detached from {}", sig, ifname);
  return 0;
}
