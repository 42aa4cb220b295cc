"""The kernel path and prompts (issue 15, DESIGN.md §8a), with the terminal UI in tmux:

- a `once` answer is never cached: the same executable's next connection to that place asks
  again (a cached allow of another port of it keeps skipping the queue meanwhile);
- with a flow cached as allowed, a prompt answer that writes a reject rule for the executable
  makes its very next connection to the cached place refused."""
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "engine"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tui"))
from kpath_env import TestCgroup, attempts, kpath_tsnitch, queued_packets, require_kernel_path  # noqa: E402
from netns import require_root, skip, tsnitch_binary, wait_for  # noqa: E402
from tsnitch_run import CLIENT, NetnsPair, PYTHON, V4_PEER, check, rule, start_peer  # noqa: E402

require_root()
require_kernel_path()
if shutil.which("tmux") is None:
    skip("needs tmux")
from tmux_screen import TmuxScreen  # noqa: E402

CACHED, ASKED = 8621, 8622


def in_background(ns, port, timeout=30):
    return ns.popen(ns.client, [PYTHON, "-c", CLIENT, "tcp", V4_PEER, str(port), str(timeout)],
                    text=True)


def answer(screen, ns, port, key):
    client = in_background(ns, port)
    screen.wait_for(r"\b1 pending", timeout=15)
    time.sleep(1.0)  # the prompt ignores keys typed right after it appears
    screen.keys(key)
    out, _ = client.communicate(timeout=15)
    screen.wait_for(r"\b0 pending", timeout=10)
    return out.strip()


def cached(ns):
    """The allow of CACHED is in the kernel: connections pass without the queue."""
    attempts(ns, "tcp", V4_PEER, CACHED)
    before = queued_packets(ns)
    r = attempts(ns, "tcp", V4_PEER, CACHED, 2)
    return all(x["result"] == "ok" for x in r) and queued_packets(ns) == before


def session(ns, cgroup, duration):
    t = kpath_tsnitch(ns, cgroup, rules=[rule("allow-cached", "allow", CACHED)],
                      config={"PromptTimeout": 0, "DefaultAction": "deny",
                              "DefaultDuration": duration})
    cmd = ns.cmd(ns.client, ["env", "TSNITCH_KPATH_CGROUP=" + t.env["TSNITCH_KPATH_CGROUP"],
                             tsnitch_binary(), "run", "-c", t.config, "-r", t.rules_dir,
                             "--events", t.events_path])
    return t, cmd


def quit_ui(screen):
    screen.keys("q")
    time.sleep(0.3)
    screen.keys("y")
    screen.wait_for("EXITED-0", timeout=10)


def main():
    cgroup = TestCgroup()
    with NetnsPair() as ns:
        start_peer(ns, tcp=(CACHED, ASKED))
        t, cmd = session(ns, cgroup, "once")
        with TmuxScreen(cmd, width=120, height=40) as screen:
            check(wait_for(lambda: "TSNITCH-OUT" in ns.ruleset(), timeout=15), "tsnitch started")
            check(wait_for(lambda: cached(ns), timeout=10), "the allow rule's flow is cached")
            check(answer(screen, ns, ASKED, "a") == "ok", "answered allow, once")
            check(cached(ns), "the cached allow still skips the queue")
            check(answer(screen, ns, ASKED, "r") == "refused",
                  "the next connection asks again (once is never cached), answered reject")
            quit_ui(screen)
        asked = [e for e in t.events() if e["dst_port"] == ASKED]
        check([(e["reason"], e["path"]) for e in asked] == [("prompt", "queue")] * 2,
              f"two prompts, decided in user space: {[(e['reason'], e['path']) for e in asked]}")

        t, cmd = session(ns, cgroup, "always")
        with TmuxScreen(cmd, width=120, height=40) as screen:
            check(wait_for(lambda: "TSNITCH-OUT" in ns.ruleset(), timeout=15), "started again")
            check(wait_for(lambda: cached(ns), timeout=10), "the allow rule's flow is cached")
            check(answer(screen, ns, ASKED, "r") == "refused", "answered reject, always")
            files = lambda: [f for f in os.listdir(t.rules_dir) if f != "allow-cached.json"]
            check(wait_for(lambda: files(), timeout=5), f"the answer wrote a rule: {files()}")
            r = attempts(ns, "tcp", V4_PEER, CACHED)
            check(r[0]["result"] == "refused",
                  f"the very next connection to the cached place is refused by it: {r}")
            quit_ui(screen)


main()
