#!/usr/bin/python3
"""Path MTU probe for the lab: `pmtu_probe.py ADDR PORT`.

Sends one UDP datagram that fills a 1500-byte IP packet, with "don't fragment" (IPv4 DF;
IPv6 never fragments on the way), to ADDR:PORT, where a UDP echo real server answers
`RS <id>`. A director that tunnels it must answer "fragmentation needed" / "packet too big"
instead (the packet no longer fits once encapsulated), which the kernel turns into a lower
path MTU for ADDR. Then sends a datagram sized to that MTU, which must be answered.
Prints `mtu=<path MTU the kernel learned> answer=<the answer or none>`; exit 0 when the
kernel learned an MTU below 1500 and the second datagram was answered, 1 otherwise.
One socket, three bounded waits: no loop that can run away.
"""

import socket
import sys

IP_MTU_DISCOVER, IP_PMTUDISC_DO, IP_MTU = 10, 2, 14
IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO, IPV6_MTU = 23, 2, 24


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    v6 = ":" in addr
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    hdr = (40 if v6 else 20) + 8
    # Unconnected for the datagrams: the lab's UDP real servers answer from their own
    # address, not the VIP (a [::] socket), which a connected socket would filter out. A
    # second, connected socket only reads the path MTU the kernel learned for ADDR.
    s = socket.socket(fam, socket.SOCK_DGRAM)
    probe = socket.socket(fam, socket.SOCK_DGRAM)
    if v6:
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO)
    else:
        s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
    s.settimeout(1.0)
    try:
        s.sendto(b"x" * (1500 - hdr), (addr, port))
        s.recvfrom(2048)  # an answer here means the director let it through whole
        print("mtu=1500 answer=full-size datagram answered (no MTU error came back)")
        return 1
    except (socket.timeout, OSError):
        pass
    probe.connect((addr, port))  # now: its route then carries the MTU just learned
    mtu = probe.getsockopt(socket.IPPROTO_IPV6 if v6 else socket.IPPROTO_IP,
                           IPV6_MTU if v6 else IP_MTU)
    answer = "none"
    try:
        s.sendto(b"y" * (mtu - hdr), (addr, port))
        answer = s.recvfrom(2048)[0].decode(errors="replace").strip()
    except (socket.timeout, OSError) as e:
        answer = "none (%s)" % e
    print("mtu=%d answer=%s" % (mtu, answer))
    return 0 if mtu < 1500 and answer.startswith("RS ") else 1


if __name__ == "__main__":
    sys.exit(main())
