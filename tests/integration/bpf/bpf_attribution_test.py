"""eBPF attribution on the real kernel: every kind of outgoing flow is attributed to the process
that sent it, with its executable, also when the process is already gone.

The probe (tests/integration/bpf/bpf_probe) loads the BPF module and answers lookups for the
tuples the packets show; the traffic runs between two private namespaces. Packets to the "held"
ports are dropped in the client namespace's OUTPUT chain, where NFQUEUE would hold them: the
lookups then see the maps as tsnitch sees them while a packet waits for its verdict (the
cgroup_skb egress hook, which runs after OUTPUT, never saw those packets).
"""
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import threading

from netns import NetnsPair, V4_CLIENT, V4_PEER, V6_CLIENT, V6_PEER, require_root, tsnitch_binary

TCP_PORT, UDP_PORT = 8000, 9000  # delivered to the peer
HELD_TCP, HELD_UDP = 8001, 9001  # dropped in OUTPUT, like packets waiting in the queue
# The short-lived senders each use their own held port: a source port freed by one exiting sender
# may be picked by the next, and the same 5-tuple used twice would name only the later process.
HELD_RANGE = (9100, 9199)
PYTHON = os.path.realpath(sys.executable)

PEER = textwrap.dedent(f"""
    import socket, threading
    def udp(family, addr):
        s = socket.socket(family, socket.SOCK_DGRAM)
        if family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, {UDP_PORT}))
        while True:
            s.recvfrom(2048)
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

# Opens one flow as MODE says, prints {"pid", "src", "sport"} (the socket's own view) and then
# either waits for a line on stdin or, with "exit" as 4th argument, exits at once.
CLIENT = textwrap.dedent("""
    import errno, json, os, signal, socket, sys
    mode, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    quit_now = len(sys.argv) > 4
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    def report(s, pid=None):
        name = s.getsockname()
        print(json.dumps({"pid": pid or os.getpid(), "src": name[0], "sport": name[1]}), flush=True)
    def send(s, *to):
        try:  # a datagram dropped in OUTPUT fails with EPERM; it was still sent as far as we care
            s.sendto(b"x", *to) if to else s.send(b"x")
        except PermissionError:
            pass
    def tcp_connect(s):
        s.setblocking(False)  # a held SYN never gets an answer
        err = s.connect_ex((dst, port))
        assert err in (0, errno.EINPROGRESS), err
    if mode == "tcp":
        s = socket.socket(fam, socket.SOCK_STREAM)
        tcp_connect(s)
        report(s)
    elif mode == "udp-sendto":
        s = socket.socket(fam, socket.SOCK_DGRAM)
        send(s, (dst, port))
        report(s)
    elif mode == "udp-connected":
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.connect((dst, port))
        send(s)
        report(s)
    elif mode in ("fork-udp", "fork-tcp"):
        s = socket.socket(fam, socket.SOCK_DGRAM if mode == "fork-udp" else socket.SOCK_STREAM)
        r, w = os.pipe()
        child = os.fork()
        if child == 0:
            if mode == "fork-udp":
                send(s, (dst, port))
            else:
                tcp_connect(s)
            os.write(w, b"sent")
            signal.pause()
        os.read(r, 4)
        report(s, pid=child)
        sys.stdin.readline()
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        sys.exit(0)
    if not quit_now:
        sys.stdin.readline()
""")


class Probe:
    def __init__(self, ns, probe_path, env=None, args=()):
        self.p = ns.popen(ns.client, [probe_path, *args], stdin=subprocess.PIPE, text=True,
                          env=env)
        self.ready = json.loads(self.p.stdout.readline() or '{"ready": false, "error": "no output"}')

    def lookup(self, proto, src, sport, dst, dport):
        self.p.stdin.write(f"lookup {proto} {src} {sport} {dst} {dport}\n")
        self.p.stdin.flush()
        return json.loads(self.p.stdout.readline())

    def send(self, dst, dport):
        """A datagram from the probe itself, on a UDP socket connected first."""
        self.p.stdin.write(f"send {dst} {dport}\n")
        self.p.stdin.flush()
        return json.loads(self.p.stdout.readline())

    def close(self):
        self.p.stdin.close()
        return self.p.wait(timeout=30)


failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def owned_by(ans, pid):
    return bool(ans.get("found") and ans.get("pid") == pid and ans.get("method") == "ebpf"
                and os.path.realpath(ans.get("path", "")) == PYTHON)


def unmap(a):
    return a[len("::ffff:"):] if a.startswith("::ffff:") else a


class Clients:
    def __init__(self, ns, tmp):
        self.ns = ns
        self.script = os.path.join(tmp, "client.py")
        with open(self.script, "w") as f:
            f.write(CLIENT)

    def start(self, mode, dst, port, *extra):
        c = self.ns.popen(self.ns.client, [PYTHON, self.script, mode, dst, str(port), *extra],
                          stdin=subprocess.PIPE, text=True)
        line = c.stdout.readline()
        try:
            return c, json.loads(line)
        except json.JSONDecodeError:
            raise SystemExit(f"client {mode} {dst} failed: {c.stderr.read()}")

    @staticmethod
    def stop(c):
        c.stdin.write("exit\n")
        c.stdin.flush()
        c.wait(timeout=10)


def flows(probe, clients):
    # (what, mode, destination as the program writes it, protocol, port, packet source when the
    #  socket is not bound to an address)
    cases = [
        ("tcp v4", "tcp", V4_PEER, "tcp", HELD_TCP, None),
        ("tcp v6", "tcp", V6_PEER, "tcp", HELD_TCP, None),
        ("udp v4 sendto, unconnected", "udp-sendto", V4_PEER, "udp", HELD_UDP, V4_CLIENT),
        ("udp v6 sendto, unconnected", "udp-sendto", V6_PEER, "udp", HELD_UDP, V6_CLIENT),
        ("udp v4 connected, first packet held", "udp-connected", V4_PEER, "udp", HELD_UDP, None),
        ("udp v6 connected, first packet held", "udp-connected", V6_PEER, "udp", HELD_UDP, None),
        ("udp v4 connected, delivered", "udp-connected", V4_PEER, "udp", UDP_PORT, None),
        ("dual-stack tcp socket to an IPv4 peer", "tcp", "::ffff:" + V4_PEER, "tcp", HELD_TCP, None),
        ("dual-stack udp sendto an IPv4 peer", "udp-sendto", "::ffff:" + V4_PEER, "udp", HELD_UDP,
         V4_CLIENT),
        ("udp socket of a parent used by its child", "fork-udp", V4_PEER, "udp", HELD_UDP, V4_CLIENT),
        ("tcp socket of a parent connected by its child", "fork-tcp", V4_PEER, "tcp", HELD_TCP, None),
    ]
    for what, mode, dst, proto, dport, packet_src in cases:
        c, info = clients.start(mode, dst, dport)
        # The packet shows the routed source address and the plain IPv4 form of mapped peers.
        ans = probe.lookup(proto, unmap(packet_src or info["src"]), info["sport"], unmap(dst), dport)
        check(owned_by(ans, info["pid"]), f"{what}: attributed to pid {info['pid']} {PYTHON} ({ans})")
        # The queue readers find the owner in tsn_recent's slot, without a system call.
        check(ans.get("fast_pid") == info["pid"] and
              ans.get("fast_via") in ("recent", "recent-any-source"),
              f"{what}: from memory too ({ans.get('fast_via')}, pid {ans.get('fast_pid')})")
        if "first packet held" in what:
            # connect() ran before the port was bound; the send (raw_tp/sys_enter) stored the
            # exact flow with the bound port, so the packet held in the queue is found by it.
            check(ans.get("via") == "flow", f"{what}: found by its exact flow ({ans.get('via')})")
        clients.stop(c)


def short_lived(probe, clients):
    """100 processes each send one datagram (held, as if queued) and exit at once; they are
    looked up only after all of them are gone."""
    procs = []
    for i in range(100):
        mode = "udp-sendto" if i % 2 else "udp-connected"
        port = HELD_RANGE[0] + i
        procs.append((port, clients.ns.popen(clients.ns.client,
                                             [PYTHON, clients.script, mode, V4_PEER, str(port), "exit"],
                                             text=True)))
    sent = []
    for port, p in procs:
        out, _ = p.communicate(timeout=120)
        if p.returncode == 0 and out.strip():
            sent.append(dict(json.loads(out.splitlines()[0]), dport=port))
    check(len(sent) == 100, f"short-lived: 100 senders ran ({len(sent)})")
    right = 0
    for info in sent:
        src = V4_CLIENT if info["src"] == "0.0.0.0" else info["src"]
        ans = probe.lookup("udp", src, info["sport"], V4_PEER, info["dport"])
        if owned_by(ans, info["pid"]) and ans.get("released"):
            right += 1
        else:
            print(f"     pid {info['pid']} {src}:{info['sport']}: {ans}")
    check(right == 100, f"short-lived: {right} of 100 exited senders attributed to pid and exe")
    return sent


def sweep(probe, sent):
    """Flows of closed sockets are kept for a grace period, then swept away."""
    probe.p.stdin.write("sweep 3600\n")
    probe.p.stdin.flush()
    kept = json.loads(probe.p.stdout.readline())
    check(kept.get("removed") == 0, f"sweep keeps flows closed less than the grace period ago ({kept})")
    probe.p.stdin.write("sweep 0\n")
    probe.p.stdin.flush()
    swept = json.loads(probe.p.stdout.readline())
    check(swept.get("removed", 0) >= len(sent), f"sweep removes the closed senders' flows ({swept})")
    info = sent[0]
    src = V4_CLIENT if info["src"] == "0.0.0.0" else info["src"]
    ans = probe.lookup("udp", src, info["sport"], V4_PEER, info["dport"])
    check(ans.get("found") is False, f"a swept flow of an exited process is no longer found ({ans})")


def own_sends(ns, probe_path):
    """raw_tp/sys_enter completes the key of a connected UDP socket whose port connect() bound,
    at its first send; `tsnitch run` leaves its own sends out (BpfOptions::ignore_own_sends),
    so its own such flow is found by the socket's cookie instead."""
    for args, want in (((), "flow"), (("--ignore-own-sends",), "cookie")):
        p = Probe(ns, probe_path, args=args)
        sent = p.send(V4_PEER, UDP_PORT)
        ans = p.lookup("udp", V4_CLIENT, sent.get("sport"), V4_PEER, UDP_PORT)
        check(ans.get("found") and ans.get("pid") == sent.get("pid") and ans.get("via") == want,
              f"own send {' '.join(args) or '(looked at)'}: found via {want} ({sent}, {ans})")
        check(p.close() == 0, "the probe exits cleanly")


def failures_to_load(ns, probe_path, clients):
    """When the module cannot be used, attribution goes on with diag and says why; no crash."""
    c, info = clients.start("tcp", V4_PEER, TCP_PORT)  # a live, delivered connection
    env = dict(os.environ, TSNITCH_BPF_FORCE_FAIL="1")
    forced = Probe(ns, probe_path, env=env)
    check(forced.ready.get("ready") is True and forced.ready.get("ebpf") is False
          and "TSNITCH_BPF_FORCE_FAIL" in forced.ready.get("notice", "")
          and forced.ready.get("method") == "diag",
          f"forced failure: falls back to diag with a notice ({forced.ready})")
    ans = forced.lookup("tcp", info["src"], info["sport"], V4_PEER, TCP_PORT)
    check(ans.get("found") and ans.get("method") == "diag" and ans.get("pid") == info["pid"],
          f"forced failure: the connection is still attributed, by diag ({ans})")
    check(forced.close() == 0, "forced failure: the probe exits cleanly")
    clients.stop(c)
    # A real refusal: an unprivileged user may not load BPF programs.
    unpriv = ns.run(ns.client, ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", probe_path],
                    check=False, stdin=subprocess.DEVNULL)
    first = json.loads(unpriv.stdout.splitlines()[0]) if unpriv.stdout else {}
    check(unpriv.returncode == 0 and first.get("ebpf") is False
          and "not permitted" in first.get("notice", ""),
          f"unprivileged: loading refused with the reason, diag used, no crash ({first}, exit {unpriv.returncode})")


def main():
    require_root()
    build = os.path.dirname(os.path.dirname(os.path.realpath(tsnitch_binary())))
    probe_path = os.environ.get("BPF_PROBE", os.path.join(build, "tests", "integration", "bpf", "bpf_probe"))
    if not os.access(probe_path, os.X_OK):
        raise SystemExit(f"bpf_probe not built at {probe_path}")

    with NetnsPair() as ns, tempfile.TemporaryDirectory() as tmp:
        # A namespace without a single TCP/UDP socket is a normal start.
        empty = Probe(ns, probe_path)
        check(empty.ready.get("ebpf") is True and empty.ready.get("sockets") == 0
              and not empty.ready.get("seed_error"),
              f"loads in a namespace without sockets ({empty.ready})")
        check(empty.close() == 0, "the probe exits cleanly")

        held_udp = f"{HELD_UDP}:{HELD_RANGE[1]}"
        for tool, proto, ports in (("iptables", "udp", held_udp), ("iptables", "tcp", str(HELD_TCP)),
                                   ("ip6tables", "udp", held_udp), ("ip6tables", "tcp", str(HELD_TCP))):
            ns.run(ns.client, [tool, "-A", "OUTPUT", "-p", proto, "--dport", ports, "-j", "DROP"])

        peer = ns.popen(ns.peer, [PYTHON, "-c", PEER], text=True)
        check(peer.stdout.readline().strip() == "listening", "peer listens")
        threading.Thread(target=lambda: peer.stdout.read(), daemon=True).start()

        # Connections that exist before the module is loaded are seeded from sock_diag.
        clients = Clients(ns, tmp)
        before = [clients.start("tcp", V4_PEER, TCP_PORT), clients.start("tcp", V6_PEER, TCP_PORT),
                  clients.start("udp-connected", V4_PEER, UDP_PORT)]
        probe = Probe(ns, probe_path)
        check(probe.ready.get("ebpf") is True and probe.ready.get("seeded", 0) >= 3,
              f"loads and seeds the existing sockets ({probe.ready})")
        for (c, info), (proto, dst, port) in zip(before, (("tcp", V4_PEER, TCP_PORT), ("tcp", V6_PEER, TCP_PORT),
                                                          ("udp", V4_PEER, UDP_PORT))):
            ans = probe.lookup(proto, info["src"], info["sport"], dst, port)
            check(owned_by(ans, info["pid"]), f"existing {proto} to {dst} attributed after seeding ({ans})")
            clients.stop(c)

        flows(probe, clients)
        sent = short_lived(probe, clients)
        sweep(probe, sent)
        check(probe.close() == 0, "the probe exits cleanly")

        own_sends(ns, probe_path)
        failures_to_load(ns, probe_path, clients)
        check_out = subprocess.run([tsnitch_binary(), "check"], stdout=subprocess.PIPE, text=True, timeout=60)
        check(check_out.returncode == 0 and "cgroup/connect4" in check_out.stdout,
              "tsnitch check lists the hooks and exits 0")

    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)


if __name__ == "__main__":
    main()
