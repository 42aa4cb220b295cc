"""Rule files changed while tsnitch runs (issue 6), seen by new connections (DefaultAction reject,
so a connection no rule allows is refused at once):

- a file added atomically (written elsewhere, renamed in) allows the next connection;
- a file written slowly in two halves with a pause is not read while half-written: no error about
  it, and connections are still refused until it is complete; then it applies;
- a deleted file stops applying, also for a new connection that reuses the ports of one its rule
  allowed; and while it applies, another program on those ports is not let through as that flow;
- broken files added at runtime (bad regexp, unknown action, JSON cut short) are reported on stderr
  with the file and the field; tsnitch keeps running and the other rules keep working;
- a file renamed within the directory keeps applying, one moved out of it stops applying; a rules directory removed and made again
  is watched again;
- a timed rule (`tsnitch rules add --duration 5s`, a file) applies at once and stops applying when
  it expires, its file removed without any traffic asking.
"""
import json
import os
import shutil
import subprocess
import time

from netns import require_root, tsnitch_binary, wait_for
from tsnitch_run import (NetnsPair, PYTHON, StderrLines, Tsnitch, V4_PEER, attempt, check, rule,
                         start_peer)

require_root()

ATOMIC, SLOW, TIMED, OTHER, FIXED = 8501, 8502, 8503, 8504, 8505
FIXED_SPORT = 40001


def said_about(err, name):
    """Lines of tsnitch's stderr about `name`, other than the notice that the rule files changed
    (which names a rule once it was read whole)."""
    return [l for l in err.text().splitlines()
            if name in l and not l.startswith("tsnitch: rule files changed on disk:")]


def write_atomically(path, text):
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


# One TCP connection from a fixed source port; prints ok / refused / timeout.
FROM_PORT = r"""
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.settimeout(1.5)
try:
    s.connect((sys.argv[2], int(sys.argv[3]))); print("ok" if s.recv(16) == b"hi" else "bad-data")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
"""


def from_port(ns, port, program=PYTHON):
    return ns.run(ns.client, [program, "-c", FROM_PORT, str(FIXED_SPORT), V4_PEER,
                              str(port)]).stdout.strip()


# A second Python at another path: a program no rule allows, for the same ports.
OTHER_PYTHON = next((p for p in ("/usr/bin/python3", "/usr/local/bin/python3")
                     if os.access(p, os.X_OK) and os.path.realpath(p) != PYTHON), None)


def becomes(ns, port, want, timeout=3.0):
    """Tries new connections to `port` until one gets `want`; returns the last outcome."""
    last = []

    def tried():
        last.append(attempt(ns, "tcp", V4_PEER, port, timeout=1.5))
        return last[-1] == want
    wait_for(tried, timeout=timeout, interval=0.1)
    return last[-1]


with NetnsPair() as ns:
    start_peer(ns, tcp=(ATOMIC, SLOW, TIMED, OTHER, FIXED))
    t = Tsnitch(ns, [rule("allow-other", "allow", OTHER)], config={"DefaultAction": "reject"}).start()
    err = StderrLines(t)
    rules = t.rules_dir
    for port in (ATOMIC, SLOW, TIMED):
        check(attempt(ns, "tcp", V4_PEER, port) == "refused", f"no rule for {port}: refused")
    check(attempt(ns, "tcp", V4_PEER, OTHER) == "ok", "the rule loaded at start allows its port")

    # Added atomically.
    write_atomically(os.path.join(rules, "allow-atomic.json"),
                     json.dumps(rule("allow-atomic", "allow", ATOMIC), indent=2))
    check(becomes(ns, ATOMIC, "ok") == "ok", "a rule file renamed into the directory applies")
    check(wait_for(lambda: "tsnitch: rule files changed on disk: added allow-atomic" in err.text(),
                   timeout=5), f"the reload names the rule it added: {err.text()!r}")

    # Written in two halves with a pause: while half of it is there, nothing reads it.
    slow_path = os.path.join(rules, "allow-slow.json")
    text = json.dumps(rule("allow-slow", "allow", SLOW), indent=2)
    with open(slow_path, "w") as f:
        f.write(text[:len(text) // 2])
        f.flush()
        os.fsync(f.fileno())
        time.sleep(1.0)
        check(attempt(ns, "tcp", V4_PEER, SLOW) == "refused",
              "while the file is half-written: still refused")
        check(not said_about(err, "allow-slow"), f"and no error about the half-written file: {err.text()!r}")
        f.write(text[len(text) // 2:])
    check(becomes(ns, SLOW, "ok") == "ok", "once it is complete it applies")
    check(not said_about(err, "allow-slow"), f"never read half-written: no error about it ({err.text()!r})")

    # Deleted.
    os.unlink(os.path.join(rules, "allow-atomic.json"))
    check(becomes(ns, ATOMIC, "refused") == "refused", "a deleted rule file stops applying")

    # A new connection that happens to reuse an earlier one's ports (here bound on purpose) is
    # decided by the rules in force now, not by what was decided for that 5-tuple before.
    write_atomically(os.path.join(rules, "allow-fixed.json"),
                     json.dumps(rule("allow-fixed", "allow", FIXED)))
    check(becomes(ns, FIXED, "ok") == "ok", "a rule for the fixed-port client applies")
    check(from_port(ns, FIXED) == "ok", f"a connection from port {FIXED_SPORT} is allowed")
    if OTHER_PYTHON:
        got = from_port(ns, FIXED, OTHER_PYTHON)
        check(got == "refused", f"another program ({OTHER_PYTHON}, no rule) from the same port "
                                f"right after is refused, not let through as that flow ({got})")
        check(from_port(ns, FIXED) == "ok", "and the allowed program again is allowed")
    os.unlink(os.path.join(rules, "allow-fixed.json"))
    check(becomes(ns, FIXED, "refused") == "refused", "the rule is deleted")
    got = from_port(ns, FIXED)
    check(got == "refused", f"a new connection from the same port is refused too ({got})")

    # Broken files: reported with file and field, skipped; tsnitch and the other rules go on.
    bad_regexp = rule("bad-regexp", "allow", ATOMIC)
    bad_regexp["operator"]["list"][0] = {"type": "regexp", "operand": "process.path",
                                         "sensitive": False, "data": "(["}
    bad_action = rule("bad-action", "permit", ATOMIC)
    broken = {"bad-regexp.json": json.dumps(bad_regexp), "bad-action.json": json.dumps(bad_action),
              "cut-short.json": json.dumps(rule("cut-short", "allow", ATOMIC))[:60]}
    for name, content in broken.items():
        write_atomically(os.path.join(rules, name), content)
    reported = wait_for(lambda: all(n in err.text() for n in broken), timeout=3)
    lines = err.text().splitlines()

    def said(name):
        return [line for line in lines if name in line]
    check(reported, f"each broken file is reported on stderr: {err.text()!r}")
    check(any("operator" in line and "regexp" in line for line in said("bad-regexp.json")),
          f"bad regexp: names the field ({said('bad-regexp.json')})")
    check(any("action" in line and "permit" in line for line in said("bad-action.json")),
          f"unknown action: names the field and value ({said('bad-action.json')})")
    check(t.proc.poll() is None, "tsnitch keeps running")
    check(attempt(ns, "tcp", V4_PEER, ATOMIC) == "refused", "no broken rule applies")
    check(attempt(ns, "tcp", V4_PEER, SLOW) == "ok" and attempt(ns, "tcp", V4_PEER, OTHER) == "ok",
          "the other rules keep working")

    # Timed: `tsnitch rules add` writes a file that stops applying 5 s after it was written.
    added = subprocess.run([tsnitch_binary(), "rules", "-r", rules, "add", "allow-timed", "--action",
                            "allow", "--duration", "5s", "--operand", "process.path", "--data", PYTHON,
                            "--operand", "dest.port", "--data", str(TIMED)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    added_at = time.monotonic()
    check(added.returncode == 0, f"tsnitch rules add --duration 5s: {added.stderr.strip()}")
    timed_path = os.path.join(rules, "allow-timed.json")
    check(becomes(ns, TIMED, "ok") == "ok", "the timed rule applies at once")
    check(time.monotonic() - added_at < 4, "(before it could expire)")
    gone = wait_for(lambda: not os.path.exists(timed_path), timeout=10, interval=0.2)
    check(gone, "its file is removed when it expires, with no connection asking")
    lasted = time.monotonic() - added_at
    check(lasted >= 3.9, f"not before its time: removed {lasted:.1f} s after `rules add` (the "
                         "created stamp has whole seconds)")
    check(attempt(ns, "tcp", V4_PEER, TIMED) == "refused", "an expired timed rule stops applying")
    check(attempt(ns, "tcp", V4_PEER, SLOW) == "ok", "the others still apply")

    # Renamed within the directory (to a name that sorts first): still the same rule.
    renamed = os.path.join(rules, "0-allow-slow.json")
    os.rename(slow_path, renamed)
    time.sleep(0.5)
    check(attempt(ns, "tcp", V4_PEER, SLOW) == "ok", "a rule file renamed in the directory applies")
    check(not said_about(err, "allow-slow"), f"with no error about it ({err.text()!r})")

    # Moved out of the directory: as good as deleted.
    os.rename(renamed, os.path.join(t.dir, "allow-slow.json"))
    check(becomes(ns, SLOW, "refused") == "refused", "a rule file moved away stops applying")

    # The whole directory replaced (rm -r, then made again): the new one is watched.
    shutil.rmtree(rules)
    time.sleep(0.5)
    os.mkdir(rules, 0o700)
    write_atomically(os.path.join(rules, "allow-atomic.json"),
                     json.dumps(rule("allow-atomic", "allow", ATOMIC)))
    check(becomes(ns, ATOMIC, "ok") == "ok",
          "after the rules directory was removed and made again, a file added to it applies")
    check(attempt(ns, "tcp", V4_PEER, OTHER) == "refused", "and the removed ones no longer do")

    check(t.stop() == 0, "tsnitch stops cleanly")
