"""A scripted front end for the control protocol (tsnitch(8), CONTROL PROTOCOL): JSON lines over
the control socket, or over the pipes of `tsnitch attach --stdio` / `--ssh`."""
import json
import os
import select
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "engine"))

HELLO = {"hello": "tsnitch", "version": 1, "role": "client", "program": "control test"}


class ControlClient:
    """One connection. `path`: connect to the socket; `argv`: run a command and speak over its
    stdin/stdout."""

    def __init__(self, path=None, argv=None, env=None):
        self.buf = b""
        self.proc = None
        self.sock = None
        if path:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.connect(path)
            self.rfd = self.wfd = self.sock.fileno()
        else:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, env=env)
            self.rfd = self.proc.stdout.fileno()
            self.wfd = self.proc.stdin.fileno()
        self.request = 0

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None
        if self.proc:
            if self.proc.poll() is None:
                self.proc.stdin.close()
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()

    def send_raw(self, data):
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.wfd, view)
            except (BrokenPipeError, ConnectionResetError):
                return False
            view = view[n:]
        return True

    def send(self, obj):
        return self.send_raw((json.dumps(obj) + "\n").encode())

    def command(self, type_, **fields):
        self.request += 1
        self.send(dict(type=type_, request=self.request, **fields))
        return self.request

    def line(self, timeout=10.0):
        """The next message (a dict), or None when the daemon closed the connection."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no message from the daemon within %.0f s" % timeout)
            r, _, _ = select.select([self.rfd], [], [], left)
            if not r:
                continue
            try:
                chunk = os.read(self.rfd, 65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                if self.buf:
                    raise AssertionError(f"cut line: {self.buf[:200]!r}")
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def handshake(self):
        hello = self.line()
        if not hello or hello.get("hello") != "tsnitch" or hello.get("role") != "daemon":
            raise AssertionError(f"no daemon hello: {hello!r}")
        self.send(HELLO)
        snap = self.line()
        if not snap or snap.get("type") != "snapshot":
            raise AssertionError(f"no snapshot after the hello: {snap!r}")
        return snap

    def wait(self, pred, timeout=10.0, what="a message"):
        """Reads until pred(message) is true; returns that message."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {what} within {timeout:.0f} s")
            m = self.line(left)
            if m is None:
                raise AssertionError(f"the daemon closed the connection while waiting for {what}")
            if pred(m):
                return m

    def wait_closed(self, timeout=10.0):
        """Reads until the daemon closes; returns the reason of its closing line (or None)."""
        reason = None
        deadline = time.monotonic() + timeout
        while True:
            m = self.line(max(0.1, deadline - time.monotonic()))
            if m is None:
                return reason
            if m.get("type") == "closing":
                reason = m["reason"]


def is_type(t):
    return lambda m: m.get("type") == t


def prompt_for_port(port):
    return lambda m: m.get("type") == "prompt_opened" and m["prompt"]["connection"]["dst_port"] == port
