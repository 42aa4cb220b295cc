"""Shared set-up of the kernel path's tests (DESIGN.md §8a): a child cgroup that holds only this
test's processes (the programs that can change a verdict attach there, via the test-only
TSNITCH_KPATH_CGROUP), the queue's own counters, and a client that reports each attempt."""
import atexit
import json
import os
import subprocess

from netns import skip, tsnitch_binary
from tsnitch_run import PYTHON, Tsnitch



def cgroup2_root():
    """Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or .../unified on hybrid
    machines), or None."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[:1] == ["cgroup2"] and left.split()[3] == "/":
                return left.split()[4]
    return None


# K attempts of MODE (tcp, udp: a new unconnected socket per datagram, udp-connected), each
# waiting up to TIMEOUT seconds; one JSON line each: {"pid", "sport", "result": ok / refused /
# timeout / EPERM / ...}. An optional 6th argument is only there to be seen in the command line
# (process.command rules).
CLIENT = r"""
import errno, json, os, socket, sys
mode, host, port, k = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
timeout = float(sys.argv[5])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
for i in range(k):
    s = socket.socket(fam, socket.SOCK_STREAM if mode == "tcp" else socket.SOCK_DGRAM)
    s.settimeout(timeout)
    result = "ok"
    try:
        if mode == "tcp":
            s.connect((host, port)); data = s.recv(16)
        elif mode == "udp":
            s.sendto(b"ping", (host, port)); data = s.recv(16)
        else:
            s.connect((host, port)); s.send(b"ping"); data = s.recv(16)
        if data not in (b"hi", b"ping"): result = "bad-data"
    except socket.timeout:
        result = "timeout"
    except (ConnectionRefusedError, ConnectionResetError):
        result = "refused"
    except OSError as e:
        result = errno.errorcode.get(e.errno, str(e.errno))
    try: sport = s.getsockname()[1]
    except OSError: sport = 0
    print(json.dumps({"pid": os.getpid(), "sport": sport, "result": result}), flush=True)
    s.close()
"""


def attempts(ns, mode, host, port, k=1, marker=None, timeout=3.0, python=PYTHON):
    """Allowed flows may wait for the queue on a busy machine: `timeout` is only short where a
    drop (a timeout) is the expected result. `python`: the interpreter that runs the client (the
    executable its flows are attributed to)."""
    args = [python, "-c", CLIENT, mode, host, str(port), str(k), str(timeout)]
    args += [marker] if marker else []
    out = ns.run(ns.client, args, timeout=60 + (timeout + 1) * k).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


class TestCgroup:
    """A child of the cgroup v2 root holding this test (and so every process it starts)."""

    def __init__(self):
        self.root = cgroup2_root()
        if not self.root:
            skip("needs cgroup v2 (the kernel path's programs attach to a cgroup)")
        with open("/proc/self/cgroup") as f:
            self.original = next(l for l in f.read().splitlines() if l.startswith("0::"))[3:]
        self.relative = f"/tsnitch-kpath-{os.getpid()}"
        self.path = self.root + self.relative
        os.mkdir(self.path)
        atexit.register(self.close)
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))

    def close(self):
        if not os.path.isdir(self.path):
            return
        try:
            with open(os.path.join(self.root + self.original, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
        except OSError:
            with open(os.path.join(self.root, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
        try:
            os.rmdir(self.path)
        except OSError:
            pass


def require_kernel_path():
    out = subprocess.run([tsnitch_binary(), "check"], stdout=subprocess.PIPE, text=True).stdout
    line = next((l for l in out.splitlines() if l.startswith("kernel path:")), "")
    if "available (" not in line or "not available" in line:
        skip(f"this kernel offers no kernel path ({line.strip() or 'check says nothing'})")


def queued_packets(ns):
    """Packets the client namespace's queues have seen so far (id_sequence, per queue)."""
    out = ns.run(ns.client, ["cat", "/proc/net/netfilter/nfnetlink_queue"], check=False).stdout
    return sum(int(line.split()[7]) for line in out.splitlines() if len(line.split()) > 7)


def kpath_tsnitch(ns, cgroup, rules=(), config=None, env_extra=None):
    env = dict(os.environ)
    env["TSNITCH_KPATH_CGROUP"] = cgroup.relative
    env.update(env_extra or {})
    cfg = {"ProcMonitorMethod": "ebpf"}
    cfg.update(config or {})
    return Tsnitch(ns, rules=rules, config=cfg, env=env)
