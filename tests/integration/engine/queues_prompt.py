"""Prompts with several queues (one per CPU): one process connects to one destination from every
CPU at once, so its SYNs arrive on different queues and readers; they wait in one prompt, and one
answer lets every one of them through (each verdict goes back to the queue its packet came
from). The status line names the queues."""
import os
import shutil
import sys
import time

from netns import require_root, skip, wait_for
from tsnitch_run import NetnsPair, PYTHON, Tsnitch, V4_PEER, check, start_peer, tsnitch_binary

require_root()
if shutil.which("tmux") is None:
    skip("needs tmux")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "tui"))
from tmux_screen import TmuxScreen  # noqa: E402

PORT = 8601
CPUS = os.cpu_count() or 1
QUEUE = 7
PER_CPU = 2

# PER_CPU connections from each CPU (a thread pinned there each), then waits for all of them.
FROM_EVERY_CPU = r"""
import os, socket, sys, threading
host, port, per_cpu = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
socks, lock = [], threading.Lock()
def open_from(cpu):
    os.sched_setaffinity(0, {cpu})
    for _ in range(per_cpu):
        s = socket.socket(); s.setblocking(False); s.connect_ex((host, port))
        with lock: socks.append(s)
threads = [threading.Thread(target=open_from, args=(c,)) for c in sorted(os.sched_getaffinity(0))]
for t in threads: t.start()
for t in threads: t.join()
print("started", flush=True)
ok = 0
for s in socks:
    s.setblocking(True); s.settimeout(30)
    try: ok += s.recv(2) == b"hi"
    except OSError: pass
print(ok, flush=True)
"""


def queued_per_queue(ns):
    text = ns.run(ns.client, ["cat", "/proc/net/netfilter/nfnetlink_queue"]).stdout
    return {int(f[0]): int(f[7]) for f in (l.split() for l in text.splitlines()) if len(f) >= 8}


with NetnsPair(ipv6=False) as ns:
    start_peer(ns, tcp=(PORT,))
    t = Tsnitch(ns, config={"PromptTimeout": 0, "DefaultAction": "deny"})
    cmd = ns.cmd(ns.client, [tsnitch_binary(), "run", "-c", t.config, "-r", t.rules_dir,
                             "--events", t.events_path])
    with TmuxScreen(cmd, width=160, height=40) as screen:
        check(wait_for(lambda: "TSNITCH-OUT" in ns.ruleset(), timeout=15), "tsnitch run started")
        want = f"queues {QUEUE}-{QUEUE + CPUS - 1}" if CPUS > 1 else f"queue {QUEUE}"
        screen.wait_for(want, timeout=10)
        print(f"ok: the status line names the {want}")
        before = queued_per_queue(ns)
        p = ns.popen(ns.client, [PYTHON, "-c", FROM_EVERY_CPU, V4_PEER, str(PORT), str(PER_CPU)],
                     text=True)
        check(p.stdout.readline().strip() == "started", f"connections started from {CPUS} CPUs")
        screen.wait_for(r"\b1 pending", timeout=15)
        time.sleep(1.0)  # keys right after a prompt opens are ignored; SYN retransmits join too
        check("1 pending" in screen.screen(), "they all wait in one prompt")
        after = queued_per_queue(ns)
        used = [q for q in range(QUEUE, QUEUE + CPUS) if after[q] > before[q]]
        check(len(used) == CPUS, f"their packets were queued on every queue: {used}")
        screen.keys("a")
        out, _ = p.communicate(timeout=20)
        check(out.strip() == str(PER_CPU * CPUS),
              f"one answer let all {PER_CPU * CPUS} through (got {out.strip()})")
        screen.wait_for(r"\b0 pending", timeout=10)
        screen.keys("q")
        time.sleep(0.3)
        screen.keys("y")
        screen.wait_for("EXITED-0", timeout=10)
    events = t.events()
    check([(e["action"], e["reason"]) for e in events] == [("allow", "prompt")],
          f"one decision for all of them: {[(e['action'], e['reason']) for e in events]}")
