"""A full ring buffer (issue 15, DESIGN.md §8a): nothing is decided unlogged. With the ring
shrunk to one page and read only every few seconds (test-only knobs TSNITCH_KPATH_RING_BYTES,
TSNITCH_KPATH_READ_MS), a burst of cached connections overflows it: the flows whose record could
not be reserved take the queue instead, and every connection is exactly one event. With the
default early wake-up (a quarter of the ring waiting), the reader reads before its timer.

Then the pins of an instance killed with SIGKILL are found and removed by the next instance,
which decides on the kernel path itself. Last, without a kernel path (TSNITCH_KPATH_DISABLE=1,
as on a kernel that lacks it) tsnitch says so and the queue decides every flow."""
import os
import re
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
                                     "TSNITCH_KPATH_READ_MS": "4000",
                                     "TSNITCH_KPATH_WAKE_BYTES": "0"}).start()
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

        # Early reads: a small ring again, a timer too slow to matter (60 s) and the default
        # wake-up at a quarter of the ring. The burst's kernel-path events arrive while the timer
        # has not fired once, and tsnitch counts the early reads.
        t = kpath_tsnitch(ns, cgroup, rules=[rule("allow-py", "allow", PORT)],
                          env_extra={"TSNITCH_KPATH_RING_BYTES": "16384",
                                     "TSNITCH_KPATH_READ_MS": "60000"}).start()
        attempts(ns, "tcp", V4_PEER, PORT)  # queued: its decision is stored for the kernel
        wait_for(lambda: len(t.events()) >= 1, timeout=10)
        burst = attempts(ns, "tcp", V4_PEER, PORT, BURST)
        want = {(r["pid"], r["sport"]) for r in burst}
        early = wait_for(lambda: [e for e in t.events() if (e["pid"], e["src_port"]) in want
                                  and e["path"] == "kernel"] or None, timeout=15)
        check(early, "kernel-path events arrive before the reader's timer fires (the ring woke it)")
        check(t.stop() == 0, "tsnitch stops cleanly")
        ev = [e for e in t.events() if (e["pid"], e["src_port"]) in want]
        check(len(ev) == BURST and len({(e["pid"], e["src_port"]) for e in ev}) == BURST,
              f"every connection is exactly one event ({len(ev)} of {BURST})")
        err = t.proc.stderr.read()
        m = re.search(r"(\d+) early reads", err)
        check(m and int(m.group(1)) > 0, "the early reads are counted: " +
              next((line for line in err.splitlines() if "early reads" in line), "(no line)"))

        # A crashed instance leaves its pin directory; the next one removes it and works.
        crashed = kpath_tsnitch(ns, cgroup, rules=[rule("allow-py", "allow", PORT)]).start()
        pins = [p for p in os.listdir("/run") if p.startswith("tsnitch-bpf-") and
                p.endswith(f"-{crashed.proc.pid}")]
        check(len(pins) == 1, f"a running instance has its pin directory: {pins}")
        crashed.stop("KILL")
        check(os.path.isdir(os.path.join("/run", pins[0])), "SIGKILL leaves it behind")
        t = kpath_tsnitch(ns, cgroup, rules=[rule("allow-py", "allow", PORT)]).start(wait=False)
        # The dead one's chains are still there: wait for the new one's own rules.
        check(wait_for(lambda: f"-{t.proc.pid}/pass" in ns.ruleset(), timeout=10),
              "the next instance replaced the chains, with its own pins")
        attempts(ns, "tcp", V4_PEER, PORT)
        wait_for(lambda: len(t.events()) >= 1, timeout=10)
        before = queued_packets(ns)
        r = attempts(ns, "tcp", V4_PEER, PORT, 3)
        check(all(x["result"] == "ok" for x in r) and queued_packets(ns) == before,
              "the next instance decides on the kernel path")
        check(t.stop() == 0, "tsnitch stops cleanly")
        # (At its start, or at its exit when the dead one's mount was not torn down yet.)
        check(not os.path.exists(os.path.join("/run", pins[0])), "the next instance removed it")

        t = kpath_tsnitch(ns, cgroup, rules=[rule("allow-py", "allow", PORT)],
                          env_extra={"TSNITCH_KPATH_DISABLE": "1"}).start()
        check("-m bpf" not in ns.ruleset(), "without the kernel path: no xt_bpf rules")
        before = queued_packets(ns)
        r = attempts(ns, "tcp", V4_PEER, PORT, 3)
        check(all(x["result"] == "ok" for x in r) and queued_packets(ns) - before == 3,
              "the queue decides every flow")
        check(t.stop() == 0, "tsnitch stops cleanly")
        err = t.proc.stderr.read()
        check("kernel path unavailable" in err and "the queue decides every flow" in err,
              "and it says so: " + next((l for l in err.splitlines() if "kernel path" in l), ""))
        check(all(e["path"] == "queue" for e in t.events()), "every event says path queue")

        # A knob that is no number: tsnitch does not start (exit 2), names it, installs nothing.
        for knob, value in (("TSNITCH_KPATH_WAKE_BYTES", "1k"), ("TSNITCH_KPATH_READ_MS", "0"),
                             ("TSNITCH_KPATH_RING_BYTES", "-4096"),
                             ("TSNITCH_KPATH_RING_BYTES", "4294967295")):
            t = kpath_tsnitch(ns, cgroup, env_extra={knob: value}).start(wait=False)
            code = t.proc.wait(timeout=20)
            err = t.proc.stderr.read()
            check(code == 2 and f"{knob} '{value}': expected a whole number" in err,
                  f"{knob}={value}: exit {code}, {err.strip()!r}")
            check("TSNITCH-OUT" not in ns.ruleset(), "and installs nothing")
            if value == "4294967295":
                check("and at most 1073741824" in err, f"the bound is named: {err.strip()!r}")


main()
