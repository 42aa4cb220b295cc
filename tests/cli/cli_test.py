"""The command line as scripts see it: --help, --version, exit statuses, configuration errors."""
import os
import shutil
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

# Bad arguments of every subcommand: a clear message naming what is wrong, and the documented
# status (2 bad usage, 1 runtime failure).
for args, status, words in (
        (["sockets", "-p", "abc"], 2, "'abc' is not a process id"),
        (["sockets", "-p", "999999999"], 1, "no process with pid 999999999"),
        (["sockets", "-p"], 2, "-p needs an argument"),
        (["check", "extra"], 2, "check takes no arguments"),
        (["monitor", "--interval", "5"], 2, "'5' is not a number of milliseconds"),
        (["run", "extra"], 2, "unexpected argument 'extra'"),
        (["run", "--queue", "abc"], 2, "got 'abc'"),
        (["rules"], 2, "a command is needed"),
        (["rules", "list", "extra"], 2, "list takes no arguments"),
        # The command line is judged before the rules directory is looked for.
        (["rules", "-r", "/nonexistent-tsnitch-dir", "list", "extra"], 2, "list takes no arguments"),
        (["rules", "-r", "/nonexistent-tsnitch-dir", "show"], 2, "show takes one rule NAME"),
        (["rules", "-r", "/nonexistent-tsnitch-dir", "frob"], 2, "unknown command 'frob'"),
        (["rules", "-r", "/nonexistent-tsnitch-dir", "import", "--replace"], 2,
         "import takes one directory"),
        (["rules", "import"], 2, "import takes one directory"),
        (["rules", "import", "/nonexistent-tsnitch-dir"], 1, "/nonexistent-tsnitch-dir: No such file"),
        (["attach", "--frob"], 2, "attach: unknown option '--frob'"),
        (["attach", "--socket"], 2, "attach: --socket needs an argument"),
        (["attach", "--ssh"], 2, "attach: --ssh needs an argument"),
        (["attach", "extra"], 2, "attach: unexpected argument 'extra'"),
        (["attach", "--", "-v"], 2, "attach: unexpected argument '-v'"),
        (["attach", "--stdio", "--ssh", "host"], 2, "--stdio and --ssh exclude each other"),
        (["attach", "--socket", "/nonexistent-tsnitch-dir/c.sock"], 1,
         "no tsnitch daemon listens on /nonexistent-tsnitch-dir/c.sock"),
        (["attach", "--socket", "/" + "s" * 120], 1, "expected a path of 1..107 bytes"),
        (["attach", "-c", "/nonexistent-tsnitch-dir/c.json"], 2, "/nonexistent-tsnitch-dir/c.json")):
    r = run(*args)
    check(r.returncode == status and words in r.stderr,
          f"{' '.join(args)}: exit {status} with '{words}' (got {r.returncode}: {r.stderr.strip()!r})")

# --help of run and check prints help instead of "bad option".
r = run("run", "--help")
check(r.returncode == 0 and "Options of run:" in r.stdout and r.stderr == "", "run --help prints the usage")
r = run("check", "--help")
check(r.returncode == 0 and r.stdout.startswith("Usage: tsnitch check") and r.stderr == "",
      "check --help prints its usage")
r = run("sockets", "-p", "1", "--all")
check(r.returncode == 2 and "exclude each other" in r.stderr, "sockets -p with --all is bad usage")

# Without root, run says that it needs root (before reading rules it may not read); monitor's
# and sockets' configuration lookup treats an unreadable default location as absent (unit test).
if os.geteuid() == 0 and shutil.which("setpriv"):
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        binary = os.path.join(d, "tsnitch")
        shutil.copy(TSNITCH, binary)
        as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", binary]
        r = subprocess.run(as_nobody + ["run", "--headless", "-r", d], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        check(r.returncode == 1 and "needs root" in r.stderr, f"non-root run: {r.returncode} {r.stderr!r}")
        # Its own sockets (an /etc/tsnitch left 0700 by an older root run must not matter).
        r = subprocess.run(as_nobody[:-1] + ["sh", "-c", f'exec "{binary}" sockets -p $$'],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
        check(r.returncode == 0 and r.stderr == "", f"non-root sockets: {r.returncode} {r.stderr!r}")

r = run("sockets", "--help")
check(r.returncode == 0 and "--names FILE" in r.stdout and "-p, --pid PID" in r.stdout,
      "sockets --help explains its options")

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
