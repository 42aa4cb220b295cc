"""Attribution truth (issue 14): for every class of sender a firewall meets, the decision that
`tsnitch run --headless --method ebpf` writes to --events names the process that sent (its pid as
the host sees it) and the program it ran when it sent (the path as the kernel names it).

Every case runs at least 3 times (short-lived processes race user space) and every run must be
right. The cases: short-lived TCP, UDP and ICMP/ICMPv6 (raw and ping sockets) senders; a
connected UDP socket used by a forked child and by a thread; a send just before an exec, and an
exec into another program that then sends; a relative program path, a fileless (memfd) program and
a chrooted one, and one in another mount namespace whose root is not tsnitch's; the forked children of a process that started before tsnitch; a script run by its
interpreter (its path in the arguments); a sender in its own pid namespace; SO_REUSEPORT;
sendmmsg; broadcast and multicast; IPv6 link-local; and a socket tsnitch cannot know (pid null).
"""
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "engine"))
from netns import require_root, skip, tsnitch_binary, wait_for
from tsnitch_run import NetnsPair, PYTHON, StderrLines, Tsnitch, check  # noqa: E402

require_root()

HERE = os.path.dirname(os.path.realpath(__file__))
SENDER = os.path.join(HERE, "truth_sender.py")
BUILD = os.path.dirname(os.path.dirname(os.path.realpath(tsnitch_binary())))
UDP_ONCE = os.path.join(BUILD, "tests", "integration", "engine", "udp_once")
if not os.access(UDP_ONCE, os.X_OK):
    raise SystemExit(f"udp_once not built at {UDP_ONCE}")
RUNS = 3

ALLOW_ALL = {"created": "2026-11-28T20:00:00Z", "updated": "2026-11-28T20:00:00Z",
             "name": "allow-all", "enabled": True, "precedence": False, "action": "allow",
             "duration": "always",
             "operator": {"type": "simple", "operand": "true", "sensitive": False, "data": ""}}

# A socket opened before tsnitch starts that sends afterwards. ICMP sockets are in no table that
# seeding reads and have no cookie: the sender is named at the send all the same.
EARLY_ICMP = r"""
import os, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
print("ready", os.getpid(), flush=True)
sys.stdin.readline()
body = struct.pack("!BBHHH", 8, 0, 0, 77, 1)
s.sendto(body[:2] + struct.pack("!H", ~(0x0800 + 77 + 1) & 0xffff) + body[4:], (sys.argv[1], 0))
print("sent", flush=True)
sys.stdin.readline()
"""

# A parent that started before tsnitch and forks short-lived children (no exec) on request.
EARLY_PARENT = r"""
import json, os, socket, sys
print("ready", flush=True)
for line in sys.stdin:
    dst, port = line.split()
    child = os.fork()
    if child == 0:
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", (dst, int(port)))
        os._exit(0)
    os.waitpid(child, 0)
    print(json.dumps({"proto": "udp", "dst": dst, "dport": int(port), "pid": child,
                      "exe": os.readlink("/proc/self/exe"), "args": None}), flush=True)
"""


class Ports:
    """Unique destination ports and addresses, so that every flow is its own decision."""

    def __init__(self):
        self.port = 21000
        self.host = 20

    def next_port(self, step=1):
        self.port += step
        return self.port

    def next_v4(self):
        self.host += 1
        return f"10.77.0.{self.host}"

    def next_v6(self):
        self.host += 1
        return f"fd77::{self.host:x}"


def same_ip(a, b):
    return ipaddress.ip_address(a.split("%")[0]) == ipaddress.ip_address(b.split("%")[0])


def run_case(ns, args, cwd=None, prefix=()):
    r = ns.run(ns.client, list(prefix) + args, check=False, timeout=30, cwd=cwd)
    if r.returncode != 0:
        raise AssertionError(f"sender {args} failed: {r.stderr}")
    return [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]


def sender(mode, dst, port, *extra):
    return [PYTHON, SENDER, mode, dst, str(port)] + [str(e) for e in extra]


def chroot_with(program, where):
    """A directory holding `program` (as /sender) and the libraries it needs."""
    os.makedirs(where, exist_ok=True)
    shutil.copy(program, os.path.join(where, "sender"))
    out = subprocess.run(["ldd", program], stdout=subprocess.PIPE, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        lib = next((p for p in parts if p.startswith("/")), None)
        if lib:
            dest = os.path.join(where, lib.lstrip("/"))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copy(lib, dest)
    return os.path.join(os.path.realpath(where), "sender")


def main():
    if shutil.which("unshare") is None or shutil.which("ldd") is None:
        skip("needs unshare and ldd (util-linux, libc-bin)")
    work = tempfile.mkdtemp(prefix="tsnitch-truth-attrib-")
    try:
        with NetnsPair() as ns:
            run(ns, work)
    finally:
        shutil.rmtree(work, True)


def run(ns, work):
    ns.run(ns.client, ["sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647"])
    p = Ports()
    cases = {}  # name -> list of expectations

    early_icmp_dst = p.next_v4()
    early_icmp = ns.popen(ns.client, [PYTHON, "-c", EARLY_ICMP, early_icmp_dst], text=True,
                          stdin=subprocess.PIPE)
    early_parent = ns.popen(ns.client, [PYTHON, "-c", EARLY_PARENT], text=True,
                            stdin=subprocess.PIPE)
    ready = [proc.stdout.readline().split() for proc in (early_icmp, early_parent)]
    if [r[:1] for r in ready] != [["ready"], ["ready"]]:
        raise AssertionError(f"an early process did not start: {ready}")
    early_icmp_pid = int(ready[0][1])

    t = Tsnitch(ns, [ALLOW_ALL], config={"ProcMonitorMethod": "ebpf"},
                extra=["--method", "ebpf"]).start()
    err = StderrLines(t)
    if not wait_for(lambda: "intercepting:" in err.text(), timeout=5):
        raise AssertionError(f"no start message: {err.text()}")
    if "eBPF unavailable" in err.text():
        t.stop()
        skip("eBPF unavailable on this machine: " + err.text().splitlines()[0])

    def add(name, expectations):
        cases.setdefault(name, []).extend(expectations)

    for _ in range(RUNS):
        add("tcp short-lived v4", run_case(ns, sender("tcp-short", p.next_v4(), p.next_port())))
        add("tcp short-lived v6", run_case(ns, sender("tcp-short", p.next_v6(), p.next_port())))
        add("udp short-lived v4", run_case(ns, sender("udp-short", p.next_v4(), p.next_port())))
        add("udp short-lived v6", run_case(ns, sender("udp-short", p.next_v6(), p.next_port())))
        add("connected udp sent by a forked child",
            run_case(ns, sender("udp-connected-fork", p.next_v4(), p.next_port())))
        add("connected udp written to by a forked child",
            run_case(ns, sender("udp-connected-fork-write", p.next_v6(), p.next_port())))
        add("connected udp sent by a thread",
            run_case(ns, sender("udp-connected-thread", p.next_v6(), p.next_port())))
        add("icmp raw socket", run_case(ns, sender("icmp-raw", p.next_v4(), 0)))
        add("icmpv6 raw socket", run_case(ns, sender("icmp-raw", p.next_v6(), 0)))
        add("icmp ping socket", run_case(ns, sender("icmp-dgram", p.next_v4(), 0)))
        add("icmpv6 ping socket", run_case(ns, sender("icmp-dgram", p.next_v6(), 0)))
        add("a send just before an exec",
            run_case(ns, sender("exec-after-send", p.next_v4(), p.next_port())))
        port = p.next_port(2)
        add("an exec into another program that sends",
            run_case(ns, sender("exec-then-send", p.next_v4(), port - 1, UDP_ONCE, port)))
        add("a fileless (memfd) program",
            run_case(ns, sender("memfd", p.next_v4(), p.next_port(), UDP_ONCE)))
        add("sendmmsg to two ports", run_case(ns, sender("sendmmsg", p.next_v4(), p.next_port(2))))
        add("broadcast", run_case(ns, sender("broadcast", "10.77.0.255", p.next_port())))
        add("multicast",
            run_case(ns, sender("multicast", "239.77.0.1", p.next_port(), "10.77.0.1")))
        add("SO_REUSEPORT senders",
            run_case(ns, sender("reuseport", p.next_v4(), p.next_port(2), p.next_port())))
        add("IPv6 link-local",
            run_case(ns, sender("udp-short", f"fe80::77:{p.next_port():x}%veth0", 9999)))
        add("a sender in its own pid namespace",
            run_case(ns, ["unshare", "--pid", "--fork"] +
                     sender("udp-short", p.next_v4(), p.next_port())))

    # A relative program path: ./sender run from its directory, gone at once.
    reldir = os.path.join(work, "rel")
    os.makedirs(reldir)
    shutil.copy(UDP_ONCE, os.path.join(reldir, "sender"))
    for _ in range(RUNS):
        dst, port = p.next_v4(), p.next_port()
        out = ns.run(ns.client, ["./sender", dst, str(port)], cwd=reldir).stdout.split()
        add("a program started by a relative path",
            [{"proto": "udp", "dst": dst, "dport": port, "pid": int(out[0]),
              "exe": os.path.join(os.path.realpath(reldir), "sender"), "args": None}])

    # A chrooted program: named by its host path, never as the /sender it sees.
    jail_exe = chroot_with(UDP_ONCE, os.path.join(work, "jail"))
    for _ in range(RUNS):
        dst, port = p.next_v4(), p.next_port()
        out = ns.run(ns.client, ["chroot", os.path.dirname(jail_exe), "/sender", dst,
                                 str(port)]).stdout.split()
        add("a chrooted program",
            [{"proto": "udp", "dst": dst, "dport": port, "pid": int(out[0]), "exe": jail_exe,
              "args": None}])

    # A program of another mount namespace whose root is not ours (as a container's): a tmpfs
    # made its root by pivot_root. Its /sender is no host path and must never read as one.
    box = os.path.join(work, "box")
    os.makedirs(box)
    for _ in range(RUNS):
        dst, port = p.next_v4(), p.next_port()
        script = (f"mount -t tmpfs tsnitch-truth {box} && cp -a {os.path.dirname(jail_exe)}/. "
                  f"{box}/ && mkdir {box}/old && cd {box} && pivot_root . old && "
                  f"exec /sender {dst} {port}")
        out = ns.run(ns.client, ["unshare", "--mount", "sh", "-c", script]).stdout.split()
        add("a program in another mount namespace (container root)",
            [{"proto": "udp", "dst": dst, "dport": port, "pid": int(out[0]),
              "exe": "(unreachable)/sender", "args": None}])

    # A script through its interpreter: the interpreter is the program, the script an argument.
    script = os.path.join(work, "job_script.py")
    with open(script, "w") as f:
        f.write("import socket, sys, os, json\n"
                "socket.socket().close()\n"
                "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                "s.sendto(b'x', (sys.argv[1], int(sys.argv[2])))\n"
                "print(os.getpid())\n")
    for _ in range(RUNS):
        dst, port = p.next_v4(), p.next_port()
        out = ns.run(ns.client, [PYTHON, script, dst, str(port)]).stdout.split()
        add("a script run by its interpreter",
            [{"proto": "udp", "dst": dst, "dport": port, "pid": int(out[0]), "exe": PYTHON,
              "args": script}])

    # The forked children of a parent older than tsnitch.
    for _ in range(RUNS):
        early_parent.stdin.write(f"{p.next_v4()} {p.next_port()}\n")
        early_parent.stdin.flush()
        add("the forked children of a process older than tsnitch",
            [json.loads(early_parent.stdout.readline())])

    early_icmp.stdin.write("\n")
    early_icmp.stdin.flush()
    early_icmp.stdout.readline()

    total = sum(len(v) for v in cases.values()) + 1
    wait_for(lambda: len(t.events()) >= total, timeout=20)
    time.sleep(1.0)
    events = t.events()
    t.stop()
    early_icmp.stdin.close()
    early_parent.stdin.close()

    def found(e):
        ev = [x for x in events if x["protocol"] == e["proto"] and same_ip(x["dst_ip"], e["dst"])
              and (e["proto"].startswith("icmp") or x["dst_port"] == e["dport"])]
        return ev

    failures = []
    for name, expectations in cases.items():
        bad = []
        for e in expectations:
            ev = found(e)
            if len(ev) != 1:
                bad.append(f"{e['proto']} to {e['dst']}:{e['dport']}: {len(ev)} events")
                continue
            x = ev[0]
            ok = x["pid"] == e["pid"] and x["process_path"] == e["exe"]
            if e["args"] and e["args"] not in x["process_args"]:
                ok = False
            if not ok:
                bad.append(f"expected pid {e['pid']} {e['exe']} (args with {e['args']}), got "
                           f"pid {x['pid']} {x['process_path']!r} {x['process_args']} "
                           f"by {x['method']} ({x['reason']})")
        status = "ok" if not bad else "FAIL"
        print(f"{status}: {name}: {len(expectations) - len(bad)}/{len(expectations)} right")
        for b in bad:
            print(f"    {b}")
        if bad:
            failures.append(name)

    early = [x for x in events if x["protocol"] == "icmp" and same_ip(x["dst_ip"], early_icmp_dst)]
    check(len(early) == 1 and early[0]["pid"] == early_icmp_pid and early[0]["method"] == "ebpf"
          and early[0]["process_path"] == PYTHON,
          f"an ICMP socket opened before tsnitch is named after its sender "
          f"(pid {early_icmp_pid}): {early}")
    check(not failures, f"every run of every case names the right process ({failures} wrong)")


main()
