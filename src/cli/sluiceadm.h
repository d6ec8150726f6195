// sluiceadm as a function: arguments and streams in, exit status out. main() only binds
// it to the process (argv, std streams, SLUICE_SOCKET, the Unix socket); tests bind it to
// string streams and an in-process daemon. Exit status: 0 on success, 2 on any refusal
// or failure, with one line on stderr (ipvsadm's wording where ipvsadm has one).
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

// -R: every rule of `in` is parsed first (nothing is applied if one is malformed), then
// applied in order, stopping at the first the daemon refuses. Errors: "line N: reason".
Status restore(std::istream& in, ctl::Client& client, const std::string& program);

std::string usage(const std::string& program);

}  // namespace sluice::cli
