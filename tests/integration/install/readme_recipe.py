"""README's "Trying it safely", followed literally (issue 17.2): the safety warning comes before
the Quick start; the recipe's commands, run in one bash as written (with namespace names of this
test's own), make two namespaces where the web server answers from "tsn", and the server, started
in the background of the terminal that tsnitch then draws in, writes nothing to that terminal;
its clean-up line removes everything. The tsnitch line itself (the TUI) is what the tui tests
drive; here it is only checked to name the built binary."""
import os
import re
import subprocess
import sys

from netns import require_root

require_root()
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
with open(os.path.join(ROOT, "README.md")) as f:
    readme = f.read()
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


warning = readme.find("**Try it in a network namespace first.**")
check(0 <= warning < readme.find("## Quick start"), "the safety warning comes before the Quick start")

section = readme[readme.index("## Trying it safely"):]
section = section[:section.index("\n## ", 5)]
blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
check(len(blocks) == 2, f"two sh blocks (set-up, clean-up), got {len(blocks)}")
setup, cleanup = blocks[0], blocks[1]
tsnitch_lines = [l for l in setup.splitlines() if "./build/src/tsnitch" in l]
check(len(tsnitch_lines) == 1 and tsnitch_lines[0].startswith("ip netns exec tsn ./build/src/tsnitch"),
      f"the recipe runs the built tsnitch inside tsn: {tsnitch_lines}")

tag = f"inst{os.getpid()}"
names = {"tsn": f"tsn-{tag}", "web": f"web-{tag}"}


def ours(text):
    return re.sub(r"\b(tsn|web)\b", lambda m: names[m.group(1)], text)


answered = ("for i in $(seq 50); do ip netns exec tsn python3 -c "
            "'import urllib.request; urllib.request.urlopen(\"http://10.77.0.2:8080/\", timeout=1)' "
            "2>/dev/null && echo ANSWERED && break; sleep 0.1; done")
script = "set -e\n" + ours("\n".join(l for l in setup.splitlines() if l not in tsnitch_lines)) + \
    "\n" + ours(answered) + "\nsleep 0.5\n" + ours(cleanup)
try:
    r = subprocess.run(["bash", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=60, cwd=ROOT)
    check(r.returncode == 0, f"the recipe's commands run: {r.returncode} {r.stderr}")
    check(r.stdout.strip() == "ANSWERED", f"the web server answers from tsn and writes nothing to the terminal: "
                                          f"stdout {r.stdout!r}")
    check(r.stderr == "", f"nothing on the terminal's stderr either: {r.stderr!r}")
    left = subprocess.run(["ip", "netns", "list"], stdout=subprocess.PIPE, text=True).stdout
    check(names["tsn"] not in left and names["web"] not in left, "the clean-up line removes both namespaces")
finally:
    for n in names.values():
        pids = subprocess.run(["ip", "netns", "pids", n], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True).stdout.split()
        for p in pids:
            subprocess.run(["kill", "-9", p])
        subprocess.run(["ip", "netns", "del", n], stderr=subprocess.DEVNULL)

if failures:
    sys.exit(1)
print("ok")
