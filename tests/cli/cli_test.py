"""The command line as scripts see it: --help, --version, exit statuses, configuration errors."""
import os
import subprocess
import sys
import tempfile

TSNITCH = os.environ["TSNITCH"]
failures = []


def run(*args):
    return subprocess.run([TSNITCH, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=30)


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}")


r = run("--version")
check(r.returncode == 0 and r.stdout.startswith("tsnitch "), "--version prints 'tsnitch X' and exits 0")

r = run("--help")
check(r.returncode == 0, "--help exits 0")
for sub in ("run", "attach", "monitor", "sockets", "rules", "check", "--headless", "--method", "--events",
            "--queue", "--config", "--rules"):
    check(sub in r.stdout, f"--help mentions {sub}")

r = run("frobnicate")
check(r.returncode == 2 and "unknown command 'frobnicate'" in r.stderr, "an unknown command exits 2 naming it")

r = run("run", "--no-such-option")
check(r.returncode == 2 and "--no-such-option" in r.stderr, "an unknown option exits 2 naming it")

r = run("run", "--queue", "70000")
check(r.returncode == 2 and "--queue" in r.stderr, "--queue out of range exits 2")

r = run("run", "--method", "magic")
check(r.returncode == 2 and "magic" in r.stderr, "--method with an unknown value exits 2")

with tempfile.TemporaryDirectory() as d:
    bad = os.path.join(d, "bad.json")
    with open(bad, "w") as f:
        f.write('{\n  "DefaultAction": "allow",\n  "QueueNum": "seven"\n}\n')
    r = run("run", "--headless", "-c", bad)
    check(r.returncode == 2, "a bad configuration exits 2")
    check(f"{bad}:3" in r.stderr and "QueueNum" in r.stderr and "seven" in r.stderr,
          f"the error names file, line, key and value (got {r.stderr.strip()!r})")
    r = run("run", "--headless", "-c", os.path.join(d, "missing.json"))
    check(r.returncode == 2 and "missing.json" in r.stderr, "a missing configuration file exits 2 naming it")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all CLI checks passed")
