#!/usr/bin/env python3
"""The terminal UI driven through tmux: tsnitch-tui-demo (the real UI against a scripted fake
backend) runs in a private tmux server; keys go in with send-keys, the screen comes back with
capture-pane, and the answers the UI gave come back as JSON lines.

Usage: tui_test.py SCENARIO   (env TSNITCH_TUI_DEMO: the demo binary). Exit 77 when tmux is
missing."""

import json
import os
import re
import shutil
import sys
import tempfile
import time

from tmux_screen import Failure, TmuxScreen

DEMO = os.environ.get("TSNITCH_TUI_DEMO", "")

CURL = """
      host: example.com
      dst: 93.184.216.34
      dst_port: 443
      src: 10.0.2.15
      src_port: 54321
      method: ebpf
      process: {pid: 4321, ppid: 4300, uid: 1000, user: alice, comm: curl, path: /usr/bin/curl,
                args: [curl, -sS, "https://example.com/"], cwd: /home/alice/src,
                parents: [{pid: 4300, name: bash}, {pid: 4100, name: sshd}]}
"""

WGET = """
      host: deb.debian.org
      dst: 151.101.2.132
      dst_port: 80
      process: {pid: 5000, uid: 1000, user: alice, comm: wget, path: /usr/bin/wget,
                args: [wget, "http://deb.debian.org/"], cwd: /tmp}
"""

RULES_AND_EVENTS = """
rules:
  - {name: 000-allow-dns, action: allow, hits: 4,
     operator: {type: simple, operand: dest.port, data: "53"}}
  - {name: deny-always-regexp-tracker.example, action: deny, hits: 1,
     operator: {type: regexp, operand: dest.host, data: tracker}}
steps:
  - at: 0
    event: {action: allow, rule: 000-allow-dns, protocol: udp, dst: 10.0.2.3, dst_port: 53,
            process: {pid: 311, comm: resolved, path: /usr/lib/systemd/systemd-resolved, user: systemd-resolve}}
  - at: 0
    event: {action: deny, rule: deny-always-regexp-tracker.example, host: ads.tracker.example,
            dst: 203.0.113.9, dst_port: 443, process: {pid: 2210, comm: firefox, path: /usr/lib/firefox/firefox, user: alice}}
"""


def script_with(*steps, defaults="{action: deny, duration: once, timeout: 60}", extra=""):
    text = "defaults: %s\n%s" % (defaults, extra)
    if steps:
        if "steps:" not in text:
            text += "steps:\n"
        for at, kind, body in steps:
            text += "  - at: %s\n    %s:%s\n" % (at, kind, body)
    return text


class Tui(TmuxScreen):
    """tsnitch-tui-demo playing `script` in its own tmux server; answers in self.answers."""

    def __init__(self, tmp, script, width=80, height=24, env=None, args=()):
        self.answers = os.path.join(tmp, "answers.jsonl")
        script_path = os.path.join(tmp, "script.yaml")
        with open(script_path, "w") as f:
            f.write(script)
        super().__init__([DEMO, "--answers", self.answers] + list(args) + [script_path],
                         width=width, height=height, env=env)

    def answers_list(self):
        if not os.path.exists(self.answers):
            return []
        with open(self.answers) as f:
            return [json.loads(line) for line in f if line.strip()]

    def wait_answers(self, n, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            got = self.answers_list()
            if len(got) >= n:
                return got
            if time.monotonic() > deadline:
                raise Failure("expected %d answer lines, got %r; screen:\n%s" % (
                    n, got, self.screen()))
            time.sleep(0.1)


def rule_content(rule):
    """The rule of an answer line as OpenSnitch JSON, without created/updated: the UI leaves
    them empty for the rule store to stamp."""
    check(rule.get("created") == "" and rule.get("updated") == "",
          "the UI stamped the rule: %r" % rule)
    return {k: v for k, v in rule.items() if k not in ("created", "updated")}


def check(cond, message, screen=""):
    if not cond:
        raise Failure(message + ("\n" + screen if screen else ""))


KEY_DELAY_WAIT = 0.8  # the demo's default key delay is 0.5 s


# --- scenarios -------------------------------------------------------------------------------

def prompt_shows_everything(tmp):
    t = Tui(tmp, script_with((0, "prompt", CURL)))
    try:
        s = t.wait_all(["curl wants to connect", "pid 4321", "user alice (1000)", "/usr/bin/curl",
                        "curl -sS https://example.com/", "/home/alice/src",
                        "bash(4300) < sshd(4100)", "example.com", "93.184.216.34", "port 443",
                        "tcp", "10.0.2.15", "port 54321", "ebpf", "a allow", "d deny", "r reject",
                        "[once]", "this executable: /usr/bin/curl"])
        m = re.search(r"\b(\d+)s → deny", s)
        check(m and 50 <= int(m.group(1)) <= 60, "no countdown 'NNs → deny' from 60", s)
        time.sleep(1.5)
        s = t.screen()
        m2 = re.search(r"\b(\d+)s → deny", s)
        check(m2 and int(m2.group(1)) < int(m.group(1)), "the countdown does not count down", s)
    finally:
        t.close()


def no_deadline_no_countdown(tmp):
    t = Tui(tmp, script_with((0, "prompt", CURL), defaults="{action: reject, timeout: 0}"))
    try:
        s = t.wait_all(["curl wants to connect", "[reject]", "a allow"])
        check(not re.search(r"\ds → ", s), "a countdown is shown although PromptTimeout is 0", s)
    finally:
        t.close()


def allow_always_writes_rule(tmp):
    t = Tui(tmp, script_with((0, "prompt", CURL)), args=["--default-duration", "always"])
    try:
        t.wait_all(["curl wants to connect", "[always]"])
        time.sleep(KEY_DELAY_WAIT)
        t.keys("a")
        (a,) = t.wait_answers(1)
        check(a["action"] == "allow" and a["duration"] == "always", "answer %r" % a)
        check(rule_content(a["rule"]) == {
            "name": "allow-always-simple-usrbincurl",
            "description": "this executable: /usr/bin/curl",
            "enabled": True, "precedence": False, "nolog": False,
            "action": "allow", "duration": "always",
            "operator": {"type": "simple", "operand": "process.path", "sensitive": False,
                         "data": "/usr/bin/curl", "list": None},
        }, "rule %r" % a["rule"])
        t.wait_for(r"allow\s+curl\s+example\.com:443\s+allow-always-simple")
        t.wait_for("wants to connect", absent=True)
    finally:
        t.close()


def deny_once_stores_nothing(tmp):
    t = Tui(tmp, script_with((0, "prompt", CURL)))
    try:
        t.wait_for("curl wants to connect")
        time.sleep(KEY_DELAY_WAIT)
        t.keys("d")
        (a,) = t.wait_answers(1)
        check(a == {"prompt": 1, "action": "deny", "duration": "once", "reason": "prompt",
                    "rule": None}, "answer %r" % a)
    finally:
        t.close()


def arrows_and_tab_change_duration_and_scope(tmp):
    t = Tui(tmp, script_with((0, "prompt", CURL)))
    try:
        t.wait_for("curl wants to connect")
        time.sleep(KEY_DELAY_WAIT)
        t.keys("Right", "Right")
        s = t.wait_for(r"\[5m\]")
        t.keys("Tab")
        for _ in range(9):  # executable, command line, host, *.example.com? (no), IP, ...
            s = t.screen()
            if "executable + host:" in s:
                break
            t.keys("Right")
            time.sleep(0.15)
        s = t.wait_for(r"executable \+ host: /usr/bin/curl \+ example\.com")
        t.keys("Enter")
        (a,) = t.wait_answers(1)
        check(a["action"] == "deny" and a["duration"] == "5m", "answer %r" % a)
        op = rule_content(a["rule"])["operator"]
        check(op["type"] == "list" and op["operand"] == "list", "operator %r" % op)
        check(op["list"] == [
            {"type": "simple", "operand": "process.path", "sensitive": False,
             "data": "/usr/bin/curl", "list": None},
            {"type": "simple", "operand": "dest.host", "sensitive": False,
             "data": "example.com", "list": None}], "list %r" % op["list"])
        check(op["data"] == '[{"type": "simple", "operand": "process.path", "sensitive": false, '
              '"data": "/usr/bin/curl"}, {"type": "simple", "operand": "dest.host", '
              '"sensitive": false, "data": "example.com"}]', "data %r" % op["data"])
        check(a["rule"]["name"] == "deny-5m-list-usrbincurl-example.com", "name %r" % a["rule"])
    finally:
        t.close()


def domain_scope_is_a_regexp(tmp):
    body = CURL.replace("host: example.com", "host: www.example.com")
    t = Tui(tmp, script_with((0, "prompt", body)), args=["--default-duration", "1h"])
    try:
        t.wait_for("curl wants to connect")
        time.sleep(KEY_DELAY_WAIT)
        t.keys("Tab")
        for _ in range(6):
            if re.search(r"◀ \*\.example\.com ▶", t.screen()):
                break
            t.keys("Right")
            time.sleep(0.15)
        t.wait_for(r"◀ \*\.example\.com ▶")
        t.keys("a")
        (a,) = t.wait_answers(1)
        check(rule_content(a["rule"])["operator"] == {"type": "regexp", "operand": "dest.host",
                                        "sensitive": False, "data": r"^(|.*\.)example\.com$",
                                        "list": None}, "rule %r" % a["rule"])
        check(a["duration"] == "1h", "duration %r" % a)
    finally:
        t.close()


def early_keys_are_ignored(tmp):
    t = Tui(tmp, script_with((0.5, "prompt", CURL)), args=["--key-delay", "3000"])
    try:
        t.wait_for("curl wants to connect")
        t.keys("a", "Enter", "Escape")  # typed for something else, just as the prompt appeared
        time.sleep(0.5)
        s = t.screen()
        check("curl wants to connect" in s, "an early key answered the prompt", s)
        check(t.answers_list() == [], "an early key was taken: %r" % t.answers_list())
        time.sleep(2.8)
        t.keys("r")
        (a,) = t.wait_answers(1)
        check(a["action"] == "reject", "answer %r" % a)
    finally:
        t.close()


def several_pending_oldest_first(tmp):
    # The third step is the same process to the same destination: it joins the first prompt.
    t = Tui(tmp, script_with((0, "prompt", CURL), (0.2, "prompt", WGET), (0.4, "prompt", CURL)))
    try:
        t.wait_all(["+1 joined", "curl wants to connect", "1 more waiting"])
        time.sleep(KEY_DELAY_WAIT)
        t.keys("a")
        s = t.wait_for("wget wants to connect")
        check("more waiting" not in s, "still says more are waiting", s)
        time.sleep(KEY_DELAY_WAIT)
        t.keys("d")
        a = t.wait_answers(2)
        check([(x["prompt"], x["action"]) for x in a] == [(1, "allow"), (2, "deny")],
              "answers out of order: %r" % a)
        t.wait_for("wants to connect", absent=True)
    finally:
        t.close()


def countdown_applies_default(tmp):
    t = Tui(tmp, script_with((0, "prompt", CURL), defaults="{action: reject, timeout: 2}"))
    try:
        t.wait_for(r"[12]s → reject")
        t.wait_for(r"reject\s+curl\s+example\.com:443\s+\(timeout\)", timeout=6)
        t.wait_for("wants to connect", absent=True)
        (a,) = t.wait_answers(1)
        check(a["action"] == "reject" and a["reason"] == "timeout", "answer %r" % a)
    finally:
        t.close()


def essentials_on_80x24_and_40x10(tmp):
    t = Tui(tmp, script_with((0, "prompt", CURL), (0.1, "prompt", WGET)))
    try:
        s = t.wait_all(["1 more waiting", "Parents", "Scope", "a allow", "intercepting"])
        lines = s.split("\n")
        check(all(len(l) <= 80 for l in lines), "a line is wider than 80", s)
        check("intercepting" in lines[0], "the status line is missing", s)
        t.resize(40, 10)
        s = t.wait_all(["curl wants to connect", "pid 4321", "example.com", "a allow", "d deny",
                        "r reject", "1 more waiting"])
        check(all(len(l) <= 40 for l in s.split("\n")), "a line is wider than 40", s)
        t.resize(24, 6)
        s = t.wait_all(["curl", "example.com", "a allow"])
        t.resize(80, 24)  # back: the screen is whole again (SIGWINCH redraws)
        t.wait_all(["Parents", "Path", "[1 Connections]", "1 more waiting", "intercepting"])
    finally:
        t.close()


def status_line_names_queues_and_drops(tmp):
    # One queue per CPU from QueueNum on; packets the kernel dropped show in every width.
    extra = "status: {queue: 7, queues: 2, dropped: 49894}\n"
    t = Tui(tmp, script_with(extra=extra), width=160)
    try:
        s = t.wait_all(["(queues 7-8)", "dropped 49894"])
        check("dropped 49894" in s.split("\n")[0], "the drops are not on the status line", s)
        t.resize(60, 10)
        s = t.wait_all(["q7-8", "dropped 49894"])
        check("dropped 49894" in s.split("\n")[0], "narrow: the drops left the status line", s)
    finally:
        t.close()


def no_color_and_monochrome(tmp):
    sgr_color = re.compile(r"\x1b\[[0-9;]*(3[0-7]|9[0-7]|38;5;\d+)m")
    t = Tui(tmp, script_with((0, "prompt", CURL), extra=RULES_AND_EVENTS))
    try:
        t.wait_for("curl wants to connect")
        check(sgr_color.search(t.screen(escapes=True)), "colours expected without NO_COLOR")
    finally:
        t.close()
    t = Tui(tmp, script_with((0, "prompt", CURL), extra=RULES_AND_EVENTS), env={"NO_COLOR": "1"})
    try:
        t.wait_all(["curl wants to connect", "[once]", "a allow"])
        s = t.screen(escapes=True)
        check(not sgr_color.search(s), "NO_COLOR still draws colours", s)
    finally:
        t.close()
    t = Tui(tmp, script_with((0, "prompt", CURL)), env={"TERM": "vt100"})
    try:
        t.wait_all(["curl wants to connect", "/usr/bin/curl", "a allow"])
    finally:
        t.close()


def unusable_terminal_is_refused(tmp):
    for term, why in [("dumb", "cannot move the cursor"), ("no-such-terminal", "unknown terminal")]:
        t = Tui(tmp, script_with(extra=RULES_AND_EVENTS), env={"TERM": term})
        try:
            t.wait_all(["EXITED-1", why])
        finally:
            t.close()


def ascii_locale(tmp):
    t = Tui(tmp, script_with((0, "prompt", CURL), extra=RULES_AND_EVENTS),
            env={"LC_ALL": "C", "LANG": "C"})
    try:
        s = t.wait_all(["curl wants to connect", "+-", "-> deny", "< this executable", "a allow"])
        check(all(ord(c) < 128 for c in s), "non-ASCII on a C-locale terminal", s)
    finally:
        t.close()


def hostile_argv_is_escaped(tmp):
    body = CURL.replace('args: [curl, -sS, "https://example.com/"]',
                        r'args: [curl, "\e[2J\e[H\e]0;pwned\a", "x\u202Eyz"]').replace(
        "comm: curl", r'comm: "cu\e[31mrl"')
    t = Tui(tmp, script_with((0, "prompt", body)))
    try:
        t.wait_all([r"curl \e[2J\e[H\e]0;pwned\x07 x\u202eyz", r"cu\e[31mrl wants to connect",
                    "Parents", "[1 Connections]", "a allow"])
        check("pwned" not in t.tmux("display-message", "-p", "#{pane_title}"),
              "argv set the window title")
    finally:
        t.close()


def views_and_filter(tmp):
    t = Tui(tmp, script_with(extra=RULES_AND_EVENTS))
    try:
        t.wait_all(["firefox", "ads.tracker.example:443", "resolved"])
        t.keys("2")
        t.wait_all(["[2 Rules]", "000-allow-dns", "dest.port == 53"])
        t.keys("3")
        t.wait_all(["Top hosts", "Top processes", "Top ports", "Top users", "443/tcp", "alice"])
        t.keys("4")
        t.wait_for(r"\[4 Sockets\]")
        t.keys("?")
        t.wait_for("asks first, as it removes the firewall")
        t.keys("F2")
        t.wait_for(r"\[1 Connections\]")
        t.keys("/", "t", "r", "a", "c", "k", "Enter")
        s = t.wait_for("filter \"track\": 1 of 2")
        check("firefox" in s and "resolved" not in s, "filter did not filter", s)
        t.keys("Escape")
        t.wait_for("resolved")
    finally:
        t.close()


def log_view(tmp):
    extra = RULES_AND_EVENTS + """  - at: 0.2
    log: {level: info, text: "loaded 2 rules"}
  - at: 0.3
    log: {level: error, text: "rules/x.json: operator.data: bad regexp '('"}
"""
    t = Tui(tmp, script_with(extra=extra))
    try:
        t.wait_for(r"rules/x\.json: operator\.data: bad regexp")  # the bottom line tells at once
        t.keys("5")
        s = t.wait_all(["[5 Log]", "loaded 2 rules", "error"])
        lines = s.split("\n")
        i = next(n for n, l in enumerate(lines) if "loaded 2 rules" in l)
        check("bad regexp" in lines[i + 1], "the log is not oldest to newest", s)
    finally:
        t.close()


def rules_toggle_edit_delete(tmp):
    t = Tui(tmp, script_with(extra=RULES_AND_EVENTS))
    try:
        t.wait_for("firefox")
        t.keys("2")
        t.wait_for("000-allow-dns")
        t.keys("Space")
        s = t.wait_for(r"off\s+allow")
        t.keys("Down", "e")
        t.wait_for("Change rule")
        t.keys("Right", "Tab", "Left", "Left", "Enter")
        t.keys("x")
        t.wait_for("Delete rule")
        t.keys("n")
        t.wait_for("Delete rule", absent=True)
        t.keys("x")
        t.wait_for("Delete rule")
        t.keys("y")
        a = t.wait_answers(3)
        check(a == [{"op": "enable", "rule": "000-allow-dns", "enabled": False},
                    {"op": "change", "rule": "deny-always-regexp-tracker.example",
                     "action": "reject", "duration": "24h"},
                    {"op": "delete", "rule": "deny-always-regexp-tracker.example"}],
              "rule operations %r" % a)
        s = t.wait_for("tracker.example", absent=True)
    finally:
        t.close()


def quit_asks_first(tmp):
    t = Tui(tmp, script_with(extra=RULES_AND_EVENTS))
    try:
        t.wait_for("firefox")
        t.keys("q")
        t.wait_all(["Quit tsnitch", "removes the firewall"])
        t.keys("n")
        t.wait_for("Quit tsnitch", absent=True)
        check("EXITED" not in t.screen(), "quit without a yes")
        t.keys("C-c")
        t.wait_for("Quit tsnitch")
        t.keys("y")
        t.wait_for("EXITED-0")
        check(t.answers_list() == [{"op": "quit"}], "answers %r" % t.answers_list())
    finally:
        t.close()


SCENARIOS = {f.__name__: f for f in [
    prompt_shows_everything, no_deadline_no_countdown, allow_always_writes_rule,
    deny_once_stores_nothing, arrows_and_tab_change_duration_and_scope, domain_scope_is_a_regexp,
    early_keys_are_ignored, several_pending_oldest_first, countdown_applies_default,
    essentials_on_80x24_and_40x10, status_line_names_queues_and_drops, no_color_and_monochrome, unusable_terminal_is_refused,
    ascii_locale,
    hostile_argv_is_escaped, views_and_filter, log_view, rules_toggle_edit_delete,
    quit_asks_first]}


def main():
    if not shutil.which("tmux"):
        print("SKIP: tmux is not installed")
        return 77
    if not DEMO or not os.access(DEMO, os.X_OK):
        print("FAIL: set TSNITCH_TUI_DEMO to the tsnitch-tui-demo binary")
        return 1
    names = sys.argv[1:] or list(SCENARIOS)
    failed = 0
    for name in names:
        with tempfile.TemporaryDirectory(prefix="tsnitch-tui-") as tmp:
            try:
                SCENARIOS[name](tmp)
                print("ok   %s" % name)
            except Failure as e:
                failed += 1
                print("FAIL %s: %s" % (name, e))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
