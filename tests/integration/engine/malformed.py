"""A malformed configuration stops tsnitch before it installs anything: exit status 2 and a message
that names the file; a malformed rule file is named but does not stop it; not root: exit 1 and a
clear message."""
import json
import os

from netns import require_root, tsnitch_binary
from tsnitch_run import NetnsPair, Tsnitch, check, rule

require_root()


def run_and_wait(t):
    t.start(wait=False)
    try:
        t.proc.wait(timeout=10)
    finally:
        if t.proc.poll() is None:
            t.proc.kill()
    return t.proc.returncode, t.proc.stderr.read()


with NetnsPair() as ns:
    # A broken rule file no longer stops tsnitch (issue 16 item 4, see rule_files.py): the other
    # rules apply and the broken file is named. Here: the file is named and the firewall is up.
    t = Tsnitch(ns, [rule("fine", "allow", 80)])
    with open(os.path.join(t.rules_dir, "broken.json"), "w") as f:
        bad = rule("broken", "allow", 81)
        bad["action"] = "maybe"
        json.dump(bad, f)
    with open(os.path.join(t.rules_dir, "garbage.json"), "w") as f:
        f.write("{ this is not json")
    t.start()
    rc = t.stop()
    err = t.proc.stderr.read()
    check(rc == 0, f"broken rules: tsnitch ran and stopped cleanly (got {rc})")
    check("broken.json" in err and "garbage.json" in err,
          f"broken rules: the messages name the files: {err.strip()}")
    check("2 rule files not loaded; the other 1 rules apply" in err, "and say what applies")
    check("TSNITCH" not in ns.ruleset(), "stopped: nothing left installed")

    # An unknown configuration key and a wrong value.
    for cfg, word in (({"DefaultActoin": "deny"}, "DefaultActoin"), ({"QueueNum": "seven"}, "QueueNum")):
        t = Tsnitch(ns, config=cfg)
        rc, err = run_and_wait(t)
        check(rc == 2 and word in err, f"bad config {cfg}: exit 2 naming {word}: {err.strip()}")
        check("TSNITCH" not in ns.ruleset(), f"bad config {cfg}: nothing installed")

    # Not root.
    t = Tsnitch(ns)
    os.chmod(t.dir, 0o755)
    for p in (t.config, t.rules_dir):
        os.chmod(p, 0o755 if os.path.isdir(p) else 0o644)
    r = ns.run(ns.client, ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           tsnitch_binary(), "run", "--headless", "-c", t.config, "-r", t.rules_dir],
               check=False)
    check(r.returncode == 1 and "root" in r.stderr, f"not root: exit 1, says so: {r.stderr.strip()}")
    check("TSNITCH" not in ns.ruleset(), "not root: nothing installed")
