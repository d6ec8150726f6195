// keepalived.conf's syntax, without its meaning: words ("..." and '...' parts keep spaces
// and braces, take backslash escapes, and join the text around them), { } blocks,
// comments (# and ! start one anywhere a token could start), `include GLOB` (relative to the
// including file's directory), `$NAME=value` parameters, and `@id` / `@^id` conditional lines.
// The result is a tree of statements (keyword, arguments on its line, optional block) that
// config/keepalived.cc gives meaning to.
//
// Trade-off: a generic tree first, then interpretation, rather than one pass that reads and
// interprets at once. Brace errors, nesting limits and includes are handled once here, and
// the interpreter sees only well-formed statements; the cost is holding the whole file's
// tokens in memory, which the size limits below bound.
//
// Untrusted input: every file is capped (kMaxFileBytes), so are the number of files
// (kMaxFiles), the include depth (kMaxIncludeDepth), the nesting depth (kMaxNesting), and
// the length of a line after parameter substitution. Going past a limit is an error diag,
// never a crash or an unbounded allocation.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"

namespace sluice::config {

constexpr size_t kMaxFileBytes = 4 << 20;
constexpr size_t kMaxFiles = 64;
constexpr int kMaxIncludeDepth = 8;
constexpr int kMaxNesting = 32;
constexpr size_t kMaxLineBytes = 64 << 10;
// What one configuration may expand into (groups and ranges multiply): beyond, an error.
constexpr size_t kMaxServices = 65536;
constexpr size_t kMaxRealServers = 65536;

struct Token {
  std::string text;
  bool quoted = false;
  Where at;
};

// One statement: `keyword arg arg ... [{ children }]`.
struct Node {
  std::string key;
  Where at;
  std::vector<Token> args;
  bool block = false;
  std::vector<Node> children;
};

struct LexOptions {
  // false: `include` is an error (loadString, the fuzzer: no file is ever opened).
  bool allow_include = true;
};

// Tokenizes `text` (named `name`, the directory of which anchors relative includes) and its
// includes, and builds the statement tree. Problems go to cfg.diags; every file read is
// appended to cfg.files.
std::vector<Node> parseTree(std::string_view text, const std::string& name, const LexOptions& opt,
                            Config& cfg);

// Reads a whole file, refusing one larger than kMaxFileBytes.
Result<std::string> readConfigFile(const std::string& path);

// Diag helpers shared by the parsers.
void addError(Config& cfg, const Where& at, std::string message);
void addWarning(Config& cfg, const Where& at, std::string message);

}  // namespace sluice::config
