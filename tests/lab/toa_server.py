#!/usr/bin/env python3
"""An unmodified TCP server for tests/lab/toa_lab.sh: for each connection it reads one
line, then answers and logs the peer as accept() gave it and as getpeername() gives it:

    accept=ADDR PORT getpeername=ADDR PORT

Nothing here knows about TOA: run under LD_PRELOAD=libsluice_toa.so, those two calls
return the client the director saw. Listens on [::]:PORT6 (dual-stack, so an IPv4 client
arrives v4-mapped) and on 0.0.0.0:PORT4 (a plain AF_INET socket)."""
import selectors
import socket
import sys


def listener(family, port):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", port))
    else:
        s.bind(("0.0.0.0", port))
    s.listen(16)
    return s


def main():
    port6, port4 = int(sys.argv[1]), int(sys.argv[2])
    sel = selectors.DefaultSelector()
    for s in (listener(socket.AF_INET6, port6), listener(socket.AF_INET, port4)):
        sel.register(s, selectors.EVENT_READ)
    print("listening", port6, port4, flush=True)
    while True:
        for key, _ in sel.select():
            conn, addr = key.fileobj.accept()
            with conn:
                conn.settimeout(3)
                peer = conn.getpeername()
                try:
                    conn.recv(1024)
                except OSError:
                    pass
                line = "accept=%s %d getpeername=%s %d" % (addr[0], addr[1], peer[0], peer[1])
                print(line, flush=True)
                try:
                    conn.sendall((line + "\n").encode())
                except OSError:
                    pass


if __name__ == "__main__":
    main()
