"""The kernel path without the eBPF attribution module (ProcMonitorMethod diag; issue 15, DESIGN.md
§8a). A connected socket's decision then has no socket entry of that module to live in, so
connect4/6 files it in the kernel path's own tsn_skips, and a queued flow's executable is noted
in tsn_flow_exes (no TCP keys are filed). Either way: the first flow of an allowed program is
decided by the queue, a later one by the kernel path, which the queue's counters do not see; its
event names the client's pid and executable. TCP, connected UDP and unconnected UDP.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "engine"))
from kpath_env import (TestCgroup, attempts, kpath_tsnitch, queued_packets,  # noqa: E402
                       require_kernel_path)
from netns import require_root, wait_for  # noqa: E402
from tsnitch_run import NetnsPair, PYTHON, V4_PEER, check, rule, start_peer  # noqa: E402

require_root()
require_kernel_path()

TCP_PORT = 8631
UDP_CONNECTED_PORT = 8632
UDP_PORT = 8633  # its own: a decision cached for one UDP port is one for either kind of socket


def kernel_decided(ns, t, mode, port):
    """Attempts of `mode` until one is decided by the kernel path (the cache is stored a moment
    after the queue's decision, off the packet's path); that attempt's event and whether the
    queues saw a packet of it."""
    for _ in range(20):
        before = queued_packets(ns)
        r = attempts(ns, mode, V4_PEER, port)[0]
        seen = queued_packets(ns) - before
        check(r["result"] == "ok", f"{mode}: allowed: {r}")
        ev = wait_for(lambda: next((e for e in t.events()
                                    if (e["pid"], e["src_port"]) == (r["pid"], r["sport"])),
                                   None), timeout=10, interval=0.05)
        check(ev is not None, f"{mode}: {r} is an event")
        if ev["path"] == "kernel":
            return r, ev, seen
        time.sleep(0.1)
    raise AssertionError(f"{mode}: no connection was decided by the kernel path")


def main():
    cgroup = TestCgroup()
    with NetnsPair() as ns:
        start_peer(ns, tcp=[TCP_PORT], udp=[UDP_CONNECTED_PORT, UDP_PORT])
        t = kpath_tsnitch(ns, cgroup, config={"ProcMonitorMethod": "diag"},
                          rules=[rule("allow-tcp", "allow", TCP_PORT, "tcp"),
                                 rule("allow-udp-connected", "allow", UDP_CONNECTED_PORT, "udp"),
                                 rule("allow-udp", "allow", UDP_PORT, "udp")]).start()
        for mode, port in (("tcp", TCP_PORT), ("udp-connected", UDP_CONNECTED_PORT),
                           ("udp", UDP_PORT)):
            first = attempts(ns, mode, V4_PEER, port)[0]
            check(first["result"] == "ok", f"{mode}: the first flow is allowed: {first}")
            queued = wait_for(lambda: next((e for e in t.events() if
                                            (e["pid"], e["src_port"]) == (first["pid"],
                                                                          first["sport"])),
                                           None), timeout=10, interval=0.05)
            check(queued is not None and queued["path"] == "queue" and queued["method"] == "diag",
                  f"{mode}: the queue decided the first flow, attributed by diag: "
                  f"{queued and {k: queued[k] for k in ('path', 'method', 'rule', 'pid')}}")
            r, ev, seen = kernel_decided(ns, t, mode, port)
            check(seen == 0, f"{mode}: the queues saw no packet of {r} ({seen})")
            check(ev["process_path"] == PYTHON and ev["action"] == "allow" and
                  ev["rule"].startswith("allow-"),
                  f"{mode}: the kernel path's event names the client: {ev}")
        t.stop()
    print("kpath-diag: ok")


if __name__ == "__main__":
    main()
