#include "health/dns_message.h"

#include <cctype>

namespace sluice::health {

namespace {

constexpr size_t kHeader = 12;
constexpr uint16_t kClassIn = 1;

std::string canonical(std::string_view name) {
  std::string s(name);
  if (!s.empty() && s.back() == '.') s.pop_back();
  for (auto& c : s) c = char(std::tolower(uint8_t(c)));
  return s;
}

uint16_t be16(std::span<const uint8_t> m, size_t off) { return uint16_t(m[off] << 8 | m[off + 1]); }

// Reads a (possibly compressed) name at `off`; sets `next` to the byte after it in place.
Result<std::string> readName(std::span<const uint8_t> m, size_t off, size_t& next) {
  std::string out;
  bool jumped = false;
  int hops = 0;
  size_t total = 0;
  while (true) {
    if (off >= m.size()) return makeError("truncated name");
    uint8_t len = m[off];
    if ((len & 0xC0) == 0xC0) {
      if (off + 1 >= m.size()) return makeError("truncated name");
      if (++hops > 16) return makeError("name compression loop");
      size_t ptr = size_t(len & 0x3F) << 8 | m[off + 1];
      if (!jumped) next = off + 2;
      jumped = true;
      off = ptr;
      continue;
    }
    if (len & 0xC0) return makeError("bad label type");
    if (len == 0) {
      if (!jumped) next = off + 1;
      return out;
    }
    if (off + 1 + len > m.size()) return makeError("truncated name");
    if ((total += len + 1) > 255) return makeError("name too long");
    if (!out.empty()) out += '.';
    for (size_t i = 0; i < len; ++i) out += char(std::tolower(m[off + 1 + i]));
    off += 1 + len;
  }
}

const char* rcodeName(int rc) {
  switch (rc) {
    case 1: return "FORMERR";
    case 2: return "SERVFAIL";
    case 3: return "NXDOMAIN";
    case 4: return "NOTIMP";
    case 5: return "REFUSED";
    default: return "error";
  }
}

}  // namespace

std::optional<uint16_t> dnsTypeCode(std::string_view name) {
  struct T { const char* n; uint16_t c; };
  static constexpr T kTypes[] = {{"A", 1}, {"NS", 2}, {"CNAME", 5}, {"SOA", 6}, {"MX", 15}, {"TXT", 16}, {"AAAA", 28}};
  for (auto& t : kTypes) {
    std::string_view n = t.n;
    if (n.size() == name.size() &&
        std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) { return a == std::toupper(uint8_t(b)); }))
      return t.c;
  }
  return std::nullopt;
}

Result<std::vector<uint8_t>> buildDnsQuery(uint16_t id, std::string_view name, uint16_t type) {
  std::vector<uint8_t> q = {uint8_t(id >> 8), uint8_t(id), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  std::string n(name);
  if (!n.empty() && n.back() == '.') n.pop_back();
  size_t total = 1;
  std::string_view rest = n;
  while (!rest.empty()) {
    size_t dot = rest.find('.');
    std::string_view label = rest.substr(0, dot);
    if (label.empty()) return makeError("DNS name {}: empty label", name);
    if (label.size() > 63) return makeError("DNS name {}: label over 63 bytes", name);
    if ((total += label.size() + 1) > 255) return makeError("DNS name {}: over 255 bytes", name);
    q.push_back(uint8_t(label.size()));
    q.insert(q.end(), label.begin(), label.end());
    rest = dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
    if (dot != std::string_view::npos && rest.empty()) return makeError("DNS name {}: empty label", name);
  }
  q.push_back(0);
  q.push_back(uint8_t(type >> 8));
  q.push_back(uint8_t(type));
  q.push_back(0);
  q.push_back(uint8_t(kClassIn));
  return q;
}

Status checkDnsResponse(std::span<const uint8_t> m, uint16_t id, std::string_view name, uint16_t type) {
  if (m.size() < kHeader) return makeError("DNS reply too short");
  if (be16(m, 0) != id) return makeError("DNS reply id mismatch");
  uint16_t flags = be16(m, 2);
  if (!(flags & 0x8000)) return makeError("DNS reply without QR");
  if (int rc = flags & 0xF; rc != 0) return makeError("DNS RCODE {} ({})", rc, rcodeName(rc));
  if (be16(m, 4) != 1) return makeError("DNS reply question count {}", be16(m, 4));
  uint16_t ancount = be16(m, 6);
  size_t off = kHeader;
  auto qname = readName(m, off, off);
  if (!qname.ok()) return makeError("DNS reply question: {}", qname.error().message);
  if (off + 4 > m.size()) return makeError("DNS reply question truncated");
  if (*qname != canonical(name) || be16(m, off) != type || be16(m, off + 2) != kClassIn)
    return makeError("DNS reply question mismatch");
  off += 4;
  unsigned matching = 0;
  for (unsigned i = 0; i < ancount; ++i) {
    auto rname = readName(m, off, off);
    if (!rname.ok()) return makeError("DNS answer: {}", rname.error().message);
    if (off + 10 > m.size()) return makeError("DNS answer truncated");
    uint16_t rtype = be16(m, off);
    uint16_t rdlen = be16(m, off + 8);
    off += 10;
    if (off + rdlen > m.size()) return makeError("DNS answer truncated");
    off += rdlen;
    matching += rtype == type;
  }
  if (!matching) return makeError("no answer of type {} in the DNS reply", type);
  return {};
}

}  // namespace sluice::health
