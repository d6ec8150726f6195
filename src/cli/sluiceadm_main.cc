// sluiceadm's process entry: binds runSluiceadm to argv, the std streams, SLUICE_SOCKET
// and the Unix control socket.
#include <cstdlib>
#include <iostream>

#include "cli/sluiceadm.h"

int main(int argc, char** argv) {
  using namespace sluice;
  cli::CliEnv env{std::cin, std::cout, std::cerr, cli::kDefaultSocket, nullptr, "sluiceadm"};
  if (const char* s = std::getenv("SLUICE_SOCKET"); s && *s) env.socket_path = s;
  env.connect = [](const std::string& path) -> Result<std::unique_ptr<ctl::Transport>> {
    auto t = ctl::UnixTransport::connect(path);
    if (!t) return t.error();
    return std::unique_ptr<ctl::Transport>(std::move(*t));
  };
  std::vector<std::string> args(argv + 1, argv + argc);
  int rc = cli::runSluiceadm(std::move(args), env);
  std::cout.flush();
  return rc;
}
