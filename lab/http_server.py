#!/usr/bin/python3
"""Real-server web server for the Sluice labs.

Answers `RS <id>` on `/`, serves a deterministic 50 MiB body on `/big` and its SHA-256 on
`/big.sha256`, and answers a POST to `/upload` with the SHA-256 of what it received (the
client->server direction for a test, e.g. path MTU through a tunnel); every answer carries `X-Real-Server: <id>` so a test can tell which real
server holds a connection before the body arrives. Listens on [::]:PORT with IPV6_V6ONLY
off, so one socket serves the VIP over IPv4 and IPv6. HTTP/1.0: one request per
connection, so every request is a new connection the director must schedule.

Trade-off: the body lives in memory (50 MiB per server) instead of a file, so the content is
the same everywhere without shared disk state, and `--print-sha256` can compute the digest
a client expects without any network.
"""

import argparse
import hashlib
import http.server
import socket
import sys
import threading

BIG_MIB = 50
CHUNK = 1 << 20


def big_body(mib):
    # SHAKE-256 as a deterministic stream: the same bytes on every machine and Python version.
    return b"".join(hashlib.shake_256(b"sluice-lab-big-%d" % i).digest(CHUNK) for i in range(mib))


class Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def make_handler(rs_id, big, big_sha):
    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "sluice-lab-rs/1"

        def _send(self, code, body, ctype="text/plain"):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Real-Server", str(rs_id))
            self.end_headers()
            if self.command == "HEAD":
                return
            view = memoryview(body)
            step = 256 * 1024
            try:
                for off in range(0, len(view), step):
                    self.wfile.write(view[off:off + step])
            except (BrokenPipeError, ConnectionResetError):
                pass

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path == "/":
                self._send(200, b"RS %d\n" % rs_id)
            elif path == "/big":
                self._send(200, big, "application/octet-stream")
            elif path == "/big.sha256":
                self._send(200, big_sha.encode() + b"\n")
            else:
                self._send(404, b"not found\n")

        do_HEAD = do_GET

        def do_POST(self):
            # /upload: reads Content-Length bytes, answers their SHA-256, so a test can tell an
            # upload arrived whole (a black-holed or corrupted segment changes or stalls it).
            if self.path.split("?", 1)[0] != "/upload":
                self._send(404, b"not found\n")
                return
            try:
                left = int(self.headers.get("Content-Length", "0"))
            except ValueError:
                self._send(400, b"bad Content-Length\n")
                return
            digest = hashlib.sha256()
            while left > 0:
                chunk = self.rfile.read(min(left, CHUNK))
                if not chunk:
                    return  # the client went away
                digest.update(chunk)
                left -= len(chunk)
            self._send(200, digest.hexdigest().encode() + b"\n")

        def log_message(self, fmt, *args):
            if self.server.verbose:
                sys.stderr.write("rs%d %s - %s\n" % (rs_id, self.client_address[0], fmt % args))

    return Handler


def serve_udp(rs_id, port):
    """Answers every datagram on [::]:port (v4 and v6) with `RS <id>`: a UDP real server."""
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind(("::", port))
    while True:
        _, peer = sock.recvfrom(2048)
        sock.sendto(b"RS %d\n" % rs_id, peer)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--id", type=int, default=1, help="real server number shown in answers")
    ap.add_argument("--port", type=int, default=80)
    ap.add_argument("--udp-port", type=int, default=0,
                    help="also answer UDP datagrams on this port with `RS <id>`")
    ap.add_argument("--big-mib", type=int, default=BIG_MIB, help="size of /big in MiB")
    ap.add_argument("--print-sha256", action="store_true",
                    help="print the SHA-256 of /big and exit (what a client should expect)")
    ap.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = ap.parse_args()

    big = big_body(args.big_mib)
    big_sha = hashlib.sha256(big).hexdigest()
    if args.print_sha256:
        print(big_sha)
        return 0
    if args.udp_port:
        threading.Thread(target=serve_udp, args=(args.id, args.udp_port), daemon=True).start()
    srv = Server(("::", args.port), make_handler(args.id, big, big_sha))
    srv.verbose = args.verbose
    sys.stderr.write("rs%d: listening on [::]:%d, /big is %d bytes sha256 %s\n"
                     % (args.id, args.port, len(big), big_sha))
    sys.stderr.flush()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
