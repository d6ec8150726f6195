#include "config/load.h"

#include <algorithm>

#include <fmt/format.h>

#include "config/cluster.h"
#include "config/keepalived.h"
#include "config/ldirectord.h"
#include "config/lexer.h"

namespace sluice::config {
namespace {

Config parse(std::string_view text, const std::string& name, Format format, bool allow_include) {
  Config cfg;
  if (text.size() > kMaxFileBytes) {
    addError(cfg, Where{name, 0}, fmt::format("larger than {} bytes; refusing to read it", kMaxFileBytes));
    return cfg;
  }
  if (format == Format::kAuto) format = detectFormat(text);
  if (format == Format::kLdirectord) {
    cfg.files.push_back(name);
    parseLdirectord(text, name, cfg);
  } else {
    std::vector<Node> tree = parseTree(text, name, LexOptions{allow_include}, cfg);
    parseKeepalived(tree, cfg);
  }
  applyClusterDefaults(cfg);
  // The parsers find some problems late (a group used by a later block, the defaulted NAT
  // after the real servers): list them in file order, as a person reads the file.
  auto fileIndex = [&](const std::string& f) {
    return size_t(std::find(cfg.files.begin(), cfg.files.end(), f) - cfg.files.begin());
  };
  std::stable_sort(cfg.diags.begin(), cfg.diags.end(), [&](const Diag& a, const Diag& b) {
    size_t fa = fileIndex(a.at.file), fb = fileIndex(b.at.file);
    return fa != fb ? fa < fb : a.at.line < b.at.line;
  });
  return cfg;
}

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r'; }

}  // namespace

Format detectFormat(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    size_t b = 0;
    while (b < line.size() && isSpace(line[b])) ++b;
    line = line.substr(b);
    if (line.empty() || line[0] == '#' || line[0] == '!' || line[0] == '@' || line[0] == '$') continue;
    // ldirectord: `key=value` with a word key; keepalived never puts '=' right after its
    // first word (its `$NAME=value` starts with '$').
    size_t e = 0;
    while (e < line.size() && (isalnum(static_cast<unsigned char>(line[e])) || line[e] == '_')) ++e;
    size_t k = e;
    while (k < line.size() && isSpace(line[k])) ++k;
    if (e > 0 && k < line.size() && line[k] == '=') return Format::kLdirectord;
    return Format::kKeepalived;
  }
  return Format::kKeepalived;
}

Config load(const std::string& path, Format format) {
  auto text = readConfigFile(path);
  if (!text) {
    Config cfg;
    cfg.format = format == Format::kLdirectord ? Format::kLdirectord : Format::kKeepalived;
    addError(cfg, Where{path, 0}, text.error().message);
    return cfg;
  }
  return parse(*text, path, format, true);
}

Config loadString(std::string_view text, const std::string& name, Format format) {
  return parse(text, name, format, false);
}

std::string formatDiag(const Diag& d) {
  std::string at = d.at.line > 0 ? fmt::format("{}:{}", d.at.file, d.at.line) : d.at.file;
  return fmt::format("{}: {}{}", at, d.error ? "" : "warning: ", d.message);
}

}  // namespace sluice::config
