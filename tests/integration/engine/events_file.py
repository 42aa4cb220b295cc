"""The events file and the names directory (issue 16 item 11): a symbolic link as --events is
refused before anything is installed; the events file is created 0600 and the names directory
0755 even under umask 000."""
import json
import os
import stat

from netns import require_root
from tsnitch_run import V4_PEER, NetnsPair, Tsnitch, attempt, check, rule, start_peer

require_root()

with NetnsPair() as ns:
    peer = start_peer(ns, tcp=[80])

    # A symlink where the events file goes: refused, nothing installed, the target untouched.
    t = Tsnitch(ns)
    target = os.path.join(t.dir, "target")
    with open(target, "w") as f:
        f.write("keep\n")
    os.symlink(target, t.events_path)
    t.start(wait=False)
    try:
        t.proc.wait(timeout=10)
    finally:
        if t.proc.poll() is None:
            t.proc.kill()
    err = t.proc.stderr.read()
    check(t.proc.returncode == 2, f"a symlinked events file: exit 2 (got {t.proc.returncode})")
    check(f"events file {t.events_path}: a symbolic link; refused" in err, f"says why: {err!r}")
    check("TSNITCH" not in ns.ruleset(), "nothing installed")
    with open(target) as f:
        check(f.read() == "keep\n", "the link's target is not written")

    # umask 000: the events file is 0600 and the names directory 0755 all the same.
    t2 = Tsnitch(ns, [rule("allow-80", "allow", 80)])
    names_dir = os.path.join(t2.dir, "run", "tsnitch")
    with open(t2.config) as f:
        cfg = json.load(f)
    cfg["Control"] = {"Socket": os.path.join(names_dir, "control.sock")}
    with open(t2.config, "w") as f:
        json.dump(cfg, f)
    old = os.umask(0)
    try:
        t2.start()
    finally:
        os.umask(old)
    check(attempt(ns, "tcp", V4_PEER, 80) == "ok", "a connection is decided (and logged)")
    t2.stop()
    mode = stat.S_IMODE(os.stat(t2.events_path).st_mode)
    check(mode == 0o600, f"the events file is 0600 under umask 000 (got {mode:o})")
    for d in (os.path.join(t2.dir, "run"), names_dir):
        mode = stat.S_IMODE(os.stat(d).st_mode)
        check(mode == 0o755, f"{d} is 0755 under umask 000 (got {mode:o})")
    peer.terminate()
