"""`tsnitch monitor` in a private network namespace, driven through tmux: a process holding a
listening, a connected TCP and a connected UDP socket appears in Processes; opening it shows its
three socket lines (fds, inodes, addresses, states) exactly as `tsnitch sockets -p PID` prints
them; a new socket is marked, a closed one goes within two refreshes; K closes a connection
(SOCK_DESTROY); f lists every fd. Needs root (namespaces) and tmux."""
import json
import os
import re
import shutil
import sys

from netns import NetnsPair, require_root, skip, tsnitch_binary, V4_PEER
from tmux_screen import TmuxScreen

HERE = os.path.dirname(os.path.abspath(__file__))
REFRESH_MS = 500


def main():
    require_root()
    if shutil.which("tmux") is None:
        skip("needs tmux")
    tsnitch = tsnitch_binary()
    with NetnsPair(ipv6=False) as ns:
        server = ns.popen(ns.peer, [sys.executable, "-c",
                                    "import socket,time\n"
                                    "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                                    "s.bind(('0.0.0.0', 8080)); s.listen(); print('up', flush=True)\n"
                                    "c=s.accept(); time.sleep(120)"])
        assert server.stdout.readline().strip() == b"up"
        holder = ns.popen(ns.client, [sys.executable, os.path.join(HERE, "socket_holder.py"),
                                      V4_PEER, "8080", "5353"],
                          stdin=__import__("subprocess").PIPE)
        h = json.loads(holder.stdout.readline())
        pid = h["pid"]
        expected = {
            "listen": "%d -> socket[%d] - 7000:10.77.0.1 -> 0.0.0.0:0, state: listen"
                      % (h["listen"]["fd"], h["listen"]["inode"]),
            "tcp": "%d -> socket[%d] - %d:10.77.0.1 -> %s:8080, state: established"
                   % (h["tcp"]["fd"], h["tcp"]["inode"], h["tcp"]["port"], V4_PEER),
            "udp": "%d -> socket[%d] - %d:10.77.0.1 -> %s:5353, state: established"
                   % (h["udp"]["fd"], h["udp"]["inode"], h["udp"]["port"], V4_PEER),
        }
        # The one-shot command prints the same lines for the same process.
        cli = ns.run(ns.client, [tsnitch, "sockets", "-p", str(pid)]).stdout.splitlines()
        assert sorted(cli) == sorted(expected.values()), (cli, expected)

        with TmuxScreen(ns.cmd(ns.client, [tsnitch, "monitor", "--interval", str(REFRESH_MS)]),
                        width=200, height=30) as t:
            # Processes: the holder with 1 established, 1 listening, 1 UDP socket, 1000 bytes sent
            # (the payload: the SYN is not counted), its command line after its name, and (at
            # 200 columns) the rates; nothing flows yet.
            t.wait_for(r"tsnitch monitor")
            row = (r"(?m)^%d\s+root\s+1\s+1\s+0\s+1\s+0\s+1000\s+0\s+0\s+0\s+python\S*\s+\S*python\S* "
                   r"\S*socket_holder\.py %s 8080 5353" % (pid, re.escape(V4_PEER)))
            t.wait_for(row)
            # While it sends 100 KB/s its Sent/s column shows it (then it is back to 0).
            holder.stdin.write(b"stream\n")
            holder.stdin.flush()
            holder.stdout.readline()
            t.wait_for(r"(?m)^%d\s+root\s+1\s+1\s+0\s+1\s+0\s+\S+\s+0\s+[1-9][0-9.]*K\s+0\s+python"
                       % pid)
            holder.stdin.write(b"stop\n")
            holder.stdin.flush()
            holder.stdout.readline()
            t.wait_for(r"(?m)^%d\s+root\s+1\s+1\s+0\s+1\s+0\s+\S+\s+0\s+0\s+0\s+python" % pid)
            # The filter finds the process by its command line too.
            t.keys("/")
            t.keys("-l", "socket_holder")
            t.keys("Enter")
            t.wait_for(r'filter "socket_holder":1')
            t.keys("Escape")
            t.keys("/")
            t.keys("-l", str(pid))
            t.keys("Enter")
            t.wait_for(r'filter "%d"' % pid)
            t.keys("Enter")
            screen = t.wait_all(list(expected.values()))
            assert "sockets: 3" in screen, screen
            view_lines = [l[2:].rstrip() for l in screen.splitlines() if " -> socket[" in l]
            assert sorted(view_lines) == sorted(cli), (view_lines, cli)

            # A new socket appears marked "+"; closing one makes its line go within two refreshes.
            holder.stdin.write(b"open-udp\n")
            holder.stdin.flush()
            u2 = json.loads(holder.stdout.readline())["udp2"]
            t.wait_for(r"\+ %d -> socket\[%d\]" % (u2["fd"], u2["inode"]), timeout=5)
            holder.stdin.write(b"close-udp\n")
            holder.stdin.flush()
            holder.stdout.readline()
            t.wait_for(re.escape(expected["udp"]), absent=True, timeout=3 * REFRESH_MS / 1000 + 2)
            t.wait_all([expected["tcp"], expected["listen"]])

            # K closes the selected socket (the TCP connection, second in fd order) after asking.
            t.keys("Up", "Up", "Up", "Down", "K")
            t.wait_all(["Close socket", expected["tcp"]])
            t.keys("y")
            t.wait_for(re.escape(expected["tcp"]), absent=True, timeout=5)
            t.wait_for(r"%d -> socket\[%d\] - other" % (h["tcp"]["fd"], h["tcp"]["inode"]))
            assert "closing the socket" not in t.screen()

            # The monitor has no rules: a/d open the form, and confirming it says so.
            t.keys("d")
            t.wait_all(["New rule for python", "[deny]", "[always]"])
            t.keys("Enter")
            t.wait_for("only be added while tsnitch intercepts")

            # All fds: the holder's stdin is a pipe.
            t.keys("f")
            t.wait_for(r"(?m)^  0 -> pipe:\[\d+\]")
            # The process ends: the view says so and its lines go.
            holder.stdin.write(b"exit\n")
            holder.stdin.flush()
            holder.wait(timeout=5)
            t.wait_for("process %d has ended" % pid)
            t.wait_for(re.escape(expected["listen"]), absent=True, timeout=5)
            t.keys("q")
            t.wait_for("EXITED-0")
    print("ok")


if __name__ == "__main__":
    main()
