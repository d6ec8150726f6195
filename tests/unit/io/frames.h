// Minimal frame builders for the io tests (the steering program only looks at headers, so
// checksums are left zero).
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "net/addr.h"

namespace sluice::io::testing {

struct FrameSpec {
  net::MacAddr dst_mac{0x02, 0, 0, 0, 0, 2};
  net::MacAddr src_mac{0x02, 0, 0, 0, 0, 1};
  std::vector<uint16_t> vlans;  // outermost first; the first uses 0x88a8 when there are two
  net::IpAddr saddr;
  net::IpAddr daddr;
  uint8_t proto = 17;
  uint16_t sport = 40000;
  uint16_t dport = 80;
  uint16_t frag_off = 0;        // v4: the 13-bit offset (in 8-byte units); non-zero = later fragment
  std::vector<uint8_t> payload{'h', 'i'};
};

inline void put16(std::vector<uint8_t>& f, uint16_t v) {
  f.push_back(uint8_t(v >> 8));
  f.push_back(uint8_t(v));
}

inline std::vector<uint8_t> buildFrame(const FrameSpec& s) {
  std::vector<uint8_t> f;
  f.insert(f.end(), s.dst_mac.begin(), s.dst_mac.end());
  f.insert(f.end(), s.src_mac.begin(), s.src_mac.end());
  for (size_t i = 0; i < s.vlans.size(); ++i) {
    put16(f, (i == 0 && s.vlans.size() == 2) ? 0x88a8 : 0x8100);
    put16(f, s.vlans[i]);
  }
  const bool v4 = s.daddr.isV4();
  put16(f, v4 ? 0x0800 : 0x86dd);
  const bool tcp = s.proto == 6;
  const size_t l4_len = (tcp ? 20 : 8) + s.payload.size();
  if (v4) {
    f.push_back(0x45);
    f.push_back(0);
    put16(f, uint16_t(20 + l4_len));
    put16(f, 1);  // id
    put16(f, s.frag_off & 0x1fff);
    f.push_back(64);
    f.push_back(s.proto);
    put16(f, 0);
    f.insert(f.end(), s.saddr.bytes.begin(), s.saddr.bytes.begin() + 4);
    f.insert(f.end(), s.daddr.bytes.begin(), s.daddr.bytes.begin() + 4);
  } else {
    f.push_back(0x60);
    f.push_back(0);
    put16(f, 0);
    put16(f, uint16_t(l4_len));
    f.push_back(s.proto);
    f.push_back(64);
    f.insert(f.end(), s.saddr.bytes.begin(), s.saddr.bytes.end());
    f.insert(f.end(), s.daddr.bytes.begin(), s.daddr.bytes.end());
  }
  put16(f, s.sport);
  put16(f, s.dport);
  if (tcp) {  // seq, ack, data offset 5, SYN, window, checksum, urgent
    for (int i = 0; i < 8; ++i) f.push_back(0);
    f.push_back(0x50);
    f.push_back(0x02);
    put16(f, 65535);
    put16(f, 0);
    put16(f, 0);
  } else {
    put16(f, uint16_t(l4_len));
    put16(f, 0);
  }
  f.insert(f.end(), s.payload.begin(), s.payload.end());
  while (f.size() < 60) f.push_back(0);
  return f;
}

inline std::vector<uint8_t> buildArpRequest(const net::IpAddr& target) {
  std::vector<uint8_t> f(6, 0xff);
  for (uint8_t b : net::MacAddr{0x02, 0, 0, 0, 0, 1}) f.push_back(b);
  put16(f, 0x0806);
  put16(f, 1);       // Ethernet
  put16(f, 0x0800);  // IPv4
  f.push_back(6);
  f.push_back(4);
  put16(f, 1);       // request
  for (int i = 0; i < 10; ++i) f.push_back(0);
  for (int i = 0; i < 6; ++i) f.push_back(0);
  f.insert(f.end(), target.bytes.begin(), target.bytes.begin() + 4);
  while (f.size() < 60) f.push_back(0);
  return f;
}

}  // namespace sluice::io::testing
