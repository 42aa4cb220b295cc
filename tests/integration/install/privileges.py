"""A running `tsnitch run --headless` keeps only the capabilities it needs, in every thread, with
NoNewPrivs set (issue 16.14) -- and still does its work: it repairs a flushed chain (running
iptables-restore, which gets the kept capabilities), picks up a new rule file, and carries out its
verdicts. Under systemd (JOURNAL_STREAM naming its stderr) its messages carry `<N>` priorities
instead of "tsnitch: "; a RulesPath that does not exist is created with a warning naming it.
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "engine"))
from netns import require_root, tsnitch_binary, wait_for
from tsnitch_run import NetnsPair, StderrLines, Tsnitch, V4_PEER, attempt, check, rule, start_peer  # noqa: E402

require_root()

# CAP_DAC_READ_SEARCH CAP_NET_ADMIN CAP_NET_RAW CAP_SYS_PTRACE CAP_BPF, as tsnitch(8).
KEPT = sum(1 << n for n in (2, 12, 13, 19, 39))
ALLOWED, LATER, OTHER = 8601, 8602, 8603


def privileges(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
                out[key] = int(value.strip(), 16)
            elif key == "NoNewPrivs":
                out[key] = int(value.strip())
    return out


def queue_rule(ns):
    """The rule of TSNITCH-OUT that queues new connections, if it is there."""
    out = ns.run(ns.client, ["iptables-save", "-t", "mangle"]).stdout
    return any(l.startswith("-A TSNITCH-OUT") and "NFQUEUE" in l for l in out.splitlines())


with NetnsPair() as ns:
    start_peer(ns, tcp=(ALLOWED, LATER, OTHER))
    t = Tsnitch(ns, [rule("allow-first", "allow", ALLOWED)], config={"DefaultAction": "reject"})
    t.start()
    err = StderrLines(t)
    pid = t.proc.pid
    with open(f"/proc/{pid}/comm") as f:
        check(f.read().strip() == "tsnitch", "the started process is tsnitch itself")
    check(wait_for(lambda: "intercepting" in err.text(), timeout=10), "tsnitch says it intercepts")

    # CAP_SYS_ADMIN stays only while the kernel path's pins live in a bpf file system mounted for
    # this instance (where /sys/fs/bpf is none): it is unmounted at exit.
    with open(f"/proc/{pid}/mountinfo") as f:
        own_bpffs = any(" /run/tsnitch-bpf-" in l or " /tmp/tsnitch-bpf-" in l for l in f)
    if own_bpffs:
        KEPT |= 1 << 21
    tasks = os.listdir(f"/proc/{pid}/task")
    check(len(tasks) > 1, f"tsnitch runs several threads ({len(tasks)})")
    for tid in tasks:
        p = privileges(f"{pid}/task/{tid}")
        check(p["CapEff"] == KEPT and p["CapPrm"] == KEPT and p["CapBnd"] == KEPT,
              f"thread {tid}: CapEff {p['CapEff']:016x} CapPrm {p['CapPrm']:016x} "
              f"CapBnd {p['CapBnd']:016x}, want {KEPT:016x}")
        check(p["CapInh"] == 0 and p["CapAmb"] == 0, f"thread {tid}: no inheritable/ambient")
        check(p["NoNewPrivs"] == 1, f"thread {tid}: NoNewPrivs 1")
    check("privileges: kept only CAP_DAC_READ_SEARCH CAP_NET_ADMIN" in err.text(),
          "the log says what was kept")

    check(attempt(ns, "tcp", V4_PEER, ALLOWED) == "ok", "a rule's allow gets through")
    check(attempt(ns, "tcp", V4_PEER, OTHER) == "refused", "no rule: DefaultAction reject")

    # Another program flushes tsnitch's chains: they come back (iptables-restore runs with the
    # kept capabilities), and the reject is carried out again.
    # (The repair may come before iptables -F has returned: nf_tables tells tsnitch at once.)
    before = err.text().count("re-added")
    ns.run(ns.client, ["iptables", "-t", "mangle", "-F", "TSNITCH-OUT"])
    check(wait_for(lambda: err.text().count("re-added") > before, timeout=15, interval=0.1),
          f"the flush is noticed and the rules re-added: {err.text()}")
    check(wait_for(lambda: queue_rule(ns), timeout=15, interval=0.1), "the flushed chain is repaired")
    # No rule: the reject comes after PromptTimeout (1 s); the client waits longer than that.
    check(wait_for(lambda: attempt(ns, "tcp", V4_PEER, OTHER, timeout=3.0) == "refused", timeout=10),
          "after the repair a connection no rule allows is refused again")
    check("Operation not permitted" not in err.text(), f"nothing was refused to tsnitch: {err.text()}")

    # A rule file written while running applies: rule reload works without the dropped ones.
    with open(os.path.join(t.rules_dir, ".later.tmp"), "w") as f:
        json.dump(rule("allow-later", "allow", LATER), f)
    os.rename(os.path.join(t.rules_dir, ".later.tmp"), os.path.join(t.rules_dir, "allow-later.json"))
    check(wait_for(lambda: attempt(ns, "tcp", V4_PEER, LATER, timeout=1.0) == "ok", timeout=10),
          "a rule file added while running allows its connection")
    check(t.proc.poll() is None, "tsnitch still runs")
    check(t.stop() == 0, "tsnitch stops cleanly")
    check("TSNITCH" not in ns.ruleset(), "its rules are removed on exit")

    # Under systemd: JOURNAL_STREAM names tsnitch's stderr, so each line has its priority.
    r, w = os.pipe()
    st = os.fstat(w)
    env = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")
    missing = os.path.join(t.dir, "no-such-rules")
    p = ns.popen(ns.client, [tsnitch_binary(), "run", "--headless", "-c", t.config, "-r", missing],
                 stdout=subprocess.DEVNULL, stderr=w, env=env)
    os.close(w)
    reader = os.fdopen(r, "r")
    lines = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        line = reader.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if "intercepting" in line:
            break
    p.send_signal(signal.SIGTERM)
    rest = reader.read()
    p.wait(timeout=10)
    lines += rest.splitlines()
    text = "\n".join(lines)
    check(any(l.startswith("<6>intercepting") for l in lines), f"info lines carry <6>: {text}")
    check(not any(l.startswith("tsnitch: ") for l in lines), f"no 'tsnitch: ' prefix for the journal: {text}")
    check(any(l.startswith("<4>RulesPath " + missing) and "did not exist" in l for l in lines),
          f"a missing RulesPath is created with a warning naming it: {text}")
    check(os.path.isdir(missing) and (os.stat(missing).st_mode & 0o777) == 0o700,
          "the created rules directory is private (0700)")
print("ok")
