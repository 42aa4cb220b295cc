"""Rule files that are broken, refused or changed under a running tsnitch (issue 16 items 4, 5, 9):
a broken file never leaves the machine less protected than the other rules (they apply, and the
broken one is reported by name); a file or directory that others could write is refused with its
owner and mode; the rules directory going away, a symlink loop and a new symlink each get a line
in the log."""
import json
import os
import shutil

from netns import require_root, wait_for
from tsnitch_run import V4_PEER, NetnsPair, StderrLines, Tsnitch, attempt, check, rule, start_peer

require_root()


def all_blocked(ns, port, n=5):
    return [attempt(ns, "tcp", V4_PEER, port, timeout=1.0) for _ in range(n)]


def write_rule(t, r, name=None):
    path = os.path.join(t.rules_dir, (name or r["name"]) + ".json")
    with open(path, "w") as f:
        json.dump(r, f)
    return path


with NetnsPair() as ns:
    peer = start_peer(ns, tcp=[80, 81])
    allow_80 = rule("allow-80", "allow", 80)

    # Item 4: a deny beside a broken file still denies; the broken file is named at start.
    t = Tsnitch(ns, [rule("deny-80", "deny", 80), allow_80])
    with open(os.path.join(t.rules_dir, "broken.json"), "w") as f:
        f.write('{"name": "broken", "action": ')
    t.start()
    err = StderrLines(t)
    got = all_blocked(ns, 80)
    check(all(r != "ok" for r in got), f"broken file beside a deny: 0 of 5 through ({got})")
    t.stop()
    text = err.wait_closed()
    check("broken.json" in text, f"the broken file is named in the log: {text!r}")
    check("1 rule file not loaded; the other 2 rules apply" in text,
          "the log says what applies")

    # Item 5: a rule file of another owner is refused, naming owner and mode.
    t = Tsnitch(ns)
    path = write_rule(t, allow_80)
    os.chown(path, 65534, 65534)
    t.start()
    err = StderrLines(t)
    got = all_blocked(ns, 80, 2)
    check(all(r != "ok" for r in got), f"a file of nobody's is not obeyed ({got})")
    t.stop()
    text = err.wait_closed()
    check(f"{path}: owned by uid 65534" in text and "mode 0644: not owned by root" in text,
          f"the refusal names the file, owner and mode: {text!r}")

    # Item 5: a world-writable rules directory: none of its files is obeyed.
    t = Tsnitch(ns, [allow_80])
    os.chmod(t.rules_dir, 0o777)
    t.start()
    err = StderrLines(t)
    got = all_blocked(ns, 80, 2)
    check(all(r != "ok" for r in got), f"a file in a 0777 directory is not obeyed ({got})")
    t.stop()
    text = err.wait_closed()
    check(f"{t.rules_dir}: owned by uid 0 (root), mode 0777: writable by others" in text,
          f"the refusal names the directory and its mode: {text!r}")

    # Item 9: changes under a running tsnitch are said.
    t = Tsnitch(ns, [allow_80])
    t.start()
    err = StderrLines(t)
    check(attempt(ns, "tcp", V4_PEER, 80) == "ok", "allow-80 applies")
    elsewhere = os.path.join(t.dir, "elsewhere.json")
    with open(elsewhere, "w") as f:
        json.dump(rule("allow-81", "allow", 81), f)
    os.symlink(elsewhere, os.path.join(t.rules_dir, "linked.json"))
    check(wait_for(lambda: "linked.json: a symbolic link to " + elsewhere in err.text(), timeout=5),
          "a new symbolic link is said")
    check(attempt(ns, "tcp", V4_PEER, 81) == "ok", "the linked rule applies")
    loop = os.path.join(t.rules_dir, "loop.json")
    os.symlink(loop, loop)
    check(wait_for(lambda: "loop.json: a symbolic link to " + loop +
                   ": Too many levels of symbolic links; not loaded" in err.text(), timeout=5),
          "a symlink loop is said")
    shutil.rmtree(t.rules_dir)
    check(wait_for(lambda: "the rules directory is gone; none of its rules applies until it is "
                   "back (0 rules in memory still apply)" in err.text(), timeout=5),
          "a removed rules directory is said, with what applies")
    got = all_blocked(ns, 80, 2)
    check(all(r != "ok" for r in got), f"without the directory its rules stop applying ({got})")
    t.stop()
    err.wait_closed()
    peer.terminate()
