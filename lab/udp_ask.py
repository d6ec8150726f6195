#!/usr/bin/python3
"""Sends N datagrams to HOST PORT, each from a fresh socket (a new source port, so a new
connection for the director), and prints what answered each: the real server number of an
`RS <n>` reply, or ERR for no answer within the timeout. Bounded: at most N * TIMEOUT s.
With SRC_BASE the sockets bind to ports SRC_BASE .. SRC_BASE+N-1 instead of ephemeral ones,
so none reuses a port whose connection the director still holds."""

import socket
import sys


def main():
    if len(sys.argv) < 4:
        sys.stderr.write("usage: udp_ask.py HOST PORT N [TIMEOUT [SRC_BASE]]\n")
        return 2
    host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
    src_base = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    out = []
    for i in range(n):
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            if src_base:
                s.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", src_base + i))
            try:
                s.sendto(b"hello %d" % i, (host, port))
                data, _ = s.recvfrom(2048)
                text = data.decode(errors="replace").strip()
                out.append(text[3:] if text.startswith("RS ") else "ERRbody")
            except socket.timeout:
                out.append("ERR")
            except OSError as e:
                out.append("ERR%d" % (e.errno or 0))
    print(" ".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
