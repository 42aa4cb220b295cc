"""tsnitch run with the terminal UI (in tmux): a connection no rule decides waits in a prompt
until the person answers; allow lets it through, reject refuses it at once; each answer is one
--events line with reason "prompt"; an answer for "always" writes a rule that decides the next
connection; parallel connections of one process to one destination share a prompt; an unanswered
prompt gets DefaultAction after PromptTimeout; quitting the UI removes the firewall rules."""
import os
import shutil
import subprocess
import sys
import time

from netns import require_root, skip, wait_for
from tsnitch_run import NetnsPair, PYTHON, Tsnitch, V4_PEER, CLIENT, check, start_peer, tsnitch_binary

require_root()
if shutil.which("tmux") is None:
    skip("needs tmux")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "tui"))
from tmux_screen import TmuxScreen  # noqa: E402

PORT = 8401


def connect_in_background(ns, timeout):
    return ns.popen(ns.client, [PYTHON, "-c", CLIENT, "tcp", V4_PEER, str(PORT), str(timeout)],
                    text=True)


with NetnsPair() as ns:
    start_peer(ns, tcp=(PORT,))
    t = Tsnitch(ns, config={"PromptTimeout": 0, "DefaultAction": "deny"})
    cmd = ns.cmd(ns.client, [tsnitch_binary(), "run", "-c", t.config, "-r", t.rules_dir,
                             "--events", t.events_path])
    with TmuxScreen(cmd, width=120, height=40) as screen:
        started = wait_for(lambda: "TSNITCH-OUT" in ns.ruleset(), timeout=15)
        check(started, "tsnitch run (with the UI) installed its rules")

        for key, want in (("a", "ok"), ("r", "refused")):
            client = connect_in_background(ns, timeout=30)
            screen.wait_for(r"\b1 pending", timeout=15)
            time.sleep(1.0)  # the prompt ignores keys typed right after it appears
            check(client.poll() is None, f"the connection waits for the answer")
            screen.keys(key)
            out, _ = client.communicate(timeout=15)
            check(out.strip() == want, f"answer '{key}': the client sees {out.strip()} (want {want})")
            screen.wait_for(r"\b0 pending", timeout=10)

        screen.keys("q")
        time.sleep(0.3)
        screen.keys("y")
        screen.wait_for("EXITED-0", timeout=10)
    check("TSNITCH" not in ns.ruleset(), "quitting the UI removed the firewall rules")
    events = t.events()
    check([(e["action"], e["reason"], e["dst_port"]) for e in events] ==
          [("allow", "prompt", PORT), ("reject", "prompt", PORT)],
          f"two decisions, both by prompt: {[(e['action'], e['reason']) for e in events]}")

    # DefaultDuration always: the answer also writes a rule, which decides the next connection.
    t = Tsnitch(ns, config={"PromptTimeout": 0, "DefaultAction": "deny",
                            "DefaultDuration": "always"})
    cmd = ns.cmd(ns.client, [tsnitch_binary(), "run", "-c", t.config, "-r", t.rules_dir,
                             "--events", t.events_path])
    with TmuxScreen(cmd, width=120, height=40) as screen:
        check(wait_for(lambda: "TSNITCH-OUT" in ns.ruleset(), timeout=15), "started again")
        client = connect_in_background(ns, timeout=30)
        screen.wait_for(r"\b1 pending", timeout=15)
        time.sleep(1.0)
        screen.keys("a")
        out, _ = client.communicate(timeout=15)
        check(out.strip() == "ok", f"allowed 'always': {out.strip()}")
        # The verdict goes out before the rule file is written: wait for the file a moment.
        def rule_files():
            return [f for f in os.listdir(t.rules_dir) if f.endswith(".json")]
        wait_for(lambda: len(rule_files()) == 1, timeout=5)
        files = rule_files()
        check(len(files) == 1, f"the answer wrote one rule file: {files}")
        client = connect_in_background(ns, timeout=10)
        out, _ = client.communicate(timeout=15)
        check(out.strip() == "ok", "the next connection is allowed by that rule, without a prompt")
        screen.keys("q")
        time.sleep(0.3)
        screen.keys("y")
        screen.wait_for("EXITED-0", timeout=10)
    events = t.events()
    check(len(events) == 2 and events[0]["reason"] == "prompt" and events[1]["reason"] == "rule"
          and events[0]["rule"] == events[1]["rule"] == files[0][:-len(".json")],
          f"events: prompt then rule, naming the new rule: "
          f"{[(e['reason'], e['rule']) for e in events]}")

    # One process opening three connections to one destination: one prompt answers them all.
    # An unanswered prompt gets DefaultAction (reject) after PromptTimeout, reason "timeout".
    PARALLEL = r"""
import socket, sys
socks = []
for _ in range(3):
    s = socket.socket(); s.setblocking(False)
    s.connect_ex((sys.argv[1], int(sys.argv[2]))); socks.append(s)
print("started", flush=True)
ok = 0
for s in socks:
    s.setblocking(True); s.settimeout(30)
    try:
        ok += s.recv(2) == b"hi"
    except OSError:
        pass
print(ok, flush=True)
"""
    t = Tsnitch(ns, config={"PromptTimeout": 3, "DefaultAction": "reject"})
    cmd = ns.cmd(ns.client, [tsnitch_binary(), "run", "-c", t.config, "-r", t.rules_dir,
                             "--events", t.events_path])
    with TmuxScreen(cmd, width=120, height=40) as screen:
        check(wait_for(lambda: "TSNITCH-OUT" in ns.ruleset(), timeout=15), "started a third time")
        p = ns.popen(ns.client, [PYTHON, "-c", PARALLEL, V4_PEER, str(PORT)], text=True)
        check(p.stdout.readline().strip() == "started", "three connections started at once")
        screen.wait_for(r"\b1 pending", timeout=15)
        time.sleep(1.0)
        check(wait_for(lambda: "3 pending" not in screen.screen() and
                       "2 pending" not in screen.screen(), timeout=1),
              "they wait in one prompt, not three")
        screen.keys("a")
        out, _ = p.communicate(timeout=20)
        check(out.strip() == "3", f"one answer let all three through (got {out.strip()})")
        screen.wait_for(r"\b0 pending", timeout=10)

        client = connect_in_background(ns, timeout=30)
        out, _ = client.communicate(timeout=20)
        check(out.strip() == "refused", f"unanswered for PromptTimeout 3 s: {out.strip()}")
        screen.keys("q")
        time.sleep(0.3)
        screen.keys("y")
        screen.wait_for("EXITED-0", timeout=10)
    events = t.events()
    check([(e["action"], e["reason"]) for e in events] == [("allow", "prompt"), ("reject", "timeout")],
          f"one decision for the three, then a timeout: {[(e['action'], e['reason']) for e in events]}")
