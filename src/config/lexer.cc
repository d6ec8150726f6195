#include "config/lexer.h"

#include <glob.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>

#include <fmt/format.h>

namespace sluice::config {

void addError(Config& cfg, const Where& at, std::string message) {
  cfg.diags.push_back(Diag{at, std::move(message), true});
}

void addWarning(Config& cfg, const Where& at, std::string message) {
  cfg.diags.push_back(Diag{at, std::move(message), false});
}

Result<std::string> readConfigFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return makeError("cannot read {}: {}", path, strerror(errno));
  if (!S_ISREG(st.st_mode)) return makeError("{} is not a regular file", path);
  if (size_t(st.st_size) > kMaxFileBytes)
    return makeError("{} is larger than {} bytes; refusing to read it", path, kMaxFileBytes);
  std::ifstream in(path, std::ios::binary);
  if (!in) return makeError("cannot open {}: {}", path, strerror(errno));
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, size_t(in.gcount()));
    if (text.size() > kMaxFileBytes)
      return makeError("{} is larger than {} bytes; refusing to read it", path, kMaxFileBytes);
  }
  return text;
}

namespace {

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }
bool isNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

class Lexer {
 public:
  Lexer(const LexOptions& opt, Config& cfg) : opt_(opt), cfg_(cfg) {}

  void lexFile(std::string_view text, const std::string& name, int depth) {
    cfg_.files.push_back(name);
    size_t pos = 0;
    int line_no = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string_view::npos) nl = text.size();
      std::string_view line = text.substr(pos, nl - pos);
      pos = nl + 1;
      ++line_no;
      lexLine(line, Where{name, line_no}, depth);
    }
  }

  std::vector<Token> take() { return std::move(tokens_); }

 private:
  void lexLine(std::string_view raw, const Where& at, int depth) {
    size_t b = 0;
    while (b < raw.size() && isSpace(raw[b])) ++b;
    std::string_view line = raw.substr(b);
    // @id lines belong to a keepalived started with -i id (by default the host name); sluiced
    // has no config id, so they are left out (said once), and @^id ("not id") lines are kept.
    if (!line.empty() && line[0] == '@') {
      if (line.size() < 2 || line[1] != '^') {
        if (!warned_conditional_) {
          addWarning(cfg_, at, "@ID lines are left out: sluiced has no config id (keepalived uses "
                               "them when started with -i ID, or on the host named ID)");
          warned_conditional_ = true;
        }
        return;
      }
      size_t e = 2;
      while (e < line.size() && !isSpace(line[e])) ++e;
      line = line.substr(e);
    }
    // $NAME=value defines a parameter for the lines that follow.
    if (line.size() > 1 && line[0] == '$' && isNameChar(line[1])) {
      size_t e = 1;
      while (e < line.size() && isNameChar(line[e])) ++e;
      if (e < line.size() && line[e] == '=') {
        std::string value(line.substr(e + 1));
        while (!value.empty() && isSpace(value.back())) value.pop_back();
        params_[std::string(line.substr(1, e - 1))] = std::move(value);
        return;
      }
    }
    std::string expanded;
    if (!params_.empty() && line.find('$') != std::string_view::npos) {
      if (!substitute(line, expanded)) {
        addError(cfg_, at, fmt::format("line longer than {} bytes after $parameter substitution",
                                       kMaxLineBytes));
        return;
      }
      line = expanded;
    }
    size_t first = tokens_.size();
    size_t i = 0;
    while (i < line.size()) {
      char c = line[i];
      if (isSpace(c)) {
        ++i;
      } else if (c == '#' || c == '!') {
        break;
      } else if (c == '{' || c == '}') {
        tokens_.push_back(Token{std::string(1, c), false, at});
        ++i;
      } else {
        i = word(line, i, at);
      }
    }
    if (tokens_.size() > first && !tokens_[first].quoted && tokens_[first].text == "include") {
      std::vector<Token> args(tokens_.begin() + first + 1, tokens_.end());
      tokens_.resize(first);
      include(args, at, depth);
    }
  }

  // One word from line[i]: plain characters, and "..." or '...' parts (which keep their
  // spaces and braces, and take backslash escapes), joined as keepalived joins them:
  // abcd" efg" -> "abcd efg". Returns the index after the word.
  size_t word(std::string_view line, size_t i, const Where& at) {
    Token t{{}, false, at};
    while (i < line.size() && !isSpace(line[i]) && line[i] != '{' && line[i] != '}') {
      char q = line[i];
      if (q != '"' && q != '\'') {
        t.text += q;
        ++i;
        continue;
      }
      t.quoted = true;
      ++i;
      while (i < line.size() && line[i] != q) {
        if (line[i] == '\\' && i + 1 < line.size()) i = escape(line, i + 1, t.text);
        else t.text += line[i++];
      }
      if (i >= line.size()) addError(cfg_, at, "unterminated quoted string");
      else ++i;
    }
    tokens_.push_back(std::move(t));
    return i;
  }

  // The escape after a backslash at line[i]: \a \b \E \f \n \r \t \v, \nnn (octal),
  // \xXX (hex), \cC (control C), \C (C itself).
  static size_t escape(std::string_view line, size_t i, std::string& out) {
    auto digit = [](char c, int base) {
      int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : 99;
      return v < base ? v : -1;
    };
    char c = line[i++];
    switch (c) {
      case 'a': out += '\a'; return i;
      case 'b': out += '\b'; return i;
      case 'E': out += '\x1b'; return i;
      case 'f': out += '\f'; return i;
      case 'n': out += '\n'; return i;
      case 'r': out += '\r'; return i;
      case 't': out += '\t'; return i;
      case 'v': out += '\v'; return i;
      case 'c':
        if (i < line.size()) out += char(line[i++] & 0x1f);
        return i;
      case 'x': {
        int v = 0, n = 0;
        for (; n < 2 && i < line.size() && digit(line[i], 16) >= 0; ++n) v = v * 16 + digit(line[i++], 16);
        out += n ? char(v) : 'x';
        return i;
      }
      default:
        if (digit(c, 8) >= 0) {
          int v = digit(c, 8);
          for (int n = 1; n < 3 && i < line.size() && digit(line[i], 8) >= 0; ++n) v = v * 8 + digit(line[i++], 8);
          out += char(v & 0xff);
          return i;
        }
        out += c;
        return i;
    }
  }

  bool substitute(std::string_view line, std::string& out) {
    for (size_t i = 0; i < line.size();) {
      if (line[i] == '$') {
        size_t s = i + 1, e;
        bool braced = s < line.size() && line[s] == '{';
        if (braced) {
          e = line.find('}', s);
          if (e == std::string_view::npos) e = s;
          ++s;
        } else {
          e = s;
          while (e < line.size() && isNameChar(line[e])) ++e;
        }
        auto it = params_.find(std::string(line.substr(s, e - s)));
        if (e > s && it != params_.end()) {
          out += it->second;
          i = braced ? e + 1 : e;
          if (out.size() > kMaxLineBytes) return false;
          continue;
        }
      }
      out += line[i++];
      if (out.size() > kMaxLineBytes) return false;
    }
    return true;
  }

  void include(const std::vector<Token>& args, const Where& at, int depth) {
    if (!opt_.allow_include) {
      addError(cfg_, at, "include is not allowed when the configuration is not read from a file");
      return;
    }
    if (args.size() != 1) {
      addError(cfg_, at, "include takes one file name or glob pattern");
      return;
    }
    if (depth + 1 > kMaxIncludeDepth) {
      addError(cfg_, at, fmt::format("includes nested deeper than {} (an include loop?)",
                                     kMaxIncludeDepth));
      return;
    }
    std::string pattern = args[0].text;
    if (pattern.empty() || pattern[0] != '/') {
      size_t slash = at.file.rfind('/');
      if (slash != std::string::npos) pattern = at.file.substr(0, slash + 1) + pattern;
    }
    glob_t g{};
    int rc = ::glob(pattern.c_str(), GLOB_ERR, nullptr, &g);
    std::vector<std::string> paths;
    if (rc == 0)
      for (size_t i = 0; i < g.gl_pathc; ++i) paths.emplace_back(g.gl_pathv[i]);
    globfree(&g);
    if (rc == GLOB_NOMATCH || (rc == 0 && paths.empty())) {
      addWarning(cfg_, at, fmt::format("include {}: no file matches", args[0].text));
      return;
    }
    if (rc != 0) {
      addError(cfg_, at, fmt::format("include {}: cannot expand the pattern", args[0].text));
      return;
    }
    for (const std::string& p : paths) {
      if (cfg_.files.size() >= kMaxFiles) {
        addError(cfg_, at, fmt::format("more than {} files included; stopping", kMaxFiles));
        return;
      }
      auto text = readConfigFile(p);
      if (!text) {
        addError(cfg_, at, fmt::format("include: {}", text.error().message));
        continue;
      }
      lexFile(*text, p, depth + 1);
    }
  }

  const LexOptions& opt_;
  Config& cfg_;
  std::vector<Token> tokens_;
  std::map<std::string, std::string> params_;
  bool warned_conditional_ = false;
};

class TreeBuilder {
 public:
  TreeBuilder(const std::vector<Token>& toks, Config& cfg) : toks_(toks), cfg_(cfg) {}

  std::vector<Node> build() {
    std::vector<Node> out;
    while (i_ < toks_.size()) {
      if (isBrace("}")) {
        addError(cfg_, toks_[i_].at, "'}' without a matching '{'");
        ++i_;
        continue;
      }
      statement(out, 0);
    }
    return out;
  }

 private:
  bool isBrace(const char* b) const { return !toks_[i_].quoted && toks_[i_].text == b; }
  static bool sameLine(const Where& a, const Where& b) { return a.line == b.line && a.file == b.file; }

  // Reads one statement at i_ (not a '}') into out.
  void statement(std::vector<Node>& out, int depth) {
    Node n;
    if (isBrace("{")) {
      addError(cfg_, toks_[i_].at, "'{' without a keyword before it");
      n.at = toks_[i_].at;
    } else {
      n.key = toks_[i_].text;
      n.at = toks_[i_].at;
      ++i_;
      while (i_ < toks_.size() && sameLine(toks_[i_].at, n.at) && !isBrace("{") && !isBrace("}"))
        n.args.push_back(toks_[i_++]);
    }
    if (i_ < toks_.size() && isBrace("{")) {
      Where open = toks_[i_].at;
      ++i_;
      n.block = true;
      if (depth + 1 > kMaxNesting) {
        addError(cfg_, open, fmt::format("blocks nested deeper than {}", kMaxNesting));
        skipBlock();
        return;
      }
      while (i_ < toks_.size() && !isBrace("}")) statement(n.children, depth + 1);
      if (i_ >= toks_.size()) {
        addError(cfg_, open, fmt::format("missing '}}' for the '{{' opened here ({})",
                                         n.key.empty() ? "block" : n.key));
      } else {
        ++i_;
      }
    }
    if (!n.key.empty()) out.push_back(std::move(n));
  }

  // After an opening brace: skips to its matching closing brace, iteratively.
  void skipBlock() {
    size_t level = 1;
    while (i_ < toks_.size() && level > 0) {
      if (isBrace("{")) ++level;
      if (isBrace("}")) --level;
      ++i_;
    }
  }

  const std::vector<Token>& toks_;
  Config& cfg_;
  size_t i_ = 0;
};

}  // namespace

std::vector<Node> parseTree(std::string_view text, const std::string& name, const LexOptions& opt,
                            Config& cfg) {
  Lexer lx(opt, cfg);
  lx.lexFile(text, name, 0);
  std::vector<Token> toks = lx.take();
  return TreeBuilder(toks, cfg).build();
}

}  // namespace sluice::config
