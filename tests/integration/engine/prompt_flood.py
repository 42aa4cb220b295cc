"""Issue 16.6, a prompt flood: one process sends 20,000 datagrams to distinct ports in well under a
second. Each opens a new flow that no rule decides. Other traffic must keep flowing: open prompts
and held packets are bounded (beyond the bounds, DefaultAction at once, counted and logged), a
connection that a rule allows still gets through while the flood waits for answers, every flow is
decided once, and SIGTERM then ends tsnitch cleanly, with its firewall rules gone."""
import subprocess
import time

from netns import require_root, wait_for
from tsnitch_run import (NetnsPair, PYTHON, StderrLines, Tsnitch, V4_PEER, attempt, check, rule,
                         start_peer)

require_root()

TCP_PORT, FIRST, COUNT = 8080, 20000, 20000

# Unconnected UDP from one socket, one datagram per destination port, as fast as it can. A held
# datagram keeps its memory charged to the socket, so the send buffer is made large enough for
# all of them (SO_SNDBUFFORCE, we are root) and sends never wait: the flood is not slowed down by
# tsnitch holding it.
FLOOD = r"""
import socket, sys
host, first, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_SNDBUFFORCE", 32), 256 << 20)
sent = 0
for i in range(n):
    try:
        s.sendto(b"f", socket.MSG_DONTWAIT, (host, first + i)); sent += 1
    except OSError:
        pass
print(sent, flush=True)
"""

with NetnsPair() as ns:
    peer = start_peer(ns, tcp=(TCP_PORT,))
    t = Tsnitch(ns, [rule("allow-tcp", "allow", TCP_PORT, "tcp")],
                config={"PromptTimeout": 60, "DefaultAction": "deny"}).start()
    err = StderrLines(t)
    flood = ns.popen(ns.client, [PYTHON, "-c", FLOOD, V4_PEER, str(FIRST), str(COUNT)],
                     stdout=subprocess.PIPE, text=True)
    sent = int(flood.communicate(timeout=60)[0].strip() or 0)
    check(sent == COUNT, f"the flood sent {COUNT} datagrams (sent {sent})")
    # The flood's prompts are open now (PromptTimeout 60 s): other traffic still gets through.
    for i in range(3):
        r = attempt(ns, "tcp", V4_PEER, TCP_PORT, timeout=10)
        check(r == "ok", f"a connection a rule allows gets through during the flood ({i}): {r}")
    check(wait_for(lambda: "too many were waiting" in err.text(), timeout=10),
          f"the flood beyond the bounds is logged: {err.text()[-2000:]}")
    flood_events = lambda: [e for e in t.events() if FIRST <= e["dst_port"] < FIRST + COUNT]
    check(wait_for(lambda: any(e["reason"] == "default" for e in flood_events()), timeout=10),
          "flows beyond the bounds got DefaultAction at once (reason default)")
    check(t.proc.poll() is None, "tsnitch is still running")
    began = time.monotonic()
    code = t.stop()  # waits 5 s, then kills
    print(f"SIGTERM to exit with {len(flood_events())} flood decisions made: "
          f"{time.monotonic() - began:.2f} s")
    check(code == 0, f"SIGTERM ended tsnitch by itself (exit status {code}): {err.text()[-2000:]}")
    check("TSNITCH" not in ns.ruleset(), "no firewall rules are left")
    events = flood_events()
    ports = [e["dst_port"] for e in events]
    check(len(ports) == len(set(ports)), "every flow of the flood was decided once")
    check(all(e["action"] == "deny" for e in events), "the flood got DefaultAction (deny)")
    peer.terminate()
    peer.communicate(timeout=10)
