"""The Sockets tab of `tsnitch run` (in tmux, in a private namespace pair): a connection to a
host whose name the engine learnt from DNS reads `... -> example.test:PORT, state: established`,
in run's own view and in a `tsnitch monitor` beside it (through the names file), as in
`tsnitch sockets -p PID`; `d` in the process's socket view writes a deny rule for its executable.
Needs root and tmux."""
import json
import os
import shutil
import subprocess
import sys

from netns import require_root, skip, wait_for, V4_PEER
from tsnitch_run import NetnsPair, PYTHON, Tsnitch, check, rule, tsnitch_binary
from tmux_screen import TmuxScreen

HERE = os.path.dirname(os.path.abspath(__file__))
RESPONDER = os.path.join(os.path.dirname(HERE), "integration", "dnsresponder.py")
PORT = 8501

HOLD = r"""
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', int(sys.argv[1]))); s.listen(); print('up', flush=True)
c = s.accept(); time.sleep(120)
"""


def main():
    require_root()
    if shutil.which("tmux") is None:
        skip("needs tmux")
    with NetnsPair(ipv6=False) as ns:
        dns = ns.popen(ns.peer, [PYTHON, RESPONDER, "serve", "--listen", V4_PEER, "--port", "53",
                                 "--record", "example.test=" + V4_PEER], text=True)
        check(dns.stdout.readline().startswith("ready"), "DNS responder started in the peer")
        server = ns.popen(ns.peer, [PYTHON, "-c", HOLD, str(PORT)], text=True)
        check(server.stdout.readline().strip() == "up", "peer server started")
        t = Tsnitch(ns, [rule("allow-dns", "allow", 53), rule("allow-port", "allow", PORT)],
                    config={"PromptTimeout": 0, "DefaultAction": "deny"})
        cmd = ns.cmd(ns.client, [tsnitch_binary(), "run", "-c", t.config, "-r", t.rules_dir])
        with TmuxScreen(cmd, width=140, height=40) as screen:
            check(wait_for(lambda: "TSNITCH-OUT" in ns.ruleset(), timeout=15), "tsnitch run started")
            out = ns.run(ns.client, [PYTHON, RESPONDER, "query", V4_PEER, "example.test"]).stdout
            check(out.split() == [V4_PEER], f"example.test resolved through the firewall: {out}")
            holder = ns.popen(ns.client, [PYTHON, os.path.join(HERE, "socket_holder.py"), V4_PEER,
                                          str(PORT), "5353"], stdin=subprocess.PIPE)
            h = json.loads(holder.stdout.readline())
            named = "%d -> socket[%d] - %d:10.77.0.1 -> example.test:%d, state: established" % (
                h["tcp"]["fd"], h["tcp"]["inode"], h["tcp"]["port"], PORT)

            screen.keys("4")
            screen.wait_for(r"(?m)^%d\s" % h["pid"], timeout=10)
            screen.keys("/")
            screen.keys("-l", str(h["pid"]))
            screen.keys("Enter", "Enter")
            screen.wait_for(r"PID %d " % h["pid"])
            screen.wait_all([named], timeout=10)

            # tsnitch monitor and tsnitch sockets in the same namespace read run's names file
            # (which run's housekeeping rewrites a moment after the cache changed).
            def cli_lines():
                return ns.run(ns.client, [tsnitch_binary(), "sockets", "-p", str(h["pid"]), "-c",
                                          t.config]).stdout.splitlines()
            check(wait_for(lambda: named in cli_lines(), timeout=15),
                  f"tsnitch sockets -p prints the named line: {cli_lines()}")
            cli = cli_lines()
            mon_cmd = ns.cmd(ns.client, [tsnitch_binary(), "monitor", "-c", t.config])
            with TmuxScreen(mon_cmd, width=140, height=30) as mon:
                mon.wait_for(r"(?m)^%d\s" % h["pid"], timeout=10)
                mon.keys("/")
                mon.keys("-l", str(h["pid"]))
                mon.keys("Enter", "Enter")
                text = mon.wait_all([named], timeout=10)
                view = sorted(l[2:].rstrip() for l in text.splitlines() if " -> socket[" in l)
                check(view == sorted(cli), f"monitor shows what sockets -p prints: {view}")
                mon.keys("q")
                mon.wait_for("EXITED-0")

            # d opens the prompt's form for the process (deny, always, this executable first).
            screen.keys("d")
            screen.wait_all(["New rule for python", "[deny]", "[always]", "this executable"])
            screen.keys("Enter")
            screen.wait_for("added rule")
            # The Log tells the rule written.
            screen.keys("5")
            screen.wait_for("written: deny process.path == ")
            screen.keys("4")
            files = [f for f in os.listdir(t.rules_dir) if f not in ("allow-dns.json",
                                                                    "allow-port.json")]
            check(len(files) == 1, f"d wrote one rule file: {files}")
            with open(os.path.join(t.rules_dir, files[0])) as f:
                r = json.load(f)
            check(r["action"] == "deny" and r["operator"]["operand"] == "process.path"
                  and r["operator"]["data"] == os.path.realpath(sys.executable),
                  f"a deny rule for the holder's executable: {r}")

            holder.stdin.write(b"exit\n")
            holder.stdin.flush()
            holder.wait(timeout=5)
            screen.keys("q")
            screen.wait_for("Quit")
            screen.keys("y")
            screen.wait_for("EXITED-0", timeout=10)
        dns.terminate()
    print("ok")


if __name__ == "__main__":
    main()
