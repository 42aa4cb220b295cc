"""Helpers for the engine's integration tests: rule files, a peer that answers, a client that
reports what the application saw, and a tsnitch run --headless inside the client namespace."""
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from netns import NetnsPair, V4_CLIENT, V4_PEER, V6_CLIENT, V6_PEER, tsnitch_binary, wait_for  # noqa: F401

PYTHON = os.path.realpath(sys.executable)

# Peer: TCP ports accept, send "hi" and close; UDP ports echo, except the silent ones, which only
# count what arrives (printed on SIGTERM). Dual-stack sockets serve IPv4 and IPv6.
PEER = r"""
import selectors, signal, socket, sys
tcp_ports = [int(p) for p in sys.argv[1].split(",") if p]
udp_ports = [int(p) for p in sys.argv[2].split(",") if p]
silent = [int(p) for p in sys.argv[3].split(",") if p]
sel = selectors.DefaultSelector()
counts = {}
def done(*_):
    print(" ".join(f"{p}:{n}" for p, n in sorted(counts.items())), flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, done)
for p in tcp_ports:
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", p)); s.listen(256)
    sel.register(s, selectors.EVENT_READ, ("tcp", p))
for p in udp_ports + silent:
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", p))
    sel.register(s, selectors.EVENT_READ, ("udp", p))
print("ready", flush=True)
while True:
    for key, _ in sel.select():
        kind, p = key.data
        if kind == "tcp":
            c, _ = key.fileobj.accept()
            try: c.sendall(b"hi")
            except OSError: pass
            c.close()
        else:
            data, addr = key.fileobj.recvfrom(2048)
            counts[p] = counts.get(p, 0) + 1
            if p not in silent: key.fileobj.sendto(data, addr)
"""

# Client: one attempt; prints ok / refused / timeout / error:NAME.
CLIENT = r"""
import errno, socket, sys
proto, host, port, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
try:
    if proto == "tcp":
        s = socket.socket(fam, socket.SOCK_STREAM); s.settimeout(timeout)
        s.connect((host, port)); data = s.recv(16)
        print("ok" if data == b"hi" else "error:bad-data")
    else:
        s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(timeout)
        s.connect((host, port)); s.send(b"ping"); data = s.recv(16)
        print("ok" if data == b"ping" else "error:bad-data")
except socket.timeout:
    print("timeout")
except ConnectionRefusedError:
    print("refused")
except ConnectionResetError:
    print("refused")
except OSError as e:
    print("error:" + errno.errorcode.get(e.errno, str(e.errno)))
"""

# Sends N datagrams from one socket to a port and exits.
SENDER = r"""
import socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM); s.connect((host, port))
for i in range(n):
    try: s.send(b"x%d" % i)
    except OSError: pass
    time.sleep(0.002)
print("sent", flush=True)
"""


def rule(name, action, port, proto=None, path=PYTHON):
    """An OpenSnitch rule: `action` for the client program's connections to `port`."""
    ops = [{"type": "simple", "operand": "process.path", "sensitive": False, "data": path},
           {"type": "simple", "operand": "dest.port", "sensitive": False, "data": str(port)}]
    if proto:
        ops.append({"type": "simple", "operand": "protocol", "sensitive": False, "data": proto})
    return {"created": "2026-11-28T20:00:00Z", "updated": "2026-11-28T20:00:00Z", "name": name,
            "enabled": True, "precedence": False, "action": action, "duration": "always",
            "operator": {"type": "list", "operand": "list", "sensitive": False, "data": "",
                         "list": ops}}


class Tsnitch:
    """tsnitch run --headless in the client namespace, with its own rules dir and events file."""

    def __init__(self, ns, rules=(), config=None, extra=(), env=None):
        self.ns = ns
        self.env = env  # the environment of tsnitch (None: this one's)
        self.dir = tempfile.mkdtemp(prefix="tsnitch-test-")
        atexit.register(shutil.rmtree, self.dir, True)
        self.rules_dir = os.path.join(self.dir, "rules")
        os.mkdir(self.rules_dir)
        for r in rules:
            with open(os.path.join(self.rules_dir, r["name"] + ".json"), "w") as f:
                json.dump(r, f)
        # Control.Socket in the test's directory: the names file goes beside it, not to /run.
        # PromptTimeout 1: with nobody attached, what no rule decides waits that long for a front
        # end, then gets DefaultAction (reason timeout).
        cfg = {"DefaultAction": "deny", "ProcMonitorMethod": "diag", "QueueNum": 7, "PromptTimeout": 1,
               "Control": {"Socket": os.path.join(self.dir, "control.sock")}}
        cfg.update(config or {})
        self.config = os.path.join(self.dir, "config.json")
        with open(self.config, "w") as f:
            json.dump(cfg, f)
        self.events_path = os.path.join(self.dir, "events.jsonl")
        self.extra = list(extra)
        self.proc = None

    def start(self, wait=True):
        self.proc = self.ns.popen(self.ns.client,
                                  [tsnitch_binary(), "run", "--headless", "-c", self.config, "-r",
                                   self.rules_dir, "--events", self.events_path] + self.extra,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                  env=self.env)
        if wait:
            ok = wait_for(lambda: "TSNITCH-OUT" in self.ns.ruleset() or self.proc.poll() is not None,
                          timeout=10, interval=0.05)
            if self.proc.poll() is not None or not ok:
                raise AssertionError(f"tsnitch did not start: {self.proc.stderr.read()}")
        return self

    def events(self):
        """The events written so far: complete lines only (one read may meet a line that
        tsnitch is writing at that moment; it counts once its newline is there)."""
        if not os.path.exists(self.events_path):
            return []
        with open(self.events_path) as f:
            text = f.read()
        return [json.loads(line) for line in text[:text.rfind("\n") + 1].splitlines()
                if line.strip()]

    def stop(self, sig="TERM"):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(getattr(__import__("signal"), "SIG" + sig))
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


class StderrLines:
    """What a started tsnitch writes on stderr, read as it comes (for tests that look at its
    messages while it runs); t.proc.stderr is then this reader's."""

    def __init__(self, t):
        self.lines = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, args=(t.proc.stderr,), daemon=True)
        self._thread.start()

    def _read(self, f):
        for line in f:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    def text(self):
        with self._lock:
            return "\n".join(self.lines)

    def wait_closed(self, timeout=5):
        self._thread.join(timeout)
        return self.text()


def start_peer(ns, tcp=(), udp=(), silent=()):
    p = ns.popen(ns.peer, [PYTHON, "-c", PEER, ",".join(map(str, tcp)), ",".join(map(str, udp)),
                           ",".join(map(str, silent))], text=True)
    line = p.stdout.readline().strip()
    if line != "ready":
        raise AssertionError(f"peer did not start: {line!r} {p.stderr.read()}")
    return p


def attempt(ns, proto, host, port, timeout=2.0):
    r = ns.run(ns.client, [PYTHON, "-c", CLIENT, proto, host, str(port), str(timeout)],
               timeout=timeout + 10)
    return r.stdout.strip()


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"ok: {what}")
