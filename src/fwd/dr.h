// Direct routing (ip_vs_dr_xmit), the slow path's side of bpf/lib/xmit_dr.h: the IP packet
// is untouched, only the Ethernet header changes, so the real server (which holds the VIP
// on a non-ARPing interface) answers the client directly. One file per forwarding method
// (dr, and tun/nat/fullnat as they come), each called only for connections bound to it
// when they were created (dp::Datapath::forward), never by a real server's current method.
#pragma once

#include <cstdint>
#include <span>

#include "abi/records.h"

namespace sluice::fwd {

// Rewrites the frame's Ethernet addresses to the real server's next hop. `d` must be
// resolved (SL_DEST_F_RESOLVED); the frame leaves out of d.ifindex.
void xmitDr(std::span<uint8_t> frame, const sl_dest& d) noexcept;

}  // namespace sluice::fwd
