"""A full ring buffer (issue 15, DESIGN.md §8a): nothing is decided unlogged. With the ring
shrunk to one page and read only every few seconds (test-only knobs TSNITCH_KPATH_RING_BYTES,
TSNITCH_KPATH_READ_MS), a burst of cached connections overflows it: the flows whose record could
not be reserved take the queue instead, and every connection is exactly one event."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "engine"))
from kpath_env import TestCgroup, attempts, kpath_tsnitch, queued_packets, require_kernel_path  # noqa: E402
from netns import require_root, wait_for  # noqa: E402
from tsnitch_run import NetnsPair, V4_PEER, check, rule, start_peer  # noqa: E402

require_root()
require_kernel_path()

PORT = 8611
BURST = 150


def main():
    cgroup = TestCgroup()
    with NetnsPair() as ns:
        start_peer(ns, tcp=[PORT])
        t = kpath_tsnitch(ns, cgroup, rules=[rule("allow-py", "allow", PORT)],
                          env_extra={"TSNITCH_KPATH_RING_BYTES": "4096",
                                     "TSNITCH_KPATH_READ_MS": "4000"}).start()
        first = attempts(ns, "tcp", V4_PEER, PORT)
        check(first[0]["result"] == "ok", "the first connection is allowed (queued)")
        wait_for(lambda: len(t.events()) >= 1, timeout=10)
        before = queued_packets(ns)
        burst = attempts(ns, "tcp", V4_PEER, PORT, BURST)
        check(all(r["result"] == "ok" for r in burst), f"all {BURST} connections pass")
        queued = queued_packets(ns) - before
        want = {(r["pid"], r["sport"]) for r in burst}
        ev = wait_for(lambda: (lambda e: e if len(e) >= BURST else None)(
            [e for e in t.events() if (e["pid"], e["src_port"]) in want]), timeout=15)
        ev = ev or [e for e in t.events() if (e["pid"], e["src_port"]) in want]
        kernel = [e for e in ev if e["path"] == "kernel"]
        queue = [e for e in ev if e["path"] == "queue"]
        check(len(ev) == BURST and len({(e["pid"], e["src_port"]) for e in ev}) == BURST,
              f"every connection is exactly one event ({len(ev)} of {BURST})")
        check(kernel and len(kernel) < BURST, f"the ring held some ({len(kernel)} kernel events)")
        check(len(queue) == queued and queue, f"the others took the queue ({len(queue)} events, "
                                              f"{queued} packets queued)")
        check(t.stop() == 0, "tsnitch stops cleanly")


main()
