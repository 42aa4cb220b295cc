"""`tsnitch sockets` shows the host names of the running tsnitch (its names file beside the control
socket, one per network namespace), and addresses when no tsnitch runs."""
import atexit
import json
import os
import shutil
import stat
import subprocess
import tempfile

from netns import require_root
from tsnitch_run import (NetnsPair, PYTHON, Tsnitch, V4_PEER, check, rule, tsnitch_binary,
                         wait_for)

require_root()

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESPONDER = os.path.join(HERE, "dnsresponder.py")
PORT = 8301

# Peer: accepts TCP connections and keeps them open.
HOLDER = r"""
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(16)
print("ready", flush=True)
held = []
while True:
    c, _ = s.accept(); held.append(c)
"""

# Client: looks the name up at the responder, connects, and holds the connection until stdin ends.
CLIENT = r"""
import socket, sys
sys.path.insert(0, sys.argv[1])
from dnsresponder import resolve
addresses = resolve(sys.argv[2], "example.test", "A", 53, False, 2.0)
c = socket.create_connection((addresses[0], int(sys.argv[3])), timeout=3)
print("connected", addresses[0], flush=True)
sys.stdin.read()
"""


def netns_inode(name):
    return os.stat(f"/run/netns/{name}").st_ino


def sockets(ns, pid, config, *extra):
    r = ns.run(ns.client, [tsnitch_binary(), "sockets", "-p", str(pid), "-c", config, *extra],
               check=False)
    check(r.returncode == 0, f"tsnitch sockets {' '.join(extra)} exits 0: {r.stderr}")
    return r.stdout


def established_line(out):
    lines = [l for l in out.splitlines() if f":{PORT}, state: established" in l]
    return lines[0] if len(lines) == 1 else None


def start_firewalled(ns, control):
    dns = ns.popen(ns.peer, [PYTHON, RESPONDER, "serve", "--listen", V4_PEER, "--port", "53",
                             "--record", "example.test=" + V4_PEER], text=True)
    check(dns.stdout.readline().startswith("ready"), "DNS responder started in the peer")
    holder = ns.popen(ns.peer, [PYTHON, "-c", HOLDER, V4_PEER, str(PORT)], text=True)
    check(holder.stdout.readline().strip() == "ready", "peer holds TCP connections")
    t = Tsnitch(ns, [rule("allow-dns", "allow", 53), rule("allow-port", "allow", PORT)],
                config={"Control": {"Socket": control}}).start()
    client = ns.popen(ns.client, [PYTHON, "-c", CLIENT, HERE, V4_PEER, str(PORT)],
                      stdin=subprocess.PIPE, text=True)
    line = client.stdout.readline().split()
    check(line == ["connected", V4_PEER], f"client resolved example.test and connected: {line}")
    return t, client


run_dir = tempfile.mkdtemp(prefix="tsnitch-run-")
atexit.register(shutil.rmtree, run_dir, True)
control = os.path.join(run_dir, "tsnitch", "control.sock")
with NetnsPair() as ns, NetnsPair() as other:
    t, client = start_firewalled(ns, control)
    names = os.path.join(run_dir, "tsnitch", f"names.{netns_inode(ns.client)}")
    check(wait_for(lambda: os.path.exists(names) and "example.test" in open(names).read(),
                   timeout=5), f"the running tsnitch published its names to {names}")
    mode = stat.S_IMODE(os.stat(names).st_mode)
    check(mode == 0o600, f"the names file is root-only (mode {mode:o})")

    line = established_line(sockets(ns, client.pid, t.config))
    check(line is not None and line.endswith(f" -> example.test:{PORT}, state: established"),
          f"the socket line names the host: {line}")
    rows = json.loads(sockets(ns, client.pid, t.config, "--json"))
    tcp = [r for r in rows if r.get("dst_port") == PORT]
    check(len(tcp) == 1 and tcp[0]["dst_host"] == "example.test" and tcp[0]["dst"] == V4_PEER,
          f"--json has dst_host: {tcp}")

    # A second tsnitch in another namespace, its control socket in the same directory (one
    # daemon per Control.Socket), has a names file of its own.
    t2, client2 = start_firewalled(other, os.path.join(run_dir, "tsnitch", "other.sock"))
    names2 = os.path.join(run_dir, "tsnitch", f"names.{netns_inode(other.client)}")
    check(wait_for(lambda: os.path.exists(names2), timeout=5) and names2 != names,
          "a tsnitch in another namespace publishes beside it, not over it")
    client2.stdin.close()
    client2.wait()
    t2.stop()
    check(not os.path.exists(names2) and os.path.exists(names),
          "stopping one removes its own file only")
    line = established_line(sockets(ns, client.pid, t.config))
    check(line is not None and "-> example.test:" in line, "the first still shows names")

    check(t.stop() == 0, "tsnitch stopped cleanly")
    check(not os.path.exists(names), "the names file is gone after tsnitch stopped")
    line = established_line(sockets(ns, client.pid, t.config))
    check(line is not None and line.endswith(f" -> {V4_PEER}:{PORT}, state: established"),
          f"without a running tsnitch the address shows: {line}")

    # A file a killed tsnitch left behind names nothing: its writer is gone.
    dead = subprocess.Popen(["true"])
    dead.wait()
    with open(names, "w") as f:
        f.write(f"tsnitch-names 1 {dead.pid}\n{V4_PEER} stale.test 9999999999\n")
    line = established_line(sockets(ns, client.pid, t.config))
    check(line is not None and f"-> {V4_PEER}:{PORT}" in line, f"a stale file is ignored: {line}")

    # --names reads a given file; a hostile name shows escaped, and a bad line is reported.
    given = os.path.join(run_dir, "given")
    with open(given, "wb") as f:
        f.write(b"tsnitch-names 1 1\n" + V4_PEER.encode() +
                b" evil\\x1b[2J.test 9999999999\nbroken line\n")
    r = ns.run(ns.client, [tsnitch_binary(), "sockets", "-p", str(client.pid), "-c", t.config,
                           "--names", given], check=False)
    line = established_line(r.stdout)
    check(r.returncode == 0 and line is not None
          and line.endswith(f" -> evil\\e[2J.test:{PORT}, state: established"),
          f"--names FILE: the name shows escaped: {line}")
    check(f"{given}:3: expected ADDRESS NAME EXPIRY" in r.stderr,
          f"the bad line is reported with file and line: {r.stderr.strip()}")
    client.stdin.close()
    client.wait()
