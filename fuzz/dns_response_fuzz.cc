// DNS_CHECK's response judge (dns_message.h) on arbitrary bytes: must never crash or read
// out of bounds (compression loops, truncated names and records). The query for the name
// in the first bytes is built too, and a response made from it must pass when it carries an
// answer of the type.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "health/dns_message.h"

using namespace sluice::health;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  uint16_t id = uint16_t(data[0] << 8 | data[1]);
  uint16_t types[] = {1, 2, 5, 6, 15, 16, 28};
  uint16_t type = types[data[2] % 7];
  std::span<const uint8_t> msg(data + 3, size - 3);
  (void)checkDnsResponse(msg, id, "www.example.org", type);
  (void)checkDnsResponse(msg, id, ".", type);

  std::string name(reinterpret_cast<const char*>(data + 3), std::min<size_t>(size - 3, 40));
  auto q = buildDnsQuery(id, name, type);
  if (q.ok()) {
    std::vector<uint8_t> r = *q;
    r[2] |= 0x80;
    r[7] = 1;
    uint8_t rr[] = {0xC0, 12, uint8_t(type >> 8), uint8_t(type), 0, 1, 0, 0, 0, 1, 0, 1, 0};
    r.insert(r.end(), rr, rr + sizeof rr);
    // Names with bytes that DNS folds (upper case) or dots inside labels may not round-trip;
    // a plain lower-case name must.
    bool plain = true;
    for (char c : name) plain &= (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.';
    if (plain && !checkDnsResponse(r, id, name, type).ok()) abort();
  }
  return 0;
}
