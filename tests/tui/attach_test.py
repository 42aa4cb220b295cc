"""`tsnitch attach` in tmux (a daemon `tsnitch run --headless` in a private namespace pair): the
daemon's prompt shows in the attached TUI and the key pressed there decides the connection; the
same through `attach --ssh`, with an `ssh` stand-in on PATH that runs the remote command here.
Needs root and tmux."""
import os
import shutil
import stat
import sys
import tempfile
import time

from netns import require_root, skip, V4_PEER
from tsnitch_run import CLIENT, NetnsPair, PYTHON, Tsnitch, check, start_peer, tsnitch_binary
from tmux_screen import TmuxScreen

# ssh [OPTIONS] -- HOST COMMAND: records its arguments, then runs COMMAND with sh, as sshd would.
SSH_STANDIN = """#!/bin/sh
printf '%s\\n' "$@" > "$(dirname "$0")/ssh-args"
while [ $# -gt 0 ] && [ "$1" != "--" ]; do shift; done
shift 2
exec sh -c "$*"
"""


def answer_in(screen, ns, port, key, expected):
    p = ns.popen(ns.client, [PYTHON, "-c", CLIENT, "tcp", V4_PEER, str(port), "10"], text=True)
    screen.wait_all(["wants to connect", "port %d" % port], timeout=15)
    time.sleep(0.8)  # keys typed in the first half second of a prompt are ignored
    screen.keys(key)
    out, _ = p.communicate(timeout=30)
    check(out.strip() == expected, f"the key {key!r} in the attached TUI decided it: {out.strip()}")


def quit_tui(screen):
    screen.keys("q")
    s = screen.wait_for(r"Quit|Detach|EXITED-", timeout=10)
    if "EXITED-" not in s:
        screen.keys("y")
    screen.wait_for("EXITED-0", timeout=10)


def main():
    require_root()
    if shutil.which("tmux") is None:
        skip("needs tmux")
    standin = tempfile.mkdtemp(prefix="tsnitch-control-ssh-")
    try:
        ssh = os.path.join(standin, "ssh")
        with open(ssh, "w") as f:
            f.write(SSH_STANDIN)
        os.chmod(ssh, stat.S_IRWXU)
        os.symlink(tsnitch_binary(), os.path.join(standin, "tsnitch"))
        with NetnsPair(ipv6=False) as ns:
            start_peer(ns, tcp=[8201, 8202])
            t = Tsnitch(ns, config={"PromptTimeout": 60}).start()
            sock = os.path.join(t.dir, "control.sock")

            with TmuxScreen([tsnitch_binary(), "attach", "--socket", sock], width=120,
                            height=40) as screen:
                answer_in(screen, ns, 8201, "a", "ok")
                quit_tui(screen)
            check(t.proc.poll() is None, "the daemon runs on after the TUI detached")

            env = {"PATH": standin + ":" + os.environ.get("PATH", "/usr/bin:/bin")}
            cmd = [tsnitch_binary(), "attach", "--ssh", "admin@server", "--socket", sock, "--",
                   "-o", "BatchMode=yes"]
            with TmuxScreen(cmd, width=120, height=40, env=env) as screen:
                answer_in(screen, ns, 8202, "r", "refused")
                quit_tui(screen)
            with open(os.path.join(standin, "ssh-args")) as f:
                args = f.read().splitlines()
            check(args == ["-o", "BatchMode=yes", "--", "admin@server",
                           "tsnitch attach --stdio --socket '%s'" % sock],
                  f"attach --ssh runs ssh OPTIONS -- HOST tsnitch attach --stdio: {args}")
            t.stop()
    finally:
        shutil.rmtree(standin, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    main()
