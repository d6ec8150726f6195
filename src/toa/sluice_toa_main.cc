// sluice-toa: the real-server side of FULLNAT's client address without toa.ko. Attaches
// bpf/toa.bpf.o (cgroup sockops) to one cgroup v2 directory, where it records the client
// address the director put in each connection's TOA option, and answers lookups for it on a
// unix socket, where libsluice_toa.so (LD_PRELOAD) asks on behalf of accept() and
// getpeername(). Stays in the foreground until SIGTERM/SIGINT, then detaches, removes the
// socket file and exits 0. See docs/TOA.md.
//
//   sluice-toa --cgroup DIR [--socket PATH]
#include <getopt.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "common/log.h"
#include "toa/lookup_server.h"
#include "toa/toa_program.h"

namespace {

using namespace sluice;

const log::Logger kLog("toa");
constexpr char kDefaultSocket[] = "/run/sluice-toa.sock";

int usage(const char* why) {
  if (why) std::fprintf(stderr, "sluice-toa: %s\n", why);
  std::fprintf(stderr,
               "usage: sluice-toa --cgroup DIR [--socket PATH]\n"
               "  --cgroup DIR   cgroup v2 directory whose TCP servers receive FULLNAT\n"
               "                 connections carrying the client address (TOA option 254)\n"
               "  --socket PATH  where libsluice_toa.so asks (default %s;\n"
               "                 the library reads $SLUICE_TOA_SOCKET)\n",
               kDefaultSocket);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string cgroup;
  std::string socket_path = kDefaultSocket;
  static const option opts[] = {{"cgroup", required_argument, nullptr, 'c'},
                                {"socket", required_argument, nullptr, 's'},
                                {"help", no_argument, nullptr, 'h'},
                                {nullptr, 0, nullptr, 0}};
  for (int c; (c = getopt_long(argc, argv, "c:s:h", opts, nullptr)) != -1;) {
    switch (c) {
      case 'c':
        cgroup = optarg;
        break;
      case 's':
        socket_path = optarg;
        break;
      case 'h':
        usage(nullptr);
        return 0;
      default:
        return usage(nullptr);
    }
  }
  if (optind < argc) return usage((std::string("unexpected argument ") + argv[optind]).c_str());
  if (cgroup.empty()) return usage("--cgroup is required");

  // Signals arrive on a signalfd the server polls beside its sockets, so the detach and the
  // socket file's removal run in ordinary code.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  sigprocmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);
  const int sig_fd = signalfd(-1, &stop, SFD_CLOEXEC);
  if (sig_fd < 0) {
    kLog.error("signalfd: {}", std::strerror(errno));
    return 1;
  }

  auto prog = toa::ToaProgram::load();
  if (!prog) {
    kLog.error("{}", prog.error().message);
    return 1;
  }
  toa::ToaProgram& p = **prog;
  auto server = toa::LookupServer::listen(socket_path, [&p](const toa::Tuple& t) {
    return p.lookup(t);
  });
  if (!server) {
    kLog.error("{}", server.error().message);
    return 1;
  }
  if (Status st = p.attach(cgroup); !st) {
    kLog.error("{}", st.error().message);
    return 1;  // the server's destructor removes the socket file
  }
  kLog.info("reading TOA for TCP servers in cgroup {}; answering on {}", cgroup, socket_path);
  Status served = (*server)->serve(sig_fd);
  signalfd_siginfo si{};
  const int sig = read(sig_fd, &si, sizeof(si)) == ssize_t(sizeof(si)) ? int(si.ssi_signo) : 0;
  auto c = p.counters();
  p.detach();
  const toa::LookupStats s = (*server)->stats();
  server->reset();  // removes the socket file
  if (!served) kLog.error("{}", served.error().message);
  if (c)
    kLog.info("signal {}: detached from {}; TOA stored {}, absent {}, malformed {}, "
              "not stored (map full) {}, evicted {}, removed at close {}; lookups found {}, "
              "unknown {}, bad requests {}, dropped connections {}",
              sig, cgroup, c->stored, c->absent, c->malformed, c->full, c->evicted,
              c->removed, s.found, s.unknown, s.bad_requests, s.dropped);
  else
    kLog.info("signal {}: detached from {}; {}", sig, cgroup, c.error().message);
  return served ? 0 : 1;
}
