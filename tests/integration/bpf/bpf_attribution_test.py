"""eBPF attribution on the real kernel: every kind of outgoing flow is attributed to the process
that sent it, with its executable, also when the process is already gone.

The probe (tests/integration/bpf/bpf_probe) loads the BPF module and answers lookups for the
tuples the packets show; the traffic runs between two private namespaces.
"""
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

from netns import NetnsPair, V4_CLIENT, V4_PEER, V6_CLIENT, V6_PEER, require_root, tsnitch_binary, wait_for

TCP_PORT, UDP_PORT = 8000, 9000
PYTHON = os.path.realpath(sys.executable)
BASH = os.path.realpath("/bin/bash")

PEER = textwrap.dedent(f"""
    import socket, sys, threading
    def udp(family, addr):
        s = socket.socket(family, socket.SOCK_DGRAM)
        if family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, {UDP_PORT}))
        while True:
            data, src = s.recvfrom(2048)
            print("udp", src[0], src[1], data.decode(errors="replace").strip(), flush=True)
    def tcp(family, addr):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, {TCP_PORT}))
        s.listen(64)
        conns = []
        while True:
            conns.append(s.accept()[0])
    for f, a in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        threading.Thread(target=udp, args=(f, a), daemon=True).start()
        threading.Thread(target=tcp, args=(f, a), daemon=True).start()
    print("listening", flush=True)
    threading.Event().wait()
""")

# Opens one flow as MODE says, prints {"pid", "src", "sport"} as the packets show them and waits
# for a line on stdin (so that the test decides when it exits).
CLIENT = textwrap.dedent(f"""
    import json, os, signal, socket, sys
    mode, dst = sys.argv[1], sys.argv[2]
    v6 = ":" in dst
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    def report(s, pid=None):
        name = s.getsockname()
        print(json.dumps({{"pid": pid or os.getpid(), "src": name[0], "sport": name[1]}}), flush=True)
    if mode == "tcp":
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.connect((dst, {TCP_PORT}))
        report(s)
    elif mode == "udp-sendto":
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.sendto(b"x", (dst, {UDP_PORT}))
        report(s)
    elif mode == "udp-connected":
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.connect((dst, {UDP_PORT}))
        s.send(b"x")
        report(s)
    elif mode in ("fork-udp", "fork-tcp"):
        s = socket.socket(fam, socket.SOCK_DGRAM if mode == "fork-udp" else socket.SOCK_STREAM)
        r, w = os.pipe()
        child = os.fork()
        if child == 0:
            if mode == "fork-udp":
                s.sendto(b"x", (dst, {UDP_PORT}))
            else:
                s.connect((dst, {TCP_PORT}))
            os.write(w, b"sent")
            signal.pause()
        os.read(r, 4)
        report(s, pid=child)
        sys.stdin.readline()
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        sys.exit(0)
    sys.stdin.readline()
""")


class Probe:
    def __init__(self, ns, probe_path, env=None):
        self.p = ns.popen(ns.client, [probe_path], stdin=subprocess.PIPE, text=True, env=env)
        self.ready = json.loads(self.p.stdout.readline() or '{"ready": false, "error": "no output"}')

    def lookup(self, proto, src, sport, dst, dport):
        self.p.stdin.write(f"lookup {proto} {src} {sport} {dst} {dport}\n")
        self.p.stdin.flush()
        return json.loads(self.p.stdout.readline())


failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def expect_owner(ans, pid, exe, what):
    check(ans.get("found") and ans.get("pid") == pid and ans.get("method") == "ebpf"
          and os.path.realpath(ans.get("path", "")) == exe,
          f"{what}: attributed to pid {pid} {exe} (got {ans})")


def flows(ns, probe, tmp):
    client_py = os.path.join(tmp, "client.py")
    with open(client_py, "w") as f:
        f.write(CLIENT)
    cases = [
        ("tcp v4", "tcp", V4_PEER, "tcp", TCP_PORT, None),
        ("tcp v6", "tcp", V6_PEER, "tcp", TCP_PORT, None),
        ("udp v4 sendto, unconnected", "udp-sendto", V4_PEER, "udp", UDP_PORT, V4_CLIENT),
        ("udp v6 sendto, unconnected", "udp-sendto", V6_PEER, "udp", UDP_PORT, V6_CLIENT),
        ("udp v4 connected", "udp-connected", V4_PEER, "udp", UDP_PORT, None),
        ("udp v6 connected", "udp-connected", V6_PEER, "udp", UDP_PORT, None),
        ("dual-stack tcp socket to an IPv4 peer", "tcp", "::ffff:" + V4_PEER, "tcp", TCP_PORT, None),
        ("dual-stack udp sendto an IPv4 peer", "udp-sendto", "::ffff:" + V4_PEER, "udp", UDP_PORT,
         V4_CLIENT),
        ("udp socket of a parent used by its child", "fork-udp", V4_PEER, "udp", UDP_PORT, V4_CLIENT),
        ("tcp socket of a parent connected by its child", "fork-tcp", V4_PEER, "tcp", TCP_PORT, None),
    ]
    for what, mode, dst, proto, dport, packet_src in cases:
        c = ns.popen(ns.client, [PYTHON, client_py, mode, dst], stdin=subprocess.PIPE, text=True)
        try:
            info = json.loads(c.stdout.readline())
        except json.JSONDecodeError:
            check(False, f"{what}: client ran ({c.stderr.read()})")
            continue
        # The packet shows the routed source address and the plain IPv4 form of mapped peers.
        src = packet_src or info["src"]
        if src.startswith("::ffff:"):
            src = src[len("::ffff:"):]
        wire_dst = dst[len("::ffff:"):] if dst.startswith("::ffff:") else dst
        ans = probe.lookup(proto, src, info["sport"], wire_dst, dport)
        expect_owner(ans, info["pid"], PYTHON, what)
        c.stdin.write("exit\n")
        c.stdin.flush()
        c.wait(timeout=10)


def short_lived(ns, probe, peer_lines, tmp):
    """100 processes each send one datagram and exit at once; looked up only after all are gone."""
    sender = os.path.join(tmp, "send_once.py")
    with open(sender, "w") as f:
        f.write("import os, socket, sys\n"
                "socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto("
                "str(os.getpid()).encode(), (sys.argv[1], int(sys.argv[2])))\n")
    procs = []
    for i in range(100):
        if i % 2:
            # bash's /dev/udp: a connected UDP socket written once
            args = [BASH, "-c", f"echo $$ > /dev/udp/{V4_PEER}/{UDP_PORT}"]
        else:
            args = [PYTHON, sender, V4_PEER, str(UDP_PORT)]
        procs.append(ns.popen(ns.client, args, stdout=subprocess.DEVNULL))
    for p in procs:
        p.wait(timeout=60)
    got = wait_for(lambda: len([l for l in peer_lines if l[0] == "udp" and l[3].isdigit()]) >= 100,
                   timeout=10)
    check(got, "short-lived: the peer received 100 datagrams")
    right = 0
    for kind, src, sport, payload in [l for l in peer_lines if l[0] == "udp" and l[3].isdigit()]:
        ans = probe.lookup("udp", src, sport, V4_PEER, UDP_PORT)
        pid = int(payload)
        if ans.get("found") and ans.get("pid") == pid and \
                os.path.realpath(ans.get("path", "")) in (PYTHON, BASH):
            right += 1
        else:
            print(f"     short-lived pid {pid} from {src}:{sport}: {ans}")
    check(right == 100, f"short-lived: {right} of 100 exited senders attributed to pid and exe")


def main():
    require_root()
    build = os.path.dirname(os.path.dirname(os.path.realpath(tsnitch_binary())))
    probe_path = os.environ.get("BPF_PROBE", os.path.join(build, "tests", "integration", "bpf", "bpf_probe"))
    if not os.access(probe_path, os.X_OK):
        raise SystemExit(f"bpf_probe not built at {probe_path}")

    with NetnsPair() as ns, tempfile.TemporaryDirectory() as tmp:
        # An empty namespace (no TCP/UDP sockets at all) is a normal start.
        probe = Probe(ns, probe_path)
        check(probe.ready.get("ready") is True, f"loads in a namespace without sockets ({probe.ready})")
        if not probe.ready.get("ready"):
            sys.exit(1)

        peer_lines = []
        peer = ns.popen(ns.peer, [PYTHON, "-c", PEER], text=True)
        check(peer.stdout.readline().strip() == "listening", "peer listens")

        def read_peer():
            for line in peer.stdout:
                parts = line.split()
                if len(parts) == 4:
                    peer_lines.append((parts[0], parts[1], int(parts[2]), parts[3]))
        threading.Thread(target=read_peer, daemon=True).start()

        flows(ns, probe, tmp)
        peer_lines.clear()
        short_lived(ns, probe, peer_lines, tmp)

        # Forced failure: a clean error, exit 1, no crash.
        env = dict(os.environ, TSNITCH_BPF_FORCE_FAIL="1")
        forced = Probe(ns, probe_path, env=env)
        rc = forced.p.wait(timeout=10)
        check(forced.ready.get("ready") is False and "TSNITCH_BPF_FORCE_FAIL" in forced.ready.get("error", "")
              and rc == 1, f"forced failure reported cleanly ({forced.ready}, exit {rc})")
        # A real refusal: an unprivileged user may not load BPF programs.
        unpriv = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", probe_path],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True, timeout=30)
        first = json.loads(unpriv.stdout.splitlines()[0]) if unpriv.stdout else {}
        check(unpriv.returncode == 1 and first.get("ready") is False and first.get("error"),
              f"unprivileged load refused with a reason, no crash ({first}, exit {unpriv.returncode})")

        check_out = subprocess.run([tsnitch_binary(), "check"], stdout=subprocess.PIPE, text=True, timeout=60)
        check(check_out.returncode == 0 and "cgroup/connect4" in check_out.stdout,
              "tsnitch check lists the hooks and exits 0")

    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)


if __name__ == "__main__":
    main()
