"""What the options change: --queue picks the queue the rules send to; InterceptLoopback decides
loopback connections too; without IPv6 in the namespace only IPv4 rules are installed; a second
tsnitch on a queue that is in use fails (exit 1) and leaves the first one's rules alone."""
import atexit
import os
import re
import shutil
import tempfile

from netns import require_root
from tsnitch_run import (NetnsPair, PYTHON, Tsnitch, V4_PEER, attempt, check, rule, start_peer,
                         tsnitch_binary)

require_root()

PORT = 8301


def ours(ns):
    return sorted(re.sub(r"counter packets \d+ bytes \d+ ", "", line)
                  for line in ns.ruleset().splitlines() if "TSNITCH" in line)

with NetnsPair() as ns:
    start_peer(ns, tcp=(PORT,))
    # A listener on the client's own loopback.
    ns.popen(ns.client, [PYTHON, "-c", "import socket,time\ns=socket.socket()\n"
                         "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                         f"s.bind(('127.0.0.1', {PORT})); s.listen(16); print('ready', flush=True)\n"
                         "while True: s.accept()[0].sendall(b'hi')"], text=True).stdout.readline()

    t = Tsnitch(ns, extra=["--queue", "321"]).start()
    rules = ns.ruleset()
    installed = ours(ns)
    # One queue per CPU, from 321 on.
    cpus = os.cpu_count() or 1
    want = f"--queue-balance 321:{320 + cpus}" if cpus > 1 else "--queue-num 321"
    check(want in rules and "--queue-num 7" not in rules and "--queue-balance 7:" not in rules,
          f"--queue 321 overrides QueueNum 7 in the rules ({want})")
    check(attempt(ns, "tcp", V4_PEER, PORT, timeout=1) == "timeout", "and that queue is read")
    check(attempt(ns, "tcp", "127.0.0.1", PORT, timeout=2) == "ok",
          "InterceptLoopback false: loopback connections pass")

    # The same queue again: refused, and the running one keeps its rules.
    r = ns.run(ns.client, [tsnitch_binary(), "run", "--headless", "-c", t.config, "-r", t.rules_dir,
                           "--queue", "321"], check=False, timeout=20)
    check(r.returncode == 1 and "NFQUEUE 321" in r.stderr and "another firewall" in r.stderr,
          f"a second tsnitch on queue 321 fails: {r.returncode} {r.stderr.strip()}")
    check(ours(ns) == installed, "the first one's rules are still there")
    if cpus > 1:
        # One queue per CPU from 65535 on would run past the last queue number.
        r = ns.run(ns.client, [tsnitch_binary(), "run", "--headless", "-c", t.config, "-r",
                               t.rules_dir, "--queue", "65535"], check=False, timeout=20)
        check(r.returncode == 1 and "past 65535" in r.stderr and ours(ns) == installed,
              f"--queue 65535 with {cpus} CPUs fails and installs nothing: {r.stderr.strip()}")
    check(attempt(ns, "tcp", V4_PEER, PORT, timeout=1) == "timeout", "and still in force")
    check(t.stop() == 0, "the first one stops cleanly")

    t = Tsnitch(ns, config={"InterceptLoopback": True}).start()
    check(attempt(ns, "tcp", "127.0.0.1", PORT, timeout=1) == "timeout",
          "InterceptLoopback true: a loopback connection is decided (DefaultAction deny)")
    t.stop()
    lo = [e for e in t.events() if e["dst_ip"] == "127.0.0.1"]
    check(len(lo) == 1 and lo[0]["action"] == "deny", "and logged as a decision")

with NetnsPair(ipv6=False) as ns:
    ns.run(ns.client, ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])
    start_peer(ns, tcp=(PORT,))
    t = Tsnitch(ns, [rule("allow", "allow", PORT)]).start()
    # The sysctl can be turned back at any time; the IPv6 stack is there, so are the rules (the
    # one IPv6 test, ipv6_enabled, asks whether the stack exists: not there only with
    # ipv6.disable=1 at boot).
    v6 = ns.run(ns.client, ["ip6tables-save"], check=False).stdout
    check("TSNITCH" in v6, "IPv6 disabled by sysctl: the ip6tables rules are installed anyway")
    check(attempt(ns, "tcp", V4_PEER, PORT, timeout=2) == "ok", "IPv4 still decided and allowed")
    check(t.stop() == 0 and "TSNITCH" not in ns.ruleset(), "and cleaned up")

# LogFile gets every message of LogLevel and above, with time and level; below it, nothing.
with NetnsPair() as ns:
    log_dir = tempfile.mkdtemp(prefix="tsnitch-log-")
    atexit.register(shutil.rmtree, log_dir, True)
    log_path = os.path.join(log_dir, "tsnitch.log")
    t = Tsnitch(ns, config={"LogLevel": "info", "LogFile": log_path}).start()
    check(t.stop() == 0, "runs and stops with a LogFile")
    text = open(log_path).read()
    check(re.search(r"^\d{4}-\d\d-\d\dT[\d:.]+Z info intercepting: NFQUEUE", text, re.M) is not None,
          f"LogFile has the start line with time and level: {text[:200]!r}")
    check(re.search(r" info \d+ decisions", text) is not None, "and the summary at exit")
    quiet_path = log_path + ".error"
    t = Tsnitch(ns, config={"LogLevel": "error", "LogFile": quiet_path}).start()
    check(t.stop() == 0, "runs and stops with LogLevel error")
    check(open(quiet_path).read() == "", "LogLevel error: info lines are left out")
    t = Tsnitch(ns, config={"LogFile": "/proc/no-such-dir/tsnitch.log"})
    r = ns.run(ns.client, [tsnitch_binary(), "run", "--headless", "-c", t.config, "-r", t.rules_dir],
               check=False, timeout=20)
    check(r.returncode == 2 and "LogFile /proc/no-such-dir/tsnitch.log" in r.stderr,
          f"an unwritable LogFile exits 2 naming it: {r.returncode} {r.stderr.strip()}")
    check("TSNITCH" not in ns.ruleset(), "and installs nothing")
