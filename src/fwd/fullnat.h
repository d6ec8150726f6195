// FULLNAT (DPVS's and Alibaba's FNAT; ipvsadm -b), the slow path's side of
// bpf/lib/xmit_fnat.h. Both ends of a request are rewritten: CIP:cport -> VIP:vport leaves
// as LIP:lport -> RIP:rport, so the real server needs no VIP, no ARP tricks and no route
// back through the director other than to the local address, and answers LIP:lport, which
// becomes VIP:vport -> CIP:cport again. Checksums are updated incrementally, as for NAT
// (fwd/nat.h): the caller finishes a half-done checksum first.
//
// The real server would see only the director's local address. TOA (TCP option 254, in
// DPVS's layout: port, then address; 8 bytes for IPv4, 20 for IPv6) carries the client's
// end in the client's segments until the real server has answered one, so the first ACK
// the real server accepts (the handshake's, or a retransmitted data segment) holds it.
// The real server's SYN-ACK advertises an MSS lowered by the option's size (adjustMss), so
// a full-sized segment with the option still fits the path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "abi/records.h"
#include "net/packet.h"

namespace sluice::fwd {

// A request: source -> local.addr:local.port, destination -> the real server's address and
// port (the virtual port when the real server's is 0), Ethernet to its next hop.
void xmitFullNat(std::span<uint8_t> frame, const net::Parsed& p, const sl_dest& d,
                 const sl_conn_ext& local) noexcept;

// A reply (RIP:rport -> LIP:lport): source -> vaddr:vport, destination -> caddr:cport
// (16-byte addresses, ports in network byte order). The kernel routes it to the client.
void fullNatReply(std::span<uint8_t> frame, const net::Parsed& p, const uint8_t* vaddr,
                  uint16_t vport, const uint8_t* caddr, uint16_t cport) noexcept;

// TOA's size for a client of `family`: 8 (IPv4) or 20 (IPv6).
constexpr size_t toaLength(net::Family family) noexcept {
  return family == net::Family::kV4 ? 8 : 20;
}

enum class ToaStatus : uint8_t { kInserted, kNoOptionRoom, kNoBufferRoom };
struct ToaResult {
  ToaStatus status;
  uint16_t len;  // the frame's new length when inserted
};
// Appends TOA (client `caddr`:`cport`, network byte order) to the TCP options of the
// segment `p` describes. `buf` holds the frame (`frame_len` bytes) and the room after it.
// The payload moves down, the IP length, the TCP data offset and both checksums follow;
// Ethernet padding after the IP datagram is dropped. Left unchanged when the options
// already take more than 40 minus the option's bytes (kNoOptionRoom) or `buf` lacks the
// room (kNoBufferRoom).
ToaResult insertToa(std::span<uint8_t> buf, size_t frame_len, const net::Parsed& p,
                    const uint8_t* caddr, uint16_t cport) noexcept;

// Lowers the MSS option of a SYN (the real server's SYN-ACK) by `by` bytes, checksum
// updated; true if it did. A segment without a well-formed MSS option is left alone.
bool lowerMss(std::span<uint8_t> frame, const net::Parsed& p, uint16_t by) noexcept;

}  // namespace sluice::fwd
