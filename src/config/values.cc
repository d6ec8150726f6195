#include "config/values.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "sched/scheduler.h"

namespace sluice::config {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return out;
}

std::string urlPath(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 1);
  if (s.empty() || s[0] != '/') out.push_back('/');
  out.append(s);
  return out;
}

std::optional<uint64_t> parseUint(std::string_view s, uint64_t max) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    if (v > (max - uint64_t(c - '0')) / 10) return std::nullopt;
    v = v * 10 + uint64_t(c - '0');
  }
  return v;
}

std::optional<Nanos> parseSeconds(std::string_view s) {
  constexpr uint64_t kMaxSeconds = 86400;
  size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  if (whole.empty() && frac.empty()) return std::nullopt;
  uint64_t secs = 0;
  if (!whole.empty()) {
    auto w = parseUint(whole, kMaxSeconds);
    if (!w) return std::nullopt;
    secs = *w;
  }
  if (dot != std::string_view::npos && frac.empty()) return std::nullopt;
  if (frac.size() > 9) return std::nullopt;
  uint64_t ns = 0, scale = kSecond;
  for (char c : frac) {
    if (c < '0' || c > '9') return std::nullopt;
    scale /= 10;
    ns += uint64_t(c - '0') * scale;
  }
  Nanos total = secs * kSecond + ns;
  if (total > kMaxSeconds * kSecond) return std::nullopt;
  return total;
}

std::optional<bool> parseBool(std::string_view s) {
  std::string l = lower(s);
  if (l == "on" || l == "true" || l == "yes" || l == "1") return true;
  if (l == "off" || l == "false" || l == "no" || l == "0") return false;
  return std::nullopt;
}

std::optional<std::vector<uint8_t>> parseHex(std::string_view s) {
  std::vector<uint8_t> out;
  int hi = -1;
  for (char c : s) {
    if (c == ' ' || c == '\t') {
      if (hi >= 0) return std::nullopt;  // a lone digit before a space
      continue;
    }
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else return std::nullopt;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(uint8_t(hi * 16 + v));
      hi = -1;
    }
  }
  if (hi >= 0 || out.empty()) return std::nullopt;
  return out;
}

std::optional<std::pair<int, int>> parseStatusRange(std::string_view s) {
  size_t dash = s.find('-');
  auto a = parseUint(s.substr(0, dash), 599);
  if (!a || *a < 100) return std::nullopt;
  uint64_t b = *a;
  if (dash != std::string_view::npos) {
    auto e = parseUint(s.substr(dash + 1), 599);
    if (!e || *e < *a) return std::nullopt;
    b = *e;
  }
  return std::pair<int, int>{int(*a), int(b)};
}

std::optional<svc::FwdMethod> parseFwdMethod(std::string_view s) {
  std::string l = lower(s);
  if (l == "dr") return svc::FwdMethod::kDr;
  if (l == "nat") return svc::FwdMethod::kNat;
  if (l == "tun") return svc::FwdMethod::kTun;
  if (l == "fnat" || l == "fullnat") return svc::FwdMethod::kFullNat;
  return std::nullopt;
}

Result<std::string> parseScheduler(std::string_view s) {
  std::string l = lower(s);
  if (sched::isKnownScheduler(l)) return l;
  if (!sched::notImplementedReason(l).empty())
    return makeError("{}", sched::notImplementedReason(l));
  return makeError("unknown scheduler '{}' (known: {})", s, fmt::join(sched::schedulerNames(), " "));
}

}  // namespace sluice::config
