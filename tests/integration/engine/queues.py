"""Several queues (one per CPU, DESIGN.md §8): the firewall rule spreads new flows over QueueNum ..
QueueNum+CPUs-1 by the sending CPU, a client on each CPU is queued on that CPU's queue (the
kernel's own per-queue counters in the namespace show it), and every connection is decided by a
rule on the readers, one event each, with both the diag ladder and the eBPF rung. Flow marks hold
with several queues: a connected UDP flow that is allowed sends its later datagrams unqueued, from
whichever CPU they leave. `tsnitch check` names the queues run uses."""
import os
import re

from netns import require_root
from tsnitch_run import NetnsPair, PYTHON, Tsnitch, V4_PEER, check, rule, start_peer

require_root()

CPUS = os.cpu_count() or 1
QUEUE = 7  # Tsnitch's QueueNum
TCP_PORT, UDP_PORT = 8501, 8502
PER_CPU = 20

# Connects PER_CPU times from the CPU given (the thread is pinned there, so its SYNs are queued
# on that CPU's queue); prints how many got the peer's "hi".
CONNECTS = r"""
import os, socket, sys
cpu, host, port, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
os.sched_setaffinity(0, {cpu})
ok = 0
for _ in range(n):
    s = socket.socket(); s.settimeout(5)
    try:
        s.connect((host, port)); ok += s.recv(2) == b"hi"
    except OSError:
        pass
    s.close()
print(ok, flush=True)
"""

# One connected UDP socket: a first datagram (the decision), then, once the flow is marked, N
# datagrams from each CPU in turn (the thread moves between them); prints how many it sent.
UDP_FROM_EVERY_CPU = r"""
import os, socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.connect((host, port))
s.send(b"first"); sent = 1
time.sleep(0.5)
for cpu in sorted(os.sched_getaffinity(0)):
    os.sched_setaffinity(0, {cpu})
    for i in range(n):
        s.send(b"d%d" % i); sent += 1
        time.sleep(0.002)
print(sent, flush=True)
"""


def queue_counters(ns):
    """queue number -> (id_sequence, queue_dropped, user_dropped) in the client namespace."""
    text = ns.run(ns.client, ["cat", "/proc/net/netfilter/nfnetlink_queue"]).stdout
    out = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 8:
            out[int(f[0])] = (int(f[7]), int(f[5]), int(f[6]))
    return out


for method in ("diag", "ebpf"):
    with NetnsPair(ipv6=False) as ns:
        print(f"--- attribution {method}, {CPUS} CPUs")
        peer = start_peer(ns, tcp=(TCP_PORT,), silent=(UDP_PORT,))
        rules = [rule("allow-tcp", "allow", TCP_PORT, "tcp"),
                 rule("allow-udp", "allow", UDP_PORT, "udp")]
        # Every connection must reach a queue here: the kernel path (which would decide the
        # repeated allowed ones itself) is off.
        t = Tsnitch(ns, rules, config={"ProcMonitorMethod": method},
                    env=dict(os.environ, TSNITCH_KPATH_DISABLE="1")).start()
        queues = list(range(QUEUE, QUEUE + CPUS))
        ruleset = ns.ruleset()
        if CPUS > 1:
            check(f"--queue-balance {QUEUE}:{QUEUE + CPUS - 1}" in ruleset and
                  "--queue-cpu-fanout" in ruleset,
                  f"the rule spreads flows over queues {QUEUE}-{QUEUE + CPUS - 1} by CPU")
        else:
            check(f"--queue-num {QUEUE}" in ruleset, f"one CPU: one queue, {QUEUE}")
        before = queue_counters(ns)
        check(sorted(before) == queues, f"tsnitch bound queues {queues}: {sorted(before)}")

        for cpu in range(CPUS):
            r = ns.run(ns.client, [PYTHON, "-c", CONNECTS, str(cpu), V4_PEER, str(TCP_PORT),
                                   str(PER_CPU)], timeout=120)
            check(r.stdout.strip() == str(PER_CPU),
                  f"{PER_CPU} connections from CPU {cpu} allowed by the rule: {r.stdout.strip()}")
            after = queue_counters(ns)
            grown = {q: after[q][0] - before[q][0] for q in queues}
            # A SYN retransmit or a stray packet may land elsewhere; the bulk is on this CPU's.
            check(grown[QUEUE + cpu] >= PER_CPU,
                  f"CPU {cpu}'s connections were queued on queue {QUEUE + cpu}: {grown}")
            before = after

        sent = ns.run(ns.client, [PYTHON, "-c", UDP_FROM_EVERY_CPU, V4_PEER, str(UDP_PORT), "30"],
                      timeout=60).stdout.strip()
        after = queue_counters(ns)
        queued = sum(after[q][0] - before[q][0] for q in queues)
        check(sent == str(30 * CPUS + 1), f"the UDP flow sent {sent} datagrams from {CPUS} CPUs")
        # The first datagram is decided; the mark then lets the rest pass unqueued, from any CPU.
        check(queued == 1, f"an allowed flow's later datagrams skip the queues ({queued} queued)")

        t.stop()
        peer.terminate()
        counts = peer.communicate(timeout=10)[0].strip()
        got = dict(x.split(":") for x in counts.split()) if counts else {}
        check(int(got.get(str(UDP_PORT), 0)) == 30 * CPUS + 1,
              f"the peer got every datagram of the allowed flow: {got.get(str(UDP_PORT))}")
        stderr = t.proc.stderr.read()
        check(re.search(rf"NFQUEUE {QUEUE}(-{QUEUE + CPUS - 1})? \(one reader per CPU\)", stderr),
              f"the start message names the queues: {stderr.splitlines()[:2]}")
        events = t.events()
        tcp_events = [e for e in events if e["protocol"] == "tcp"]
        udp_events = [e for e in events if e["protocol"] == "udp"]
        check(len(tcp_events) == PER_CPU * CPUS and
              all(e["action"] == "allow" and e["rule"] == "allow-tcp" and e["reason"] == "rule"
                  for e in tcp_events),
              f"one allow event by the rule per connection: {len(tcp_events)}")
        check(len(udp_events) == 1 and udp_events[0]["rule"] == "allow-udp",
              f"the UDP flow is one decision: {len(udp_events)}")
        want = "diag" if "eBPF unavailable" in stderr else method
        check(all(e["method"] == want and e["process_path"] == PYTHON for e in events),
              f"each names the client via {want}")

# `tsnitch check` says how many queues run uses and which.
with NetnsPair(ipv6=False) as ns:
    from netns import tsnitch_binary
    out = ns.run(ns.client, [tsnitch_binary(), "check"], timeout=60, check=False).stdout
    line = next((l for l in out.splitlines() if l.startswith("NFQUEUE queues:")), "")
    want = f"0-{CPUS - 1}" if CPUS > 1 else "0 with"
    check(f"{CPUS} (one per online CPU)" in line and want in line,
          f"check names the queues: {line.strip()!r}")
