// sluiceadm as a function: arguments and streams in, exit status out. main() only binds
// it to the process (argv, std streams, SLUICE_SOCKET, the Unix socket); tests bind it to
// string streams and an in-process daemon. Every failure is one line on stderr (ipvsadm's
// wording where ipvsadm has one) and exits as ipvsadm 1.31 would (kExit* below), because
// scripts written for ipvsadm test those numbers.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "cli/args.h"
#include "common/result.h"
#include "ctl/client.h"

namespace sluice::cli {

inline constexpr const char* kDefaultSocket = "/run/sluice/sluiced.sock";

// Exit statuses, as ipvsadm.c (1.31) has them.
inline constexpr int kExitOk = 0;
// A listing could not be had (-L of a service that does not exist, -Lc, --timeout, -S,
// --counters): ipvsadm's list_*() exit(1).
inline constexpr int kExitListFailed = 1;
// The command line was refused by sluiceadm's own checks (ipvsadm's fail(2, ...)), a -R
// input had malformed lines (nothing applied), or sluiced could not be reached (ipvsadm:
// "Can't initialize ipvs").
inline constexpr int kExitRefused = 2;
// sluiced refused a change, or -R applied its rules but sluiced refused some (ipvsadm: the
// kernel's error, returned as -1 from main).
inline constexpr int kExitDaemonRefused = 255;
// What popt itself rejects: no command first, an unknown option, a missing or unwanted
// argument (ipvsadm: tryhelp_exit(-1), or -1 from main).
inline constexpr int kExitUsage = 255;

struct CliEnv {
  std::istream& in;   // -R reads rules from here
  std::ostream& out;
  std::ostream& err;
  std::string socket_path = kDefaultSocket;  // overridden by --socket
  // Opens a transport to the daemon; called once, only for commands that need it.
  std::function<Result<std::unique_ptr<ctl::Transport>>(const std::string& path)> connect;
  std::string program = "sluiceadm";
};

// `args` excludes the program name. `--socket PATH` / `--socket=PATH` may appear anywhere.
int runSluiceadm(std::vector<std::string> args, CliEnv& env);

// Carries out one parsed command (not help/version/restore) against the daemon.
Status execute(const Command& c, ctl::Client& client, std::ostream& out);

// -R: every rule of `in` is parsed first; if any is malformed (or not a rule, like -L),
// each such line is reported and nothing is applied (kExitRefused). Otherwise the rules are
// applied in order, and one sluiced refuses is reported and skipped: the others still apply
// (kExitDaemonRefused if any was refused). Each report is "line N: reason" on `err`.
int restore(std::istream& in, ctl::Client& client, const std::string& program, std::ostream& err);

std::string usage(const std::string& program);

}  // namespace sluice::cli
