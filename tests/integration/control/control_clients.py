"""Who may attach and what closes a client: a non-root client is refused with a message (and the
daemon logs it); garbage and a 10 MB line close only that client; a client that stops reading
does not hold up the firewall; nobody attached means DefaultAction after PromptTimeout, and the
next client finds that decision in its review list."""
import os
import subprocess
import sys
import time

from netns import NetnsPair, require_root, V4_PEER, wait_for
from control_client import ControlClient, is_type
from tsnitch_run import CLIENT, PYTHON, StderrLines, Tsnitch, attempt, check, start_peer

REFUSED_CLIENT = r"""
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.settimeout(10)
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk: break
    data += chunk
print(data.decode().strip())
"""


def main():
    require_root()
    if not any(os.access(os.path.join(d, "setpriv"), os.X_OK)
               for d in os.environ.get("PATH", "").split(":")):
        raise SystemExit("setpriv (util-linux) is needed")
    with NetnsPair() as ns:
        start_peer(ns, tcp=[8091, 8092])
        t = Tsnitch(ns, config={"PromptTimeout": 1, "DefaultAction": "reject"}).start()
        log = StderrLines(t)
        sock = os.path.join(t.dir, "control.sock")

        # Nobody attached: the connection waits PromptTimeout, then DefaultAction.
        check(attempt(ns, "tcp", V4_PEER, 8091, timeout=8) == "refused",
              "with nobody attached, DefaultAction (reject) after PromptTimeout")
        good = ControlClient(sock)
        snap = good.handshake()
        review = [r for r in snap["review"] if r["event"]["connection"]["dst_port"] == 8091]
        check(len(review) == 1 and review[0]["event"]["reason"] == "timeout" and
              review[0]["event"]["action"] == "reject",
              "the next client finds that decision in its review list")
        req = good.command("dismiss_review", id=review[0]["id"])
        seen = set()  # the broadcast and the reply, in either order
        good.wait(lambda m: (m.get("type") == "result" and m["request"] == req and
                             m["error"] == "" and seen.add("result")) or
                  (m.get("type") == "review_removed" and m["id"] == review[0]["id"] and
                   seen.add("removed")) or len(seen) == 2, what="review_removed and the result")
        print("ok: a review item can be dismissed")

        # A client that is not root (the socket made reachable, so SO_PEERCRED decides).
        os.chmod(t.dir, 0o755)
        os.chmod(sock, 0o666)
        r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                            PYTHON, "-c", REFUSED_CLIENT, sock],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=20)
        check('"type":"closing"' in r.stdout and "not allowed: uid 65534" in r.stdout,
              f"a non-root client is refused with a message: {r.stdout.strip()}")
        check(wait_for(lambda: "control: refused uid 65534" in log.text(), timeout=5),
              "and the daemon logs it")

        # Garbage, then a 10 MB line: each closes only its own client.
        bad = ControlClient(sock)
        bad.handshake()
        bad.send_raw(b"\x00\x01 this is not json\n")
        reason = bad.wait_closed()
        check(reason is not None and reason.startswith("bad message: not JSON"),
              f"garbage closes that client with the reason: {reason}")
        big = ControlClient(sock)
        big.handshake()
        big.send_raw(b'{"type":"delete_rule","request":1,"name":"' + b"x" * (10 << 20) + b'"}\n')
        reason = big.wait_closed()
        check(reason == "message longer than 1048576 bytes",
              f"a 10 MB line closes that client with the reason: {reason}")

        # A client that never reads: the firewall and the other client go on.
        stalled = ControlClient(sock)
        stalled.handshake()
        req = good.command("subscribe_sockets", on=True, interval_ms=100, focus_pid=None,
                           all_fds=True)
        good.wait(lambda m: m.get("type") == "result" and m["request"] == req)
        good.wait(is_type("sockets"), what="a socket table")
        check(attempt(ns, "tcp", V4_PEER, 8092, timeout=8) == "refused",
              "the firewall still decides while a client does not read")
        good.wait(lambda m: m.get("type") == "decision" and
                  m["event"]["connection"]["dst_port"] == 8092, what="the decision in the good client")
        print("ok: the good client still gets every event")
        stalled.close()
        good.close()
        t.stop()
    print("PASS")


if __name__ == "__main__":
    sys.exit(main())
