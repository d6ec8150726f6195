// sluiced's command line: the config-file options and their combinations.
#include "daemon/options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::daemon {
namespace {

Result<Options> parse(std::vector<std::string> args) {
  args.insert(args.begin(), "sluiced");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return parseOptions(int(argv.size()), argv.data());
}

TEST(SluicedOptions, ConfigFileFormatAndMetrics) {
  auto o = parse({"-i", "eth0", "-f", "/etc/keepalived/keepalived.conf", "--format", "ldirectord",
                  "--metrics", ":9101"});
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->config_file, "/etc/keepalived/keepalived.conf");
  EXPECT_EQ(o->config_format, config::Format::kLdirectord);
  EXPECT_EQ(o->metrics_addr, ":9101");
  EXPECT_FALSE(o->check);
}

TEST(SluicedOptions, CheckNeedsAFileButNoInterface) {
  auto o = parse({"--check", "-f", "x.conf"});
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_TRUE(o->check);
  auto none = parse({"--check"});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().message, "--check needs -f FILE or --cluster FILE (the file to validate)");
}

TEST(SluicedOptions, RefusedCombinations) {
  EXPECT_EQ(parse({"-i", "eth0", "--format", "keepalived"}).error().message, "--format needs -f FILE");
  EXPECT_EQ(parse({"-i", "eth0", "-f", "a", "--format", "nginx"}).error().message,
            "--format must be keepalived, ldirectord or auto, not 'nginx'");
  EXPECT_EQ(parse({"-i", "eth0", "-f"}).error().message, "option -f needs a value");
}

}  // namespace
}  // namespace sluice::daemon
