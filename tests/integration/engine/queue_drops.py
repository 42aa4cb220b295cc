"""Kernel queue drops are reported (issue 16 item 8): a flood of new UDP flows fills the kernel's
queues faster than decisions are made, and the kernel drops what does not fit. tsnitch reads the
queues' own counters: the drops are logged while it runs and the exit summary gives the number
the kernel shows (/proc/net/netfilter/nfnetlink_queue in the namespace)."""
import os
import re
import signal
import time

from netns import require_root
from tsnitch_run import NetnsPair, PYTHON, StderrLines, Tsnitch, V4_PEER, check, wait_for

require_root()

QUEUE = 7
FLOWS = 40000

# Datagrams to FLOWS distinct ports as fast as possible: each is a new flow for the decision
# thread. The send buffer is made large enough that the sender never waits on queued packets.
FLOOD = r"""
import socket, sys
host, n = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 32, 256 << 20)  # SO_SNDBUFFORCE
s.setblocking(False)
for i in range(n):
    try: s.sendto(b"x", (host, 10000 + i % 50000))
    except OSError: pass
print("sent", flush=True)
"""


def our_counters(ns):
    """Sums over our queues: (waiting, queue_dropped, user_dropped)."""
    text = ns.run(ns.client, ["cat", "/proc/net/netfilter/nfnetlink_queue"]).stdout
    waiting = dropped = user = 0
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 7 and int(f[0]) >= QUEUE:
            waiting += int(f[2])
            dropped += int(f[5])
            user += int(f[6])
    return waiting, dropped, user


with NetnsPair(ipv6=False) as ns:
    t = Tsnitch(ns, config={"DefaultAction": "deny"}).start()
    err = StderrLines(t)
    # tsnitch is stopped while the flood is sent: however fast it decides (the held-packet bound
    # answers a flood at once), its queues fill and the kernel has to drop.
    os.kill(t.proc.pid, signal.SIGSTOP)
    try:
        r = ns.run(ns.client, [PYTHON, "-c", FLOOD, V4_PEER, str(FLOWS)], timeout=120)
    finally:
        os.kill(t.proc.pid, signal.SIGCONT)
    check(r.stdout.strip() == "sent", "the flood was sent")
    # Everything that got into a queue is decided; then the counters stand still.
    check(wait_for(lambda: our_counters(ns)[0] == 0, timeout=120, interval=0.2),
          "every queued packet was decided")
    _, dropped, user = our_counters(ns)
    check(dropped + user > 0, f"the kernel dropped packets of the flood ({dropped} + {user})")
    check(wait_for(lambda: "dropped by full kernel queues" in err.text(), timeout=5),
          "the drops are logged while tsnitch runs")
    time.sleep(1.5)  # one more housekeeping tick: the log catches up with the final count
    t.stop()
    text = err.wait_closed()
    m = re.search(r"NFQUEUE [0-9-]+: (\d+) packets dropped by full kernel queues, (\d+) lost on the "
                  r"way to tsnitch\s*$", text, re.M)
    check(m is not None, f"the exit summary reports the drops: {text.splitlines()[-1:]}")
    check((int(m.group(1)), int(m.group(2))) == (dropped, user),
          f"with the kernel's numbers: {m.group(1)}, {m.group(2)} (kernel: {dropped}, {user})")
    last_log = re.findall(r"NFQUEUE [0-9-]+: (\d+) packets dropped by full kernel queues, (\d+) "
                          r"lost on the way to tsnitch so far", text)
    check(last_log and tuple(map(int, last_log[-1])) == (dropped, user),
          f"the running log reached the same count: {last_log[-1:]}")
