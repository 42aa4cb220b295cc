"""A program on a terminal of a given size, driven like a person would: a private tmux server
(socket tsnitch-test-PID-N, no user configuration) runs it; keys go in with send-keys, the screen
comes back with capture-pane. When the program exits the pane shows "EXITED-<status>".
Standard library only; always close() (the server is killed)."""

import os
import re
import shlex
import subprocess
import time


class Failure(Exception):
    pass


class TmuxScreen:
    count = 0

    def __init__(self, command, width=80, height=24, env=None):
        # A new server per program: a server still shutting down refuses a new session.
        TmuxScreen.count += 1
        self.socket = "tsnitch-test-%d-%d" % (os.getpid(), TmuxScreen.count)
        environment = {"LC_ALL": "C.UTF-8", "TERM": "xterm-256color"}
        environment.update(env or {})
        cmd = ["env"] + ["%s=%s" % kv for kv in environment.items()] + list(command)
        # Keep the pane after the program exits, so that its end can be read.
        shell = "%s; echo EXITED-$?; sleep 60" % " ".join(shlex.quote(c) for c in cmd)
        self.tmux("new-session", "-d", "-x", str(width), "-y", str(height), "sh", "-c", shell)

    def tmux(self, *args):
        r = subprocess.run(["tmux", "-u", "-f", "/dev/null", "-L", self.socket] + list(args),
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise Failure("tmux %s: %s" % (" ".join(args[:1]), r.stderr.strip()))
        return r.stdout

    def close(self):
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def screen(self, escapes=False):
        """The visible text (with SGR escapes when asked)."""
        return self.tmux("capture-pane", "-p", *(["-e"] if escapes else []))

    def keys(self, *keys):
        """tmux key names: "a", "Enter", "Escape", "Tab", "BTab", "Left", "F2", "C-c"."""
        self.tmux("send-keys", *keys)

    def resize(self, width, height):
        self.tmux("resize-window", "-x", str(width), "-y", str(height))

    def wait_for(self, pattern, timeout=10.0, absent=False):
        """Waits until the screen matches the regexp (or stops matching it, with absent)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if bool(re.search(pattern, text)) != absent:
                return text
            if time.monotonic() > deadline:
                raise Failure("screen %s /%s/ after %.0fs:\n%s" % (
                    "still shows" if absent else "does not show", pattern, timeout, text))
            time.sleep(0.1)

    def wait_all(self, texts, timeout=10.0):
        """Waits until the screen shows every one of the texts (a redraw may take a moment)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            missing = [t for t in texts if t not in text]
            if not missing:
                return text
            if time.monotonic() > deadline:
                raise Failure("screen lacks %r after %.0fs:\n%s" % (missing, timeout, text))
            time.sleep(0.1)
