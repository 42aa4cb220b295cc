"""Private network namespaces for the integration tests.

Every test makes its own pair of namespaces joined by a veth pair and removes them (and every
process inside) when it ends, also when it fails or is killed by meson's time-out. Nothing here ever
touches the machine's own network namespace: firewall rules are only installed inside `client`.
"""
import atexit
import os
import shutil
import signal
import subprocess
import sys
import time

SKIP = 77  # meson's exit status for a skipped test

V4_CLIENT, V4_PEER = "10.77.0.1", "10.77.0.2"
V6_CLIENT, V6_PEER = "fd77::1", "fd77::2"

_live = []


def skip(reason):
    print(f"SKIP: {reason}")
    sys.exit(SKIP)


def require_root():
    """Skips (exit 77) with a one-line reason when the test can't run here."""
    if os.geteuid() != 0:
        skip("needs root (network namespaces, NFQUEUE)")
    if shutil.which("ip") is None:
        skip("needs iproute2 (ip)")


def tsnitch_binary():
    path = os.environ.get("TSNITCH")
    if not path or not os.access(path, os.X_OK):
        raise SystemExit(f"TSNITCH is not set to the built binary (got {path!r})")
    return path


def _run(args, check=True, **kw):
    return subprocess.run(args, check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _cleanup_all(*_):
    while _live:
        _live.pop().close()


def _on_signal(signum, _frame):
    _cleanup_all()
    sys.exit(128 + signum)


atexit.register(_cleanup_all)
for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


class NetnsPair:
    """Two namespaces: `client` (where tsnitch runs) and `peer`, joined by veth.

    client has V4_CLIENT / V6_CLIENT, peer has V4_PEER / V6_PEER; loopback is up in both.
    """

    def __init__(self, ipv6=True):
        tag = f"{os.getpid()}-{len(_live)}"
        self.client = f"tsnc-{tag}"
        self.peer = f"tsnp-{tag}"
        self._procs = []
        _live.append(self)
        try:
            for ns in (self.client, self.peer):
                _run(["ip", "netns", "add", ns])
                _run(["ip", "-n", ns, "link", "set", "lo", "up"])
            _run(["ip", "-n", self.client, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1",
                  "netns", self.peer])
            for ns, dev, v4, v6 in ((self.client, "veth0", V4_CLIENT, V6_CLIENT),
                                    (self.peer, "veth1", V4_PEER, V6_PEER)):
                _run(["ip", "-n", ns, "addr", "add", f"{v4}/24", "dev", dev])
                if ipv6:
                    _run(["ip", "-n", ns, "addr", "add", f"{v6}/64", "dev", dev, "nodad"])
                _run(["ip", "-n", ns, "link", "set", dev, "up"])
        except Exception:
            self.close()
            raise

    def cmd(self, ns, args):
        return ["ip", "netns", "exec", ns] + list(args)

    def run(self, ns, args, check=True, timeout=30, **kw):
        return _run(self.cmd(ns, args), check=check, timeout=timeout, **kw)

    def popen(self, ns, args, **kw):
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        p = subprocess.Popen(self.cmd(ns, args), **kw)
        self._procs.append(p)
        return p

    def ruleset(self):
        """The client namespace's firewall, as iptables-save and nft print it."""
        out = ""
        for tool in (["iptables-save"], ["ip6tables-save"], ["nft", "list", "ruleset"]):
            if shutil.which(tool[0]):
                out += self.run(self.client, tool, check=False).stdout
        return out

    def close(self):
        for p in self._procs:
            if p.poll() is None:
                p.kill()
        for p in self._procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self._procs = []
        for ns in (self.client, self.peer):
            pids = _run(["ip", "netns", "pids", ns], check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            _run(["ip", "netns", "del", ns], check=False)
        if self in _live:
            _live.remove(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


# A dual-stack TCP server for the peer: accepts on [::]:8080 and keeps every connection open.
# Run it with `python3 -c ACCEPTING_SERVER`; it prints "ready" once it listens.
ACCEPTING_SERVER = ("import socket\n"
                    "s = socket.socket(socket.AF_INET6); s.bind(('::', 8080)); s.listen(64)\n"
                    "print('ready', flush=True)\n"
                    "conns = []\n"
                    "while True: conns.append(s.accept())\n")


def wait_for(predicate, timeout=5.0, interval=0.02):
    """Polls predicate until it is true or the time is up; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def process_named(pid, names):
    """pid itself, or the child `ip netns exec` started for it, whose comm starts with one of
    `names` (a tuple); None when neither does or the process is gone."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = [int(c) for c in f.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        children = []
    for cand in [pid] + children:
        try:
            with open(f"/proc/{cand}/comm") as f:
                if f.read().strip().startswith(names):
                    return cand
        except (FileNotFoundError, ProcessLookupError):
            pass
    return None


def fdinfos(pid):
    """Each open fd's /proc/PID/fdinfo of process `pid`, as {field: value, stripped}: a BPF link
    shows link_type, link_id, prog_id and attach_type there, a BPF map its map_id."""
    infos = []
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                infos.append({k: v.strip() for k, v in (line.split(":", 1) for line in f
                                                        if ":" in line)})
        except (FileNotFoundError, ProcessLookupError):
            pass
    return infos
