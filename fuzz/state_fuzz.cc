// Fuzzes the --state-dir state file decoder (outside input: a file an operator or a crash
// may have mangled). Anything must decode to a clear error or to a state that encodes and
// decodes again to the same text; nothing may crash or throw.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "daemon/state_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto st = daemon::decodeState(text);
  if (!st) {
    if (st.error().message.empty()) {
      std::fprintf(stderr, "state_fuzz: an error without a message\n");
      std::abort();
    }
    return 0;
  }
  std::string once = daemon::encodeState(*st);
  auto again = daemon::decodeState(once);
  if (!again || daemon::encodeState(*again) != once) {
    std::fprintf(stderr, "state_fuzz: a decoded state does not survive encode/decode\n");
    std::abort();
  }
  return 0;
}
