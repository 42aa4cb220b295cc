"""A small DNS server and client for the integration tests (standard library only).

The server answers a fixed map of names over UDP and TCP, so tests need no resolver set-up and
no outside network. Run it in a test's peer namespace:

    python3 dnsresponder.py serve --listen 10.77.0.2 --listen fd77::2 --port 53 \
        --record example.test=10.77.0.2 --record example.test=fd77::2 \
        --cname www.example.test=example.test

It prints "ready PORT" on stdout once both sockets listen, answers A, AAAA (and ANY) queries
for the names in the map, following CNAMEs, with NXDOMAIN for other names, and exits on SIGTERM,
SIGINT, or when the process that started it ends.

The client side, from Python:  resolve("10.77.0.2", "example.test") -> ["10.77.0.2"]
or from a shell (e.g. in the firewall's namespace):
    python3 dnsresponder.py query 10.77.0.2 example.test [--type AAAA] [--tcp] [--port 53] \
        [--connect 80]
which prints one address per line (exit 1 when there is none), and with --connect then connects
to the first one like a program that looked the name up ("connected ADDR", else exit 2).
"""
import argparse
import ctypes
import ipaddress
import os
import random
import selectors
import signal
import socket
import struct
import sys
import threading

TYPE_A, TYPE_CNAME, TYPE_AAAA, TYPE_ANY = 1, 5, 28, 255
CLASS_IN = 1
TYPES = {"A": TYPE_A, "AAAA": TYPE_AAAA, "CNAME": TYPE_CNAME, "ANY": TYPE_ANY}
NXDOMAIN = 3


# --- wire format ---------------------------------------------------------------------------------

def encode_name(name):
    out = b""
    for label in name.strip(".").split("."):
        if label:
            raw = label.encode("ascii")
            if len(raw) > 63:
                raise ValueError(f"label too long in {name!r}")
            out += bytes([len(raw)]) + raw
    return out + b"\0"


def build_query(name, qtype=TYPE_A, qid=None):
    qid = random.randrange(0x10000) if qid is None else qid
    header = struct.pack("!6H", qid, 0x0100, 1, 0, 0, 0)  # RD
    return header + encode_name(name) + struct.pack("!HH", qtype, CLASS_IN)


def read_name(msg, pos):
    """The name at pos (with compression) and the offset after it in place."""
    labels, end, jumps = [], None, 0
    while True:
        if pos >= len(msg):
            raise ValueError("name truncated")
        length = msg[pos]
        if length & 0xC0 == 0xC0:
            if pos + 1 >= len(msg) or jumps > 127:
                raise ValueError("bad name pointer")
            jumps += 1
            if end is None:
                end = pos + 2
            pos = ((length & 0x3F) << 8) | msg[pos + 1]
            continue
        if length == 0:
            return ".".join(labels).lower(), (end if end is not None else pos + 1)
        if length & 0xC0 or pos + 1 + length > len(msg):
            raise ValueError("bad label")
        labels.append(msg[pos + 1:pos + 1 + length].decode("ascii", "backslashreplace"))
        pos += 1 + length


def parse_message(msg):
    """A dict: id, flags, rcode, questions [(name, type)], answers [(name, type, value, ttl)]."""
    if len(msg) < 12:
        raise ValueError("message shorter than its header")
    qid, flags, qd, an, _ns, _ar = struct.unpack("!6H", msg[:12])
    pos, questions, answers = 12, [], []
    for _ in range(qd):
        name, pos = read_name(msg, pos)
        qtype, _qclass = struct.unpack("!HH", msg[pos:pos + 4])
        questions.append((name, qtype))
        pos += 4
    for _ in range(an):
        name, pos = read_name(msg, pos)
        rtype, _rclass, ttl, rdlen = struct.unpack("!HHIH", msg[pos:pos + 10])
        pos += 10
        rdata = msg[pos:pos + rdlen]
        if len(rdata) != rdlen:
            raise ValueError("record truncated")
        if rtype == TYPE_A:
            value = str(ipaddress.IPv4Address(rdata))
        elif rtype == TYPE_AAAA:
            value = str(ipaddress.IPv6Address(rdata))
        elif rtype == TYPE_CNAME:
            value = read_name(msg, pos)[0]
        else:
            value = rdata
        answers.append((name, rtype, value, ttl))
        pos += rdlen
    return {"id": qid, "flags": flags, "rcode": flags & 0xF, "questions": questions,
            "answers": answers}


class Zone:
    """The fixed map: name -> addresses, and name -> CNAME target."""

    def __init__(self, records=(), cnames=(), ttl=60):
        self.addresses, self.cnames, self.ttl = {}, {}, ttl
        for name, address in records:
            self.addresses.setdefault(name.lower().strip("."), []).append(ipaddress.ip_address(address))
        for name, target in cnames:
            self.cnames[name.lower().strip(".")] = target.lower().strip(".")

    def answer(self, query):
        """The response to a query message, or None when it is not a query we can read."""
        try:
            q = parse_message(query)
        except (ValueError, struct.error):
            return None
        if q["flags"] & 0x8000 or not q["questions"]:
            return None
        qname, qtype = q["questions"][0]
        qend = read_name(query, 12)[1] + 4  # the question is echoed as it came, case and all
        body, count, name, owner = b"", 0, qname, b"\xc0\x0c"  # the first owner points at the question
        seen = set()
        while name in self.cnames and name not in seen and qtype != TYPE_CNAME:
            seen.add(name)
            target = self.cnames[name]
            rdata = encode_name(target)
            body += owner + struct.pack("!HHIH", TYPE_CNAME, CLASS_IN, self.ttl, len(rdata)) + rdata
            count += 1
            owner = struct.pack("!H", 0xC000 | (qend + len(body) - len(rdata)))
            name = target
        if qtype == TYPE_CNAME and name in self.cnames:
            rdata = encode_name(self.cnames[name])
            body += owner + struct.pack("!HHIH", TYPE_CNAME, CLASS_IN, self.ttl, len(rdata)) + rdata
            count += 1
        known = name in self.addresses or count > 0
        for address in self.addresses.get(name, []):
            rtype = TYPE_A if address.version == 4 else TYPE_AAAA
            if qtype in (rtype, TYPE_ANY):
                body += owner + struct.pack("!HHIH", rtype, CLASS_IN, self.ttl, len(address.packed))
                body += address.packed
                count += 1
        rcode = 0 if known else NXDOMAIN
        flags = 0x8000 | 0x0400 | (q["flags"] & 0x0100) | 0x0080 | rcode  # QR AA RD RA
        header = struct.pack("!6H", q["id"], flags, 1, count, 0, 0)
        return header + query[12:qend] + body


# --- server --------------------------------------------------------------------------------------

def _die_with_parent():
    """SIGTERM when the parent ends (prctl PR_SET_PDEATHSIG), so a killed test leaves nothing."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _serve_tcp_client(conn, zone):
    with conn:
        conn.settimeout(10)
        try:
            while True:
                prefix = _recv_exact(conn, 2)
                if prefix is None:
                    return
                query = _recv_exact(conn, struct.unpack("!H", prefix)[0])
                if query is None:
                    return
                response = zone.answer(query)
                if response is not None:
                    conn.sendall(struct.pack("!H", len(response)) + response)
        except OSError:
            return


def _bind_pair(host, port):
    """UDP and TCP sockets on the same address and port (port 0: one the kernel picks)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(20):
        udp = socket.socket(family, socket.SOCK_DGRAM)
        tcp = socket.socket(family, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            udp.bind((host, port))
            tcp.bind((host, udp.getsockname()[1]))
            tcp.listen(16)
            return udp, tcp
        except OSError:
            udp.close()
            tcp.close()
            if port != 0:
                raise
    raise OSError(f"no free port on {host} for both UDP and TCP")


def serve(hosts, port, zone, ready=sys.stdout):
    _die_with_parent()
    parent = os.getppid()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    sel = selectors.DefaultSelector()
    sockets = []
    for host in hosts:
        udp, tcp = _bind_pair(host, port)
        port = udp.getsockname()[1]  # every address on the same port
        sockets += [udp, tcp]
        sel.register(udp, selectors.EVENT_READ, "udp")
        sel.register(tcp, selectors.EVENT_READ, "tcp")
    print(f"ready {port}", file=ready, flush=True)
    while not stop.is_set() and os.getppid() == parent:
        for key, _ in sel.select(timeout=0.5):
            sock = key.fileobj
            if key.data == "udp":
                try:
                    query, peer = sock.recvfrom(65535)
                except OSError:
                    continue
                response = zone.answer(query)
                if response is not None:
                    sock.sendto(response, peer)
            else:
                try:
                    conn, _peer = sock.accept()
                except OSError:
                    continue
                threading.Thread(target=_serve_tcp_client, args=(conn, zone), daemon=True).start()
    for sock in sockets:
        sock.close()


# --- client --------------------------------------------------------------------------------------

def query(server, name, qtype=TYPE_A, port=53, tcp=False, timeout=2.0):
    """Sends one query to server and returns the parsed response (see parse_message)."""
    if isinstance(qtype, str):
        qtype = TYPES[qtype.upper()]
    message = build_query(name, qtype)
    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    if tcp:
        with socket.create_connection((server, port), timeout=timeout) as s:
            s.sendall(struct.pack("!H", len(message)) + message)
            prefix = _recv_exact(s, 2)
            data = _recv_exact(s, struct.unpack("!H", prefix)[0]) if prefix else None
            if data is None:
                raise OSError(f"DNS over TCP to {server}:{port}: connection closed")
    else:
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.connect((server, port))
            s.send(message)
            while True:
                data = s.recv(65535)
                if data[:2] == message[:2]:
                    break
    return parse_message(data)


def resolve(server, name, qtype=TYPE_A, port=53, tcp=False, timeout=2.0):
    """The addresses the server gives for name (A by default; "AAAA" for IPv6)."""
    response = query(server, name, qtype, port, tcp, timeout)
    return [value for _n, rtype, value, _t in response["answers"] if rtype in (TYPE_A, TYPE_AAAA)]


# --- command line --------------------------------------------------------------------------------

def _pair(text):
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--listen", action="append", required=True, help="address (repeatable)")
    s.add_argument("--port", type=int, default=53)
    s.add_argument("--record", action="append", type=_pair, default=[], help="NAME=ADDRESS")
    s.add_argument("--cname", action="append", type=_pair, default=[], help="NAME=TARGET")
    s.add_argument("--ttl", type=int, default=60)
    q = sub.add_parser("query")
    q.add_argument("server")
    q.add_argument("name")
    q.add_argument("--type", default="A", choices=sorted(TYPES))
    q.add_argument("--port", type=int, default=53)
    q.add_argument("--tcp", action="store_true")
    q.add_argument("--connect", type=int, metavar="PORT",
                   help="then open a TCP connection to the first address on PORT, as a program "
                        "that looked a name up would (prints 'connected ADDR' or the error)")
    q.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.listen, args.port, Zone(args.record, args.cname, args.ttl))
        return 0
    addresses = resolve(args.server, args.name, args.type, args.port, args.tcp, args.timeout)
    for a in addresses:
        print(a, flush=True)
    if not addresses:
        return 1
    if args.connect is not None:
        try:
            with socket.create_connection((addresses[0], args.connect), timeout=args.timeout):
                print(f"connected {addresses[0]}", flush=True)
        except OSError as e:
            print(f"connect {addresses[0]} port {args.connect}: {e}", flush=True)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
