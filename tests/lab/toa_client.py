#!/usr/bin/env python3
"""A FULLNAT director's connection, by hand, for tests/lab/toa_lab.sh.

    toa_client.py SRC SPORT DST DPORT [TOA_ADDR TOA_PORT [TOA_LEN]]

A raw-socket TCP client: SYN, the server's SYN-ACK, then the ACK that completes the
handshake carrying a TOA option (kind 254: port, then the IPv4 or IPv6 address; TOA_LEN
overrides the length byte, to send a malformed one), then one line of data, the server's
answer printed, and a RST (with ACK, which the lab's rule lets pass) to finish. The client's kernel knows nothing of this connection:
the lab drops the RST it would send in answer to the SYN-ACK (nftables). IPv4 or IPv6 by
the form of DST. Exits 1 with the reason when the server does not answer in 3 s."""
import os
import socket
import struct
import sys
import time


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Conn:
    def __init__(self, src, sport, dst, dport):
        self.v6 = ":" in dst
        self.fam = socket.AF_INET6 if self.v6 else socket.AF_INET
        self.src, self.dst = socket.inet_pton(self.fam, src), socket.inet_pton(self.fam, dst)
        self.dst_text, self.sport, self.dport = dst, sport, dport
        self.s = socket.socket(self.fam, socket.SOCK_RAW, socket.IPPROTO_TCP)
        self.s.bind((src, 0))
        self.s.settimeout(0.2)
        self.seq = int.from_bytes(os.urandom(4), "big")
        self.ack = 0

    def send(self, flags, options=b"", payload=b""):
        if len(options) % 4:
            options += b"\1" * (4 - len(options) % 4)  # NOP padding to a 32-bit boundary
        doff = (20 + len(options)) // 4
        hdr = struct.pack("!HHIIBBHHH", self.sport, self.dport, self.seq, self.ack,
                          doff << 4, flags, 65535, 0, 0) + options
        seg = hdr + payload
        if self.v6:
            pseudo = self.src + self.dst + struct.pack("!I3xB", len(seg), 6)
        else:
            pseudo = self.src + self.dst + struct.pack("!xBH", 6, len(seg))
        c = csum(pseudo + seg)
        seg = seg[:16] + struct.pack("!H", c) + seg[18:]
        self.s.sendto(seg, (self.dst_text, 0))
        self.seq = (self.seq + len(payload) + (1 if flags & 0x03 else 0)) & 0xFFFFFFFF

    def recv(self, deadline):
        """The next segment of this connection: (flags, seq, payload), or None at the deadline."""
        while time.monotonic() < deadline:
            try:
                pkt, addr = self.s.recvfrom(65535)
            except socket.timeout:
                continue
            if not self.v6:  # IPv4 raw sockets hand over the IP header too
                if pkt[9] != 6 or pkt[12:16] != self.dst:
                    continue
                pkt = pkt[(pkt[0] & 0xF) * 4:]
            elif socket.inet_pton(self.fam, addr[0]) != self.dst:
                continue
            sport, dport, seq, _ack, off, flags = struct.unpack("!HHIIBB", pkt[:14])
            if sport != self.dport or dport != self.sport:
                continue
            return flags, seq, pkt[(off >> 4) * 4:]
        return None


def main():
    a = sys.argv[1:]
    c = Conn(a[0], int(a[1]), a[2], int(a[3]))
    toa = b""
    if len(a) >= 6:
        ta = a[4]
        fam = socket.AF_INET6 if ":" in ta else socket.AF_INET
        body = struct.pack("!H", int(a[5])) + socket.inet_pton(fam, ta)
        length = int(a[6]) if len(a) >= 7 else 2 + len(body)
        toa = bytes([254, length]) + body
    deadline = time.monotonic() + 3
    c.send(0x02, options=struct.pack("!BBH", 2, 4, 1400))  # SYN, MSS 1400
    while True:
        r = c.recv(deadline)
        if r is None:
            sys.exit("no SYN-ACK from %s:%d" % (c.dst_text, c.dport))
        flags, seq, _ = r
        if flags & 0x12 == 0x12:
            break
    c.ack = (seq + 1) & 0xFFFFFFFF
    c.send(0x10, options=toa)                         # the handshake's ACK, with the TOA
    c.send(0x18, payload=b"hello\n")                  # PSH|ACK, no TOA
    got = b""
    while b"\n" not in got:
        r = c.recv(deadline)
        if r is None:
            sys.exit("no answer from the server (got %r)" % got)
        flags, seq, payload = r
        if flags & 0x04:
            sys.exit("the server reset the connection (got %r)" % got)
        got += payload
        c.ack = (seq + len(payload)) & 0xFFFFFFFF
    c.send(0x14)                                      # RST|ACK: the server's socket closes
    print(got.decode().strip())


if __name__ == "__main__":
    main()
