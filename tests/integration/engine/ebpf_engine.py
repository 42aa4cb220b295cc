"""The whole engine (tsnitch run --headless, NFQUEUE) with the eBPF rung, end to end (issue 5):

1. 100 short-lived processes each send one UDP datagram (every other one to the IPv6 peer) and
   exit at once, under a rule that allows only their executable (DefaultAction deny): all 100
   arrive, and every decision is an allow by `method: ebpf` naming that executable and the
   sender's pid. The same with --method proc is run for comparison and only reported.
2. Unconnected UDP sendto over v4 and v6, a dual-stack socket to an IPv4 peer (TCP and UDP), a
   socket a parent created and its child used after fork, TCP v4/v6 and connected UDP: the decision
   names the pid that sent and its exe, by ebpf (verdicts.py checks the verdicts themselves).
3. Started in a namespace without sockets it works; a UDP socket connected before tsnitch started
   that sends its first datagram afterwards is attributed by ebpf (the maps were seeded).
4. TSNITCH_BPF_FORCE_FAIL=1: tsnitch starts, says once that eBPF is unavailable, decides by diag;
   `tsnitch check` lists every hook.
"""
import json
import os
import subprocess
import time

from netns import require_root, skip, tsnitch_binary, wait_for
from tsnitch_run import (NetnsPair, PYTHON, StderrLines, Tsnitch, V4_PEER, V6_PEER, check, rule,
                         start_peer)

require_root()

BUILD = os.path.dirname(os.path.dirname(os.path.realpath(tsnitch_binary())))
UDP_ONCE = os.path.join(BUILD, "tests", "integration", "engine", "udp_once")
if not os.access(UDP_ONCE, os.X_OK):
    raise SystemExit(f"udp_once not built at {UDP_ONCE}")

SHORT_PORT = 9400                 # silent: the peer only counts
TCP_PORT, UDP_PORT = 8410, 9410  # the peer answers

# Starts N udp_once senders as fast as it can, to the hosts in turn (each sender exits right
# after its datagram), then prints what each said: "HOST PID SPORT".
LAUNCHER = r"""
import subprocess, sys
exe, hosts, port, n = sys.argv[1], sys.argv[2].split(","), sys.argv[3], int(sys.argv[4])
procs = [(hosts[i % len(hosts)], subprocess.Popen([exe, hosts[i % len(hosts)], port],
                                                  stdout=subprocess.PIPE, text=True))
         for i in range(n)]
for host, p in procs:
    out, _ = p.communicate()
    print(host + " " + out.strip() if p.returncode == 0 else "failed", flush=True)
"""

# One flow as MODE says; prints {"pid": the sender's pid, "sport": its source port, "result"}.
# With "wait" as 4th argument it first prints "ready" (socket created, connected UDP connected)
# and sends only after a line on stdin: the socket then exists before tsnitch starts.
CLIENT = r"""
import json, os, socket, sys
mode, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
wait = len(sys.argv) > 4
fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
tcp = mode.endswith("tcp")
s = socket.socket(fam, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
s.settimeout(3)
if fam == socket.AF_INET6:
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
if mode == "udp-connected":
    s.connect((dst, port))
if wait:
    print("ready", flush=True)
    sys.stdin.readline()
def flow():
    try:
        if tcp:
            s.connect((dst, port)); ok = s.recv(16) == b"hi"
        else:
            if mode == "udp-connected":
                s.send(b"ping")
            else:
                s.sendto(b"ping", (dst, port))
            ok = s.recv(16) == b"ping"
        return "ok" if ok else "bad-data"
    except OSError as e:
        return type(e).__name__
if mode.startswith("fork"):
    r, w = os.pipe()
    child = os.fork()
    if child == 0:
        result = flow()  # before getsockname: an unbound socket gets its port when it sends
        os.write(w, json.dumps({"pid": os.getpid(), "sport": s.getsockname()[1],
                                "result": result}).encode())
        os._exit(0)
    os.waitpid(child, 0)
    print(os.read(r, 4096).decode(), flush=True)
else:
    result = flow()
    print(json.dumps({"pid": os.getpid(), "sport": s.getsockname()[1], "result": result}),
          flush=True)
"""


def allow_exe(name, path, port, proto):
    return rule(name, "allow", port, proto=proto, path=path)


def started_with_ebpf(t, err):
    """Skips the test where this kernel cannot run the module (tsnitch says so and uses diag)."""
    if not wait_for(lambda: "intercepting:" in err.text(), timeout=5):
        raise AssertionError(f"no start message: {err.text()}")
    if "eBPF unavailable" in err.text():
        t.stop()
        skip("eBPF unavailable on this machine: " + err.text().splitlines()[0])
    check("attribution ebpf" in err.text(), f"tsnitch says it attributes with ebpf: {err.lines[0]}")


def events_settled(t, want, timeout=10):
    """The events once `want` of them were written and no more came for half a second."""
    wait_for(lambda: len(t.events()) >= want, timeout=timeout)
    n = -1
    while n != len(t.events()):
        n = len(t.events())
        time.sleep(0.5)
    return t.events()


def short_lived(method):
    """Returns (arrived, events, senders) for 100 one-datagram processes under --method METHOD."""
    with NetnsPair() as ns:
        peer = start_peer(ns, silent=(SHORT_PORT,))
        t = Tsnitch(ns, [allow_exe("allow-udp-once", UDP_ONCE, SHORT_PORT, "udp")],
                    extra=["--method", method]).start()
        err = StderrLines(t)
        if method == "ebpf":
            started_with_ebpf(t, err)
        out = ns.run(ns.client, [PYTHON, "-c", LAUNCHER, UDP_ONCE, f"{V4_PEER},{V6_PEER}",
                                 str(SHORT_PORT), "100"], timeout=120).stdout.split("\n")
        senders = [(line.split()[0], int(line.split()[1]), int(line.split()[2]))
                   for line in out if line and line != "failed"]
        check(len(senders) == 100, f"{method}: 100 senders (IPv4 and IPv6) sent their datagram "
                                   f"({len(senders)})")
        events = events_settled(t, len({(host, sport) for host, _, sport in senders}))
        time.sleep(0.5)
        t.stop()
        peer.terminate()
        counts = dict(item.split(":") for item in peer.communicate(timeout=10)[0].split())
        return int(counts.get(str(SHORT_PORT), 0)), events, senders


def test_short_lived():
    arrived, events, senders = short_lived("ebpf")
    check(arrived == 100, f"ebpf: all 100 datagrams of short-lived senders arrived ({arrived})")
    # A source port the kernel hands out twice to two senders is decided once when the second
    # datagram still meets the first one's conntrack entry, and once per sender when the first
    # socket's end was reaped before (a decision never outlives its socket): either is right, but
    # every flow is decided, and no more often than it had senders.
    pids_by_flow = {}
    for host, pid, sport in senders:
        pids_by_flow.setdefault((host, sport), set()).add(pid)
    decided = {}
    for e in events:
        decided[(e["dst_ip"], e["src_port"])] = decided.get((e["dst_ip"], e["src_port"]), 0) + 1
    check(set(decided) == set(pids_by_flow)
          and all(n <= len(pids_by_flow[f]) for f, n in decided.items()),
          f"each flow decided, at most once per sender ({len(events)} events, "
          f"{len(pids_by_flow)} flows)")
    wrong = [e for e in events if not (e["action"] == "allow" and e["method"] == "ebpf"
                                       and e["process_path"] == UDP_ONCE
                                       and e["rule"] == "allow-udp-once"
                                       and e["pid"] in pids_by_flow.get((e["dst_ip"], e["src_port"]), ()))]
    check(not wrong, f"every decision: allow by ebpf, {UDP_ONCE}, the sender's pid "
                     f"({len(wrong)} not: {wrong[:3]})")
    arrived_proc, events_proc, _ = short_lived("proc")
    by = {}
    for e in events_proc:
        by[(e["action"], e["method"])] = by.get((e["action"], e["method"]), 0) + 1
    odd = {(e["pid"], e["process_path"]) for e in events_proc
           if e["method"] == "proc" and e["action"] != "allow"}
    print(f"info: --method proc: {arrived_proc} of 100 datagrams arrived; decisions {by}; "
          f"attributed but not allowed: {sorted(odd)[:5]}")


def test_flows():
    with NetnsPair() as ns:
        # Nothing in the client namespace has a socket yet: an empty system is a normal one.
        t = Tsnitch(ns, [allow_exe("allow-tcp", PYTHON, TCP_PORT, "tcp"),
                         allow_exe("allow-udp", PYTHON, UDP_PORT, "udp")],
                    extra=["--method", "ebpf"]).start()
        err = StderrLines(t)
        started_with_ebpf(t, err)
        start_peer(ns, tcp=(TCP_PORT,), udp=(UDP_PORT,))
        cases = [
            ("tcp v4", "tcp", V4_PEER, TCP_PORT, "tcp"),
            ("tcp v6", "tcp", V6_PEER, TCP_PORT, "tcp"),
            ("udp v4 sendto, unconnected", "udp", V4_PEER, UDP_PORT, "udp"),
            ("udp v6 sendto, unconnected", "udp", V6_PEER, UDP_PORT, "udp"),
            ("udp v4 connected", "udp-connected", V4_PEER, UDP_PORT, "udp"),
            ("udp v6 connected", "udp-connected", V6_PEER, UDP_PORT, "udp"),
            ("dual-stack tcp socket to an IPv4 peer", "tcp", "::ffff:" + V4_PEER, TCP_PORT, "tcp"),
            ("dual-stack udp sendto an IPv4 peer", "udp", "::ffff:" + V4_PEER, UDP_PORT, "udp"),
            ("udp socket of a parent, sent by its child", "fork-udp", V4_PEER, UDP_PORT, "udp"),
            ("tcp socket of a parent, connected by its child", "fork-tcp", V6_PEER, TCP_PORT, "tcp"),
        ]
        seen = []
        for what, mode, dst, port, proto in cases:
            r = ns.run(ns.client, [PYTHON, "-c", CLIENT, mode, dst, str(port)])
            info = json.loads(r.stdout)
            check(info["result"] == "ok", f"{what}: allowed and answered ({info['result']})")
            seen.append((what, info, proto, port, dst.replace("::ffff:", "")))
        events = events_settled(t, len(seen))
        t.stop()
        for what, info, proto, port, dst in seen:
            # The kernel may hand the same ephemeral port to an IPv4 and an IPv6 socket: a
            # flow is told apart by its destination address too.
            mine = [e for e in events if e["protocol"] == proto and e["src_port"] == info["sport"]
                    and e["dst_port"] == port and e["dst_ip"] == dst]
            check(len(mine) == 1, f"{what}: one decision ({len(mine)})")
            e = mine[0]
            check(e["method"] == "ebpf" and e["pid"] == info["pid"] and e["process_path"] == PYTHON
                  and e["dst_ip"] == dst,
                  f"{what}: pid {info['pid']} {PYTHON} to {dst} by ebpf "
                  f"(got pid {e['pid']} {e['process_path']} to {e['dst_ip']} by {e['method']})")
        check(len(events) == len(seen), f"no other decisions ({len(events)})")


def test_seeded():
    with NetnsPair() as ns:
        start_peer(ns, udp=(UDP_PORT,))
        # Connected before tsnitch (and its module) started: no hook saw the connect().
        holder = ns.popen(ns.client, [PYTHON, "-c", CLIENT, "udp-connected", V4_PEER, str(UDP_PORT),
                                      "wait"], stdin=subprocess.PIPE, text=True)
        check(holder.stdout.readline().strip() == "ready", "a UDP socket connected before start")
        t = Tsnitch(ns, [allow_exe("allow-udp", PYTHON, UDP_PORT, "udp")],
                    extra=["--method", "ebpf"]).start()
        err = StderrLines(t)
        started_with_ebpf(t, err)
        holder.stdin.write("go\n")
        holder.stdin.flush()
        info = json.loads(holder.stdout.readline())
        check(info["result"] == "ok", f"its first datagram after start is allowed ({info['result']})")
        events = events_settled(t, 1)
        t.stop()
        check(len(events) == 1 and events[0]["src_port"] == info["sport"], f"one decision ({events})")
        e = events[0]
        check(e["method"] == "ebpf" and e["pid"] == info["pid"] and e["process_path"] == PYTHON,
              f"attributed by ebpf from the seeded maps: pid {e['pid']} (want {info['pid']}) "
              f"{e['process_path']} by {e['method']}")


def test_forced_failure():
    with NetnsPair() as ns:
        start_peer(ns, tcp=(TCP_PORT,))
        t = Tsnitch(ns, [allow_exe("allow-tcp", PYTHON, TCP_PORT, "tcp")], extra=["--method", "ebpf"],
                    env=dict(os.environ, TSNITCH_BPF_FORCE_FAIL="1")).start()
        err = StderrLines(t)
        r = ns.run(ns.client, [PYTHON, "-c", CLIENT, "tcp", V4_PEER, str(TCP_PORT)])
        check(json.loads(r.stdout)["result"] == "ok", "forced failure: tsnitch runs and decides")
        events = events_settled(t, 1)
        check(t.stop() == 0, "and stops cleanly")
        text = err.wait_closed()
        check(text.count("eBPF unavailable") == 1 and "diag" in text,
              f"it says once that eBPF is unavailable and diag is used: {text!r}")
        check(len(events) == 1 and events[0]["method"] == "diag" and events[0]["action"] == "allow",
              f"the decision is made by diag ({[(e['action'], e['method']) for e in events]})")
    out = subprocess.run([tsnitch_binary(), "check"], stdout=subprocess.PIPE, text=True, timeout=60)
    hooks = {}
    for line in out.stdout.splitlines():
        parts = line.split(None, 1)
        if line.startswith("  ") and len(parts) == 2:
            hooks[parts[0]] = parts[1]
    for h in ("cgroup/sock_create", "cgroup/connect4", "cgroup/connect6", "cgroup/sendmsg4",
              "cgroup/sendmsg6", "sockops", "cgroup/sock_release", "raw_tp/sched_process_exec",
              "raw_tp/sched_process_exit", "raw_tp/sys_enter"):
        check(h in hooks and (hooks[h] == "available" or hooks[h].startswith("not available: ")),
              f"tsnitch check: {h}: {hooks.get(h)}")
    check(out.returncode == 0, f"tsnitch check exits 0 ({out.returncode})")


test_flows()
test_seeded()
test_forced_failure()
test_short_lived()
