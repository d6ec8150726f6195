#!/usr/bin/python3
"""Minimal ICMP/ICMPv6 echo for the lab's link self-check: `ping.py ADDR [TIMEOUT_S]`.

Exit 0 when an echo reply arrives in time, 1 otherwise. Exists because a fresh Debian
machine has no `ping` (iputils-ping is not in the base install) and the lab wants to depend
only on python3, iproute2, ethtool and curl. Needs root (raw socket); one probe, no loop.
"""

import os
import select
import socket
import struct
import sys
import time


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def main():
    addr = sys.argv[1]
    timeout = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    v6 = ":" in addr
    ident = os.getpid() & 0xFFFF
    payload = b"sluice-lab"
    if v6:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        # The kernel fills the ICMPv6 checksum (it needs the pseudo-header).
        pkt = struct.pack("!BBHHH", 128, 0, 0, ident, 1) + payload
        want_type = 129
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
        pkt = struct.pack("!BBHHH", 8, 0, checksum(hdr + payload), ident, 1) + payload
        want_type = 0
    sock.sendto(pkt, (addr, 0))
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([sock], [], [], left)[0]:
            return 1
        data, src = sock.recvfrom(2048)
        if not v6:
            data = data[(data[0] & 0x0F) * 4:]   # raw IPv4 sockets include the IP header
        if len(data) >= 8 and data[0] == want_type:
            _, _, _, rid, _ = struct.unpack("!BBHHH", data[:8])
            if rid == ident and socket.inet_pton(sock.family, src[0]) == socket.inet_pton(sock.family, addr):
                return 0


if __name__ == "__main__":
    sys.exit(main())
