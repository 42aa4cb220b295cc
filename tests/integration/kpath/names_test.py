"""The kernel path knows an executable by its path, not only by its inode (issue 15, DESIGN.md
§8a). A rule on process.path names a path; one file can have several: hard links, a bind mount
of its directory, a new name after a rename. With a flow of the allowed path cached in the
kernel, each other name of the very same inode still gets what the rules say for its own path
(DefaultAction deny here: dropped, an event of the queue with that path), and the allowed path
keeps its kernel-path decision. For the eBPF attribution module and for diag, TCP and UDP.

The same for processes started before tsnitch (their exec was not seen: the eBPF module reads
their identity at their first socket and keeps it): one of the allowed path is decided in the
kernel, one of the hard link still by the queue, each under its own path and pid.
"""
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "engine"))
from kpath_env import (CLIENT, TestCgroup, attempts, kpath_tsnitch,  # noqa: E402
                       queued_packets, require_kernel_path)
import subprocess  # noqa: E402
from netns import require_root, wait_for  # noqa: E402
from tsnitch_run import NetnsPair, PYTHON, V4_PEER, check, rule, start_peer  # noqa: E402

require_root()
require_kernel_path()

PORT = 8641  # TCP and UDP


def event_of(t, r):
    return wait_for(lambda: next((e for e in t.events()
                                  if (e["pid"], e["src_port"]) == (r["pid"], r["sport"])), None),
                    timeout=10, interval=0.05)


def kernel_decided(ns, t, mode, python):
    """Attempts from `python` until one is decided by the kernel path."""
    for _ in range(20):
        before = queued_packets(ns)
        r = attempts(ns, mode, V4_PEER, PORT, python=python)[0]
        seen = queued_packets(ns) - before
        check(r["result"] == "ok", f"{mode}: {python} is allowed: {r}")
        ev = event_of(t, r)
        check(ev is not None, f"{mode}: {r} is an event")
        if ev["path"] == "kernel":
            check(seen == 0 and ev["process_path"] == python,
                  f"{mode}: the kernel path decided {python} unqueued ({seen}): {ev}")
            return
        time.sleep(0.1)
    raise AssertionError(f"{mode}: no flow of {python} was decided by the kernel path")


def denied(ns, t, mode, python, what, wrap=None):
    """One attempt from `python` (started through `wrap`, a shell command line prefix, when
    given) is dropped by the queue's DefaultAction, and its event names `python`."""
    if wrap:
        out = ns.run(ns.client, ["sh", "-c", wrap + ' "$@"', "sh", python, "-c", CLIENT, mode,
                                 V4_PEER, str(PORT), "1", "1.0"], timeout=60).stdout
        r = json.loads(out.splitlines()[-1])
    else:
        r = attempts(ns, mode, V4_PEER, PORT, python=python, timeout=1.0)[0]
    check(r["result"] == "timeout", f"{mode}: {what}: {python} is dropped, not allowed: {r}")
    ev = event_of(t, r)
    check(ev is not None and ev["path"] == "queue" and ev["action"] == "deny" and
          ev["process_path"] == python,
          f"{mode}: {what}: the queue decided it for {python}: {ev}")


# A client that lives on: one attempt per line "MODE TIMEOUT" read from stdin, reported as CLIENT
# reports it.
RESIDENT = r"""
import sys
client, host, port = sys.argv[1], sys.argv[2], sys.argv[3]
for line in sys.stdin:
    mode, timeout = line.split()
    sys.argv = ["-", mode, host, port, "1", timeout]
    exec(client, {"__name__": "client"})
"""


class Resident:
    """A client process of `python` started now (before tsnitch), kept for later attempts."""

    def __init__(self, ns, python):
        self.python = python
        self.p = ns.popen(ns.client, [python, "-c", RESIDENT, CLIENT, V4_PEER, str(PORT)],
                          stdin=subprocess.PIPE, text=True)

    def attempt(self, mode, timeout):
        self.p.stdin.write(f"{mode} {timeout}\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        check(line.strip() != "", f"the resident client of {self.python} answers: "
                                  f"{self.p.stderr.read() if self.p.poll() is not None else ''}")
        return json.loads(line)

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=10)


def residents(ns, t, method, allowed, linked):
    """Processes that predate tsnitch: the allowed path's flows are decided in the kernel once
    one was queued, the hard link's still by the queue (DefaultAction deny)."""
    for mode in ("tcp", "udp"):
        for _ in range(20):
            before = queued_packets(ns)
            r = allowed.attempt(mode, 3.0)
            seen = queued_packets(ns) - before
            check(r["result"] == "ok", f"{method}: {mode}: the older allowed process: {r}")
            ev = event_of(t, r)
            check(ev is not None, f"{method}: {mode}: {r} is an event")
            if ev["path"] == "kernel":
                check(seen == 0 and ev["process_path"] == allowed.python and
                      ev["pid"] == allowed.p.pid,
                      f"{method}: {mode}: the older allowed process, in the kernel: {ev}")
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"{method}: {mode}: no flow of the older allowed process was "
                                 f"decided by the kernel path")
        r = linked.attempt(mode, 1.0)
        check(r["result"] == "timeout", f"{method}: {mode}: the older hard link's: {r}")
        ev = event_of(t, r)
        check(ev is not None and ev["path"] == "queue" and ev["action"] == "deny" and
              ev["process_path"] == linked.python,
              f"{method}: {mode}: the older hard link's process, by the queue: {ev}")


def main():
    cgroup = TestCgroup()
    # Not /tmp (a tmpfs on some machines: a copy of the interpreter must be able to find its
    # libraries, and hard links must stay on one file system).
    box = tempfile.mkdtemp(prefix="tsnitch-names-", dir="/var/tmp")
    try:
        allowed = os.path.join(box, "allowed")
        shutil.copy2(PYTHON, allowed)
        linked = os.path.join(box, "linked")
        os.link(allowed, linked)
        bound = os.path.join(box, "bound")
        os.mkdir(bound)
        renamed = os.path.join(box, "renamed")
        with NetnsPair() as ns:
            start_peer(ns, tcp=[PORT], udp=[PORT])
            for method in ("ebpf", "diag"):
                if os.path.exists(renamed):
                    os.rename(renamed, allowed)
                older = (Resident(ns, allowed), Resident(ns, linked))
                t = kpath_tsnitch(ns, cgroup, config={"ProcMonitorMethod": method},
                                  rules=[rule("allow-tcp", "allow", PORT, "tcp", path=allowed),
                                         rule("allow-udp", "allow", PORT, "udp", path=allowed)])
                t.start()
                residents(ns, t, method, *older)
                for r in older:
                    r.close()
                for mode in ("tcp", "udp"):
                    kernel_decided(ns, t, mode, allowed)
                    denied(ns, t, mode, linked, f"{method}: a hard link")
                    # The same inode through a bind mount of its directory (a private mount
                    # namespace: nothing to undo).
                    denied(ns, t, mode, os.path.join(bound, "allowed"), f"{method}: a bind mount",
                           wrap=f"unshare --mount sh -c "
                                f"'mount --bind {box} {bound} && exec \"$@\"' sh")
                    # The allowed path itself is still decided in the kernel.
                    kernel_decided(ns, t, mode, allowed)
                os.rename(allowed, renamed)
                for mode in ("tcp", "udp"):
                    denied(ns, t, mode, renamed, f"{method}: renamed")
                t.stop()
                print(f"kpath-names: {method}: ok")
    finally:
        shutil.rmtree(box, ignore_errors=True)
    print("kpath-names: ok")


if __name__ == "__main__":
    main()
