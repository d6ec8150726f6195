// Helpers shared by the config parser tests: load a text, list its diags as the operator
// reads them, find errors.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/load.h"

namespace sluice::config::testing {

inline std::vector<std::string> diagLines(const Config& c, bool errors_only = false) {
  std::vector<std::string> out;
  for (const Diag& d : c.diags)
    if (d.error || !errors_only) out.push_back(formatDiag(d));
  return out;
}

inline std::string allDiags(const Config& c) {
  std::string s;
  for (const std::string& l : diagLines(c)) s += l + "\n";
  return s;
}

inline Config ka(std::string_view text) { return loadString(text, "k.conf", Format::kKeepalived); }
inline Config ld(std::string_view text) { return loadString(text, "l.cf", Format::kLdirectord); }

inline bool hasDiag(const Config& c, std::string_view line) {
  for (const std::string& l : diagLines(c))
    if (l == line) return true;
  return false;
}

inline bool hasDiagContaining(const Config& c, std::string_view part) {
  for (const std::string& l : diagLines(c))
    if (l.find(part) != std::string::npos) return true;
  return false;
}

}  // namespace sluice::config::testing
