// Config fuzzer: arbitrary bytes through loadString as keepalived.conf, as ldirectord.cf and
// auto-detected. Must never crash, hang or grow without bound; loadString never opens a
// file (an include there is an error), so no input reaches the file system. Every diag must
// format, and a config without errors must hold only what the parsers promise (resolved
// services, each real server with a family).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/load.h"

using namespace sluice;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (config::Format f : {config::Format::kAuto, config::Format::kKeepalived, config::Format::kLdirectord}) {
    config::Config c = config::loadString(text, "fuzz.conf", f);
    for (const config::Diag& d : c.diags)
      if (config::formatDiag(d).empty()) abort();
    if (c.files.size() > 1) abort();  // nothing may have been included
    if (!c.ok()) continue;
    for (const config::VirtualServerConfig& vs : c.virtual_servers) {
      if (vs.services.empty()) abort();
      for (const config::RealServerConfig& rs : vs.real_servers)
        if (rs.dest.ep.addr.family == net::Family::kNone) abort();
    }
  }
  return 0;
}
