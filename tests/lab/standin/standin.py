#!/usr/bin/python3
"""Stand-in for sluiced and sluiceadm, used only to validate the lab tests themselves.

NOT part of Sluice. It lets tests/lab/*_lab.sh run end to end before (or independently of)
the real daemon: a tiny user-space DR director over an AF_PACKET socket (rr, wrr, sh, weights,
a connection table keyed by the 4-tuple), speaking the same command-line contract:

  bin/sluiced  -i IFACE [-i IFACE ...] --socket PATH     (foreground; SIGTERM -> exit 0)
  bin/sluiceadm --socket PATH <ipvsadm grammar subset>    (-A -E -D -C -a -e -d -L -n -c --stats)

Trade-off: correctness and readability over speed (a few tens of kpps is plenty for the lab).
Because AF_PACKET only copies frames, the kernel would also see SYNs to the VIP (held on lo)
and answer RST; an nftables prerouting rule drops service packets in the kernel. A trivial
XDP_PASS program is attached so the test's "XDP attached/detached" checks have a subject.

STANDIN_BUG=rr-stuck|weight0-ignored|sh-random|blackhole breaks one behaviour on purpose, to show the
lab test fails when the director misbehaves.
"""

import json
import os
import random
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

BUG = os.environ.get("STANDIN_BUG", "")
NFT_TABLE = "sluice_standin"
SYN, FIN, RST, ACK = 0x02, 0x01, 0x04, 0x10
TIMEOUT_ESTABLISHED, TIMEOUT_CLOSED = 900, 120


# ---------------------------------------------------------------- model and schedulers

def parse_hostport(text):
    """'10.0.2.100:80' or '[2001:db8::1]:80' -> (family, packed addr, port)."""
    if text.startswith("["):
        host, _, port = text[1:].partition("]:")
        fam = socket.AF_INET6
    else:
        host, _, port = text.rpartition(":")
        fam = socket.AF_INET
    return fam, socket.inet_pton(fam, host), int(port)


def fmt_hostport(fam, addr, port):
    host = socket.inet_ntop(fam, addr)
    return ("[%s]:%d" if fam == socket.AF_INET6 else "%s:%d") % (host, port)


class Dest:
    def __init__(self, fam, addr, port, weight):
        self.fam, self.addr, self.port, self.weight = fam, addr, port, weight
        self.conns = self.inpkts = self.inbytes = 0
        self.mac = None

    def available(self):
        return self.weight > 0 or BUG == "weight0-ignored"


class Service:
    def __init__(self, fam, addr, port, sched):
        self.fam, self.addr, self.port, self.sched = fam, addr, port, sched
        self.dests = []
        self.conns = self.inpkts = self.inbytes = 0
        self.reset()

    def reset(self):
        self.rr_last = -1
        self.wrr_i, self.wrr_cw = -1, 0

    def schedule(self, saddr):
        if not self.dests:
            return None
        if self.sched == "rr":
            if BUG == "rr-stuck":
                return self.dests[0]
            n = len(self.dests)
            for k in range(1, n + 1):
                i = (self.rr_last + k) % n
                if self.dests[i].available():
                    self.rr_last = i
                    return self.dests[i]
            return None
        if self.sched == "wrr":
            weights = [d.weight for d in self.dests]
            mw = max(weights)
            if mw <= 0:
                return None
            g = 0
            for w in weights:
                g = _gcd(g, w)
            while True:
                self.wrr_i = (self.wrr_i + 1) % len(self.dests)
                if self.wrr_i == 0:
                    self.wrr_cw -= g
                    if self.wrr_cw <= 0:
                        self.wrr_cw = mw
                if self.dests[self.wrr_i].weight >= self.wrr_cw:
                    return self.dests[self.wrr_i]
        if self.sched == "sh":
            if BUG == "sh-random":
                return random.choice(self.dests)
            table = []
            while len(table) < 256:      # each dest owns `weight` consecutive buckets, in turn
                for d in self.dests:
                    table.extend([d] * max(d.weight, 1))
            fold = 0
            for (word,) in struct.iter_unpack("!I", saddr):
                fold ^= word
            d = table[((fold * 0x61C88647) & 0xFFFFFFFF) >> 24]
            return d if d.available() else None
        return None


def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


class Conn:
    def __init__(self, svc, dest, key, fam):
        self.svc, self.dest, self.key, self.fam = svc, dest, key, fam
        self.closed = False
        self.established = False
        self.last = time.monotonic()

    def expires(self, now):
        span = TIMEOUT_CLOSED if self.closed else TIMEOUT_ESTABLISHED
        return max(0, int(self.last + span - now))


# ---------------------------------------------------------------- the director

class Director:
    def __init__(self, ifaces, sock_path):
        self.ifaces, self.sock_path = ifaces, sock_path
        self.services = {}   # (fam, addr, port) -> Service
        self.conns = {}      # (fam, saddr, sport, daddr, dport) -> Conn
        self.stop = False
        self.tmp = tempfile.mkdtemp(prefix="sluice-standin.")
        self.pkt = {}
        self.macs = {}
        for ifc in ifaces:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
            s.bind((ifc, 0))
            s.setblocking(False)
            self.pkt[s] = ifc
            with open("/sys/class/net/%s/address" % ifc) as f:
                self.macs[ifc] = bytes.fromhex(f.read().strip().replace(":", ""))
        self.xdp_attach()
        self.nft_sync()
        if os.path.exists(sock_path):
            os.unlink(sock_path)
        self.ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.ctl.bind(sock_path)
        self.ctl.listen(8)

    # --- kernel plumbing (stand-in only)
    def xdp_attach(self):
        src = os.path.join(self.tmp, "pass.c")
        obj = os.path.join(self.tmp, "pass.o")
        with open(src, "w") as f:
            f.write('__attribute__((section("xdp"), used)) int pass(void *c) { return 2; }\n'
                    'char _license[] __attribute__((section("license"), used)) = "GPL";\n')
        if shutil.which("clang") is None or subprocess.call(
                ["clang", "-O2", "-target", "bpf", "-c", src, "-o", obj]) != 0:
            log("no clang: XDP not attached")
            return
        for ifc in self.ifaces:
            subprocess.call(["ip", "link", "set", "dev", ifc, "xdpdrv", "obj", obj, "sec", "xdp"])

    def xdp_detach(self):
        for ifc in self.ifaces:
            subprocess.call(["ip", "link", "set", "dev", ifc, "xdpdrv", "off"])

    def nft_sync(self):
        lines = ["table inet %s {}" % NFT_TABLE, "delete table inet %s" % NFT_TABLE,
                 "table inet %s {" % NFT_TABLE,
                 " chain pre { type filter hook prerouting priority -300; policy accept;"]
        for (fam, addr, port) in self.services:
            ip = "ip6" if fam == socket.AF_INET6 else "ip"
            lines.append("  %s daddr %s tcp dport %d drop" % (ip, socket.inet_ntop(fam, addr), port))
        lines += [" }", "}"]
        p = subprocess.run(["nft", "-f", "-"], input="\n".join(lines) + "\n", text=True)
        if p.returncode != 0:
            log("nft failed; the kernel may reset connections to the VIP")

    def resolve(self, dest, ifc):
        for attempt in range(20):
            out = subprocess.run(["ip", "-j", "neigh", "show", "to", socket.inet_ntop(dest.fam, dest.addr),
                                  "dev", ifc], capture_output=True, text=True).stdout
            for n in json.loads(out or "[]"):
                if n.get("lladdr") and "FAILED" not in n.get("state", []):
                    dest.mac = bytes.fromhex(n["lladdr"].replace(":", ""))
                    return True
            if attempt == 0:   # make the kernel resolve it
                u = socket.socket(dest.fam, socket.SOCK_DGRAM)
                u.sendto(b"x", (socket.inet_ntop(dest.fam, dest.addr), 9))
                u.close()
            time.sleep(0.05)
        return False

    # --- data path
    def on_frame(self, sock, ifc):
        try:
            frame, sll = sock.recvfrom(65535)
        except BlockingIOError:
            return
        if sll[2] != socket.PACKET_HOST or len(frame) < 14:
            return
        etype = struct.unpack_from("!H", frame, 12)[0]
        if etype == 0x0800 and len(frame) >= 34:
            fam, ihl = socket.AF_INET, (frame[14] & 0x0F) * 4
            if frame[23] != 6:
                return
            saddr, daddr, l4 = frame[26:30], frame[30:34], 14 + ihl
        elif etype == 0x86DD and len(frame) >= 54:
            fam = socket.AF_INET6
            if frame[20] != 6:
                return
            saddr, daddr, l4 = frame[22:38], frame[38:54], 54
        else:
            return
        if len(frame) < l4 + 14:
            return
        sport, dport = struct.unpack_from("!HH", frame, l4)
        flags = frame[l4 + 13]
        svc = self.services.get((fam, daddr, dport))
        if svc is None:
            return
        key = (fam, saddr, sport, daddr, dport)
        conn = self.conns.get(key)
        is_syn = flags & SYN and not flags & ACK
        if conn is None or (is_syn and conn.closed) or conn.dest not in svc.dests:
            if not is_syn:
                return                      # mid-flow packet of an unknown connection: drop
            dest = svc.schedule(saddr)
            if dest is None:
                return
            conn = self.conns[key] = Conn(svc, dest, key, fam)
            dest.conns += 1
            svc.conns += 1
        conn.last = time.monotonic()
        if flags & (FIN | RST):
            conn.closed = True
        elif flags & ACK and not is_syn:
            conn.established = True
        dest = conn.dest
        if BUG == "blackhole":
            return
        if dest.mac is None and not self.resolve(dest, ifc):
            return
        for c in (svc, dest):
            c.inpkts += 1
            c.inbytes += len(frame) - 14
        sock.send(dest.mac + self.macs[ifc] + frame[12:])

    def expire(self):
        now = time.monotonic()
        for k in [k for k, c in self.conns.items() if c.expires(now) == 0]:
            del self.conns[k]

    # --- control
    def serve(self):
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "stop", True))
        signal.signal(signal.SIGINT, lambda *_: setattr(self, "stop", True))
        log("up on %s, socket %s" % (",".join(self.ifaces), self.sock_path))
        last_gc = time.monotonic()
        while not self.stop:
            try:
                ready = select.select(list(self.pkt) + [self.ctl], [], [], 0.5)[0]
            except InterruptedError:
                continue
            for s in ready:
                if s is self.ctl:
                    self.on_ctl()
                else:
                    for _ in range(64):
                        self.on_frame(s, self.pkt[s])
            if time.monotonic() - last_gc > 1:
                self.expire()
                last_gc = time.monotonic()
        self.xdp_detach()
        subprocess.call(["nft", "delete", "table", "inet", NFT_TABLE], stderr=subprocess.DEVNULL)
        os.unlink(self.sock_path)
        shutil.rmtree(self.tmp, ignore_errors=True)
        log("stopped")

    def on_ctl(self):
        c, _ = self.ctl.accept()
        c.settimeout(5)
        data = b""
        try:
            while not data.endswith(b"\n"):
                chunk = c.recv(65536)
                if not chunk:
                    break
                data += chunk
            rc, out = self.command(json.loads(data)["argv"])
        except Exception as e:  # a broken request must not kill the stand-in
            rc, out = 2, "standin: %s\n" % e
        try:
            c.sendall(json.dumps({"rc": rc, "out": out}).encode() + b"\n")
        finally:
            c.close()

    def command(self, argv):
        opts, cmd, i = {}, None, 0
        flags_with_arg = {"-t", "-u", "-f", "-s", "-r", "-w", "-p"}
        while i < len(argv):
            a = argv[i]
            if a in ("-A", "-E", "-D", "-C", "-a", "-e", "-d", "-L", "-l", "-Z"):
                cmd = "-L" if a == "-l" else a
            elif a == "-Ln":
                cmd, opts["-n"] = "-L", True
            elif a == "-Lnc":
                cmd, opts["-n"], opts["-c"] = "-L", True, True
            elif a in flags_with_arg:
                i += 1
                opts[a] = argv[i]
            elif a in ("-n", "-c", "--stats", "-g", "--numeric", "--connection"):
                opts[a] = True
            elif a in ("-m", "-i", "-b"):
                return 2, "standin: only -g (direct routing) is implemented\n"
            else:
                return 2, "standin: unknown argument %s\n" % a
            i += 1
        if "-u" in opts or "-f" in opts:
            return 2, "standin: only -t services\n"
        if cmd == "-C":
            self.services.clear()
            self.conns.clear()
            self.nft_sync()
            return 0, ""
        if cmd == "-L":
            return 0, self.listing(opts)
        if cmd == "-Z":
            for s in self.services.values():
                s.conns = s.inpkts = s.inbytes = 0
                for d in s.dests:
                    d.conns = d.inpkts = d.inbytes = 0
            return 0, ""
        if "-t" not in opts:
            return 2, "standin: %s needs -t VIP:PORT\n" % cmd
        skey = parse_hostport(opts["-t"])
        svc = self.services.get(skey)
        if cmd == "-A":
            if svc:
                return 1, "Service already exists\n"
            self.services[skey] = Service(*skey, opts.get("-s", "wlc"))
            self.nft_sync()
            return 0, ""
        if svc is None:
            return 1, "No such service\n"
        if cmd == "-E":
            svc.sched = opts.get("-s", svc.sched)
            svc.reset()
            return 0, ""
        if cmd == "-D":
            del self.services[skey]
            self.nft_sync()
            return 0, ""
        if "-r" not in opts:
            return 2, "standin: %s needs -r RS:PORT\n" % cmd
        fam, addr, port = parse_hostport(opts["-r"])
        dest = next((d for d in svc.dests if (d.fam, d.addr, d.port) == (fam, addr, port)), None)
        weight = int(opts.get("-w", 1))
        if cmd == "-a":
            if dest:
                return 1, "Destination already exists\n"
            svc.dests.append(Dest(fam, addr, port, weight))
        elif dest is None:
            return 1, "No such destination\n"
        elif cmd == "-e":
            dest.weight = weight
        elif cmd == "-d":
            svc.dests.remove(dest)
        svc.reset()
        return 0, ""

    def listing(self, opts):
        out = []
        if opts.get("-c"):
            out.append("IPVS connection entries")
            out.append("pro expire state       source             virtual            destination")
            now = time.monotonic()
            for c in self.conns.values():
                fam, sa, sp, da, dp = c.key
                e = c.expires(now)
                state = "CLOSE_WAIT" if c.closed else "ESTABLISHED" if c.established else "SYN_RECV"
                out.append("TCP %02d:%02d  %-11s %-18s %-18s %s" % (
                    e // 60, e % 60, state, fmt_hostport(fam, sa, sp), fmt_hostport(fam, da, dp),
                    fmt_hostport(c.dest.fam, c.dest.addr, c.dest.port)))
            return "\n".join(out) + "\n"
        out.append("IP Virtual Server version 1.2.1 (size=4096)")
        if opts.get("--stats"):
            out.append("Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes")
            out.append("  -> RemoteAddress:Port")
        else:
            out.append("Prot LocalAddress:Port Scheduler Flags")
            out.append("  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn")
        for s in self.services.values():
            name = fmt_hostport(s.fam, s.addr, s.port)
            if opts.get("--stats"):
                out.append("TCP  %-33s %5d %8d %8d %8d %8d" % (name, s.conns, s.inpkts, 0, s.inbytes, 0))
            else:
                out.append("TCP  %s %s" % (name, s.sched))
            for d in s.dests:
                dn = fmt_hostport(d.fam, d.addr, d.port)
                if opts.get("--stats"):
                    out.append("  -> %-32s %5d %8d %8d %8d %8d" % (dn, d.conns, d.inpkts, 0, d.inbytes, 0))
                else:
                    active = sum(1 for c in self.conns.values() if c.dest is d and c.established and not c.closed)
                    inact = sum(1 for c in self.conns.values() if c.dest is d) - active
                    out.append("  -> %-28s Route   %-6d %-10d %d" % (dn, d.weight, active, inact))
        return "\n".join(out) + "\n"


def log(msg):
    sys.stderr.write("sluiced(standin): %s\n" % msg)
    sys.stderr.flush()


def daemon_main(argv):
    ifaces, sock_path, i = [], "/run/sluiced.sock", 0
    while i < len(argv):
        if argv[i] == "-i":
            ifaces.append(argv[i + 1]); i += 2
        elif argv[i] == "--socket":
            sock_path = argv[i + 1]; i += 2
        else:
            log("unknown argument %s" % argv[i]); return 2
    if not ifaces:
        log("need -i IFACE"); return 2
    Director(ifaces, sock_path).serve()
    return 0


def adm_main(argv):
    sock_path = "/run/sluiced.sock"
    if len(argv) >= 2 and argv[0] == "--socket":
        sock_path, argv = argv[1], argv[2:]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(sock_path)
    except OSError as e:
        sys.stderr.write("sluiceadm(standin): cannot reach %s: %s\n" % (sock_path, e))
        return 1
    s.sendall(json.dumps({"argv": argv}).encode() + b"\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    reply = json.loads(data)
    (sys.stdout if reply["rc"] == 0 else sys.stderr).write(reply["out"])
    return reply["rc"]


if __name__ == "__main__":
    role = sys.argv[1]
    sys.exit(daemon_main(sys.argv[2:]) if role == "daemon" else adm_main(sys.argv[2:]))
