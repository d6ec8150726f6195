// Every keepalived sample with virtual_server blocks that Debian's keepalived package ships
// (read in place, never copied here) loads with no error except refusals of what Sluice
// lacks (NAT forwarding, fwmark services...), which all say "not implemented" or "not
// supported".
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/load.h"
#include "config_test_util.h"

namespace sluice::config {
namespace {

namespace fs = std::filesystem;
using namespace testing;

constexpr const char* kSamples = "/usr/share/doc/keepalived/samples";

TEST(ConfigKeepalivedSamples, LoadWithOnlyRefusals) {
  if (!fs::is_directory(kSamples)) GTEST_SKIP() << kSamples << " absent (apt-get install keepalived)";
  int loaded = 0;
  for (const auto& e : fs::directory_iterator(kSamples)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path());
    std::stringstream ss;
    ss << in.rdbuf();
    if (ss.str().find("virtual_server") == std::string::npos) continue;
    Config c = load(e.path().string(), Format::kAuto);
    EXPECT_EQ(c.format, Format::kKeepalived) << e.path();
    EXPECT_FALSE(c.virtual_servers.empty()) << e.path() << "\n" << allDiags(c);
    for (const std::string& line : diagLines(c, true))
      EXPECT_TRUE(line.find("not implemented") != std::string::npos ||
                  line.find("not supported") != std::string::npos)
          << line;
    ++loaded;
    // The same file with DR instead of NAT: the rest of it must hold no error at all but
    // the fwmark refusals, so the parser is checked past its first refusal.
    std::string text = ss.str();
    for (size_t p; (p = text.find("lb_kind NAT")) != std::string::npos;) text.replace(p, 11, "lb_kind DR");
    Config dr = loadString(text, e.path().string(), Format::kKeepalived);
    for (const std::string& line : diagLines(dr, true))
      EXPECT_NE(line.find("Firewall-mark services (-f) are not implemented"), std::string::npos) << line;
  }
  EXPECT_GE(loaded, 10);
}

}  // namespace
}  // namespace sluice::config
