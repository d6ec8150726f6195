// keepalived.conf syntax: comments, quotes, braces on one line, $parameters, @conditionals,
// and includes with globs relative to the including file (in a temporary directory).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/lexer.h"
#include "config/load.h"
#include "config_test_util.h"

namespace sluice::config {
namespace {

namespace fs = std::filesystem;
using namespace testing;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "sluice-config-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string write(const std::string& rel, std::string_view text) const {
    fs::path p = fs::path(path_) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

constexpr std::string_view kVs = "virtual_server 10.0.0.{} 80 {{\n lvs_method DR\n protocol TCP\n}}\n";

TEST(ConfigLexer, TreeOfStatements) {
  Config c;
  auto t = parseTree("a 1 \"two words\" { b # comment\n c ! other\n d { e f } }\n! x\n# y\ng {\n}\n",
                     "f", LexOptions{}, c);
  ASSERT_TRUE(c.diags.empty()) << allDiags(c);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].key, "a");
  ASSERT_EQ(t[0].args.size(), 2u);
  EXPECT_EQ(t[0].args[1].text, "two words");
  EXPECT_TRUE(t[0].args[1].quoted);
  ASSERT_EQ(t[0].children.size(), 3u);
  EXPECT_EQ(t[0].children[0].key, "b");
  EXPECT_TRUE(t[0].children[0].args.empty());
  EXPECT_EQ(t[0].children[2].children.at(0).key, "e");
  EXPECT_EQ(t[0].children[2].children.at(0).args.at(0).text, "f");
  EXPECT_EQ(t[1].key, "g");
  EXPECT_EQ(t[1].at.line, 6);
  EXPECT_TRUE(t[1].block);
}

TEST(ConfigLexer, ParametersAndConditionals) {
  Config c = ka("$VIP=10.0.0.7\n$PORT=8080\n@other lvs_method NAT\n"
                "virtual_server $VIP ${PORT} {\n@^other lvs_method DR\n protocol TCP\n"
                "@other protocol UDP\n}\n");
  ASSERT_TRUE(c.ok()) << allDiags(c);
  EXPECT_EQ(diagLines(c), std::vector<std::string>{
                              "k.conf:3: warning: @ID lines are left out: sluiced has no config id "
                              "(keepalived uses them when started with -i ID, or on the host named ID)"});
  const auto& k = c.virtual_servers.at(0).services.at(0).key;
  EXPECT_EQ(k.addr, *net::IpAddr::parse("10.0.0.7"));
  EXPECT_EQ(k.port, 8080);
  EXPECT_EQ(k.proto, svc::Proto::kTcp);
}

TEST(ConfigLexer, ParameterExpansionIsBounded) {
  std::string text = "$A=" + std::string(40000, 'x') + "\nrouter $A $A\n";
  Config c = ka(text);
  EXPECT_TRUE(hasDiagContaining(c, "k.conf:2: line longer than 65536 bytes")) << allDiags(c);
}

TEST(ConfigLexer, UnterminatedQuote) {
  Config c = ka("global_defs {\n router_id \"abc\n}\n");
  EXPECT_TRUE(hasDiag(c, "k.conf:2: unterminated quoted string")) << allDiags(c);
}

TEST(ConfigLexer, IncludeIsRefusedInLoadString) {
  Config c = ka("include /etc/passwd\n");
  EXPECT_TRUE(hasDiag(c, "k.conf:1: include is not allowed when the configuration is not read from a file"));
  EXPECT_EQ(c.files, std::vector<std::string>{"k.conf"});
}

TEST(ConfigLexer, IncludeGlobRelativeToTheIncludingFile) {
  TempDir d;
  std::string main = d.write("main.conf", "include conf.d/*.conf\ninclude sub/more.conf\n");
  d.write("conf.d/a.conf", fmt::format(kVs, 1));
  d.write("conf.d/b.conf", fmt::format(kVs, 2));
  d.write("conf.d/ignored.txt", "garbage {\n");
  // sub/more.conf includes relative to sub/.
  d.write("sub/more.conf", "include inner.conf\n");
  d.write("sub/inner.conf", fmt::format(kVs, 3) + "bogus\n");
  Config c = load(main);
  ASSERT_EQ(c.virtual_servers.size(), 3u) << allDiags(c);
  EXPECT_EQ(c.virtual_servers[1].services[0].key.addr, *net::IpAddr::parse("10.0.0.2"));
  EXPECT_EQ(c.files.size(), 5u);
  EXPECT_TRUE(hasDiag(c, d.path() + "/sub/inner.conf:5: unknown keyword 'bogus' in the top level"))
      << allDiags(c);
  EXPECT_EQ(diagLines(c).size(), 1u) << allDiags(c);
}

TEST(ConfigLexer, IncludeLoopStopsAtTheDepthLimit) {
  TempDir d;
  std::string main = d.write("loop.conf", "include loop.conf\n");
  Config c = load(main);
  EXPECT_FALSE(c.ok());
  EXPECT_TRUE(hasDiagContaining(c, "includes nested deeper than 8")) << allDiags(c);
  EXPECT_EQ(c.files.size(), 9u);
}

TEST(ConfigLexer, IncludeWithoutMatchWarnsAndMissingFileIsAnError) {
  TempDir d;
  std::string main = d.write("m.conf", "include nothing-*.conf\n");
  Config c = load(main);
  EXPECT_TRUE(c.ok());
  EXPECT_TRUE(hasDiag(c, main + ":1: warning: include nothing-*.conf: no file matches")) << allDiags(c);
  Config e = load(d.path() + "/absent.conf");
  EXPECT_FALSE(e.ok());
  EXPECT_TRUE(hasDiagContaining(e, "absent.conf: cannot read")) << allDiags(e);
}

TEST(ConfigLexer, OversizedFileIsRefused) {
  TempDir d;
  std::string big = d.write("big.conf", std::string(kMaxFileBytes + 1, '#'));
  Config c = load(big);
  EXPECT_FALSE(c.ok());
  EXPECT_TRUE(hasDiagContaining(c, "larger than")) << allDiags(c);
}

TEST(ConfigLexer, DeepNestingIsAnError) {
  std::string text;
  for (int i = 0; i < 100; ++i) text += "a {\n";
  for (int i = 0; i < 100; ++i) text += "}\n";
  Config c = ka(text);
  EXPECT_TRUE(hasDiagContaining(c, "blocks nested deeper than 32")) << allDiags(c);
}

TEST(ConfigLoad, DetectsTheFormat) {
  EXPECT_EQ(detectFormat("# c\n\nvirtual_server 1.2.3.4 80 {\n"), Format::kKeepalived);
  EXPECT_EQ(detectFormat("! c\n$X=1\nglobal_defs {\n"), Format::kKeepalived);
  EXPECT_EQ(detectFormat("# c\nchecktimeout=3\n"), Format::kLdirectord);
  EXPECT_EQ(detectFormat("virtual = 1.2.3.4:80\n"), Format::kLdirectord);
  EXPECT_EQ(detectFormat(""), Format::kKeepalived);
}

TEST(ConfigLoad, FormatDiag) {
  EXPECT_EQ(formatDiag(Diag{Where{"a.conf", 3}, "bad", true}), "a.conf:3: bad");
  EXPECT_EQ(formatDiag(Diag{Where{"a.conf", 3}, "meh", false}), "a.conf:3: warning: meh");
  EXPECT_EQ(formatDiag(Diag{Where{"a.conf", 0}, "gone", true}), "a.conf: gone");
}

}  // namespace
}  // namespace sluice::config

namespace sluice::config {
namespace {

TEST(ConfigLexer, QuotedPartsJoinAndTakeEscapes) {
  Config c;
  auto t = parseTree(R"(k abcd" efg h jkl "mnop 'single q' "a\tb\"c" "\x41\101\q" "{ not a brace }")" "\n",
                     "f", LexOptions{}, c);
  ASSERT_TRUE(c.diags.empty()) << testing::allDiags(c);
  ASSERT_EQ(t.size(), 1u);
  ASSERT_EQ(t[0].args.size(), 5u);
  EXPECT_EQ(t[0].args[0].text, "abcd efg h jkl mnop");
  EXPECT_TRUE(t[0].args[0].quoted);
  EXPECT_EQ(t[0].args[1].text, "single q");
  EXPECT_EQ(t[0].args[2].text, "a\tb\"c");
  EXPECT_EQ(t[0].args[3].text, "AAq");
  EXPECT_EQ(t[0].args[4].text, "{ not a brace }");
  EXPECT_FALSE(t[0].block);
}

}  // namespace
}  // namespace sluice::config
