"""`tsnitch rules` on the rule files directly: list, check, add, show, disable, delete, import.

Needs no root and no network namespace: it only reads and writes files in a scratch directory.
"""
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile

from netns import tsnitch_binary

SRC = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(SRC, "..", "..", "data", "rules"))


def run(*args, expect=0):
    p = subprocess.run([tsnitch_binary(), "rules", *args], capture_output=True, text=True,
                       timeout=30)
    if p.returncode != expect:
        raise SystemExit(f"tsnitch rules {' '.join(args)}: exit {p.returncode}, expected "
                         f"{expect}\nstdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def names_in_list(out):
    lines = out.strip().splitlines()
    assert lines[0].split()[:2] == ["NAME", "ENABLED"], lines
    return {line.split()[0]: line.split()[1] for line in lines[1:]}


def main():
    tmp = tempfile.mkdtemp(prefix="tsnitch-rules-cli-")
    try:
        rules = os.path.join(tmp, "rules")
        r = ["-r", rules]

        # A missing directory is an error (a mistyped -r or RulesPath), not an empty table;
        # an empty one lists no rules.
        missing = run(*r, "list", expect=2)
        assert f"{rules}: no such rules directory" in missing.stderr, missing.stderr
        run(*r, "show", "x", expect=2)
        os.mkdir(rules, 0o700)
        assert names_in_list(run(*r, "list").stdout) == {}

        run(*r, "add", "allow-curl", "--action", "allow", "--operand", "process.path",
            "--data", "/usr/bin/curl")
        run(*r, "add", "deny-example", "--action", "deny", "--operand", "dest.host", "--type",
            "regexp", "--data", r"^(|.*\.)example\.com$", "--operand", "dest.port", "--data",
            "443", "--precedence")
        listed = names_in_list(run(*r, "list").stdout)
        assert listed == {"allow-curl": "yes", "deny-example": "yes"}, listed

        # Files are OpenSnitch's: one per rule, mode 0600, list + data copy.
        path = os.path.join(rules, "deny-example.json")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        with open(path) as f:
            on_disk = json.load(f)
        assert on_disk["operator"]["type"] == "list"
        assert on_disk["operator"]["list"][0]["data"] == r"^(|.*\.)example\.com$"
        assert json.loads(on_disk["operator"]["data"])[1]["data"] == "443"
        assert on_disk["precedence"] is True

        shown = json.loads(run(*r, "show", "deny-example").stdout)
        assert shown["name"] == "deny-example" and shown["action"] == "deny", shown

        # A taken name (1), and bad usage (2): a bad regexp, operand, data or name, a missing
        # action; none of them writes anything.
        run(*r, "add", "allow-curl", "--action", "deny", "--operand", "true", expect=1)
        bad = run(*r, "add", "bad", "--action", "deny", "--operand", "dest.host", "--type",
                  "regexp", "--data", "(", expect=2)
        assert "operator.data: bad regexp" in bad.stderr, bad.stderr
        bad = run(*r, "add", "bad", "--action", "deny", "--operand", "dest.colour", "--data", "x",
                  expect=2)
        assert "unknown operand" in bad.stderr, bad.stderr
        bad = run(*r, "add", "bad", "--action", "deny", "--operand", "dest.network", "--type",
                  "network", "--data", "10.0.0.0/99", expect=2)
        assert "expected a network" in bad.stderr, bad.stderr
        run(*r, "add", "bad", "--action", "deny", "--operand", "dest.port", "--type", "range",
            "--data", "nine", expect=2)
        run(*r, "add", "../escape", "--action", "deny", "--operand", "true", expect=2)
        run(*r, "add", "no-action", "--operand", "true", expect=2)
        assert sorted(os.listdir(rules)) == ["allow-curl.json", "deny-example.json"]

        run(*r, "disable", "allow-curl")
        assert names_in_list(run(*r, "list").stdout)["allow-curl"] == "no"
        with open(os.path.join(rules, "allow-curl.json")) as f:
            assert json.load(f)["enabled"] is False
        run(*r, "enable", "allow-curl")
        assert names_in_list(run(*r, "list").stdout)["allow-curl"] == "yes"

        run(*r, "delete", "allow-curl")
        assert not os.path.exists(os.path.join(rules, "allow-curl.json"))
        run(*r, "delete", "allow-curl", expect=1)
        run(*r, "show", "allow-curl", expect=1)

        # import: the good OpenSnitch rules are copied unchanged, each broken one is named with
        # its field, and the exit status says something was skipped.
        imp = run(*r, "import", os.path.join(DATA, "broken"), expect=1)
        assert "imported 1 rule, skipped 7" in imp.stdout, imp.stdout
        for expected in ["unknown-operand.json: operator.operand: unknown operand",
                         "bad-regexp.json: operator.data: bad regexp",
                         "bad-cidr.json: operator.data: expected a network",
                         "unknown-action.json: action: expected allow, deny or reject",
                         "wrong-type.json: enabled: expected true or false",
                         "syntax-error.json:", "bad-sub-operator.json: operator.list[1].data"]:
            assert expected in imp.stderr, (expected, imp.stderr)
        src = os.path.join(DATA, "broken", "good-one.json")
        dst = os.path.join(rules, "allow-always-simple-usrbincurl.json")
        with open(src) as a, open(dst) as b:
            assert a.read() == b.read()

        # The OpenSnitch set (lists directory given relative to the source tree) imports; the
        # rule imported above already exists and is skipped.
        os.chdir(os.path.normpath(os.path.join(DATA, "..", "..", "..")))
        imp = run(*r, "import", os.path.join(DATA, "opensnitch"), expect=1)
        assert "imported 6 rules, skipped 1" in imp.stdout, imp.stdout
        assert "'allow-always-simple-usrbincurl' exists already" in imp.stderr, imp.stderr
        # Importing again skips what exists, unless --replace.
        run(*r, "import", os.path.join(DATA, "opensnitch"), expect=1)
        run(*r, "import", "--replace", os.path.join(DATA, "opensnitch"))
        listed = names_in_list(run(*r, "list").stdout)
        assert listed["deny-always-regexp-python-http"] == "no"
        assert len(listed) == 8, listed

        # A broken file in the rules directory is reported by list; the rest is listed.
        with open(os.path.join(rules, "zz-broken.json"), "w") as f:
            f.write('{"name": "zz", "action": "allow", "operator": {"type": "network", '
                    '"operand": "dest.network", "data": "10.0.0.0/99"}}')
        out = run(*r, "list", expect=2)
        assert "zz-broken.json: operator.data: expected a network" in out.stderr, out.stderr
        assert len(names_in_list(out.stdout)) == 8

        # check: exit 2 naming the broken file (for ExecStartPre and CI); 0 once it is fixed.
        out = run(*r, "check", expect=2)
        assert "zz-broken.json: operator.data: expected a network" in out.stderr, out.stderr
        assert f"1 rule file of {rules} not loaded; 8 rules would apply" in out.stderr, out.stderr
        os.remove(os.path.join(rules, "zz-broken.json"))
        out = run(*r, "check")
        assert f"{rules}: 8 rules, no broken file" in out.stdout, out.stdout
        # A file others may write is refused by check (and by run) with its owner and mode.
        path = os.path.join(rules, "deny-example.json")
        os.chmod(path, 0o666)
        out = run(*r, "check", expect=2)
        assert f"{path}: owned by uid {os.geteuid()}" in out.stderr, out.stderr
        assert "mode 0666: writable by others; refused" in out.stderr, out.stderr
        os.chmod(path, 0o600)

        # Names from files are printed escaped: an escape sequence in a rule's name is shown,
        # not obeyed.
        with open(os.path.join(rules, "zz-esc.json"), "w") as f:
            json.dump({"name": "esc\u001b[2Jname", "action": "allow", "duration": "always",
                       "operator": {"type": "simple", "operand": "true", "data": ""}}, f)
        out = run(*r, "list")
        assert "\x1b" not in out.stdout, repr(out.stdout)
        assert "esc\\e[2Jname" in out.stdout, out.stdout
        os.remove(os.path.join(rules, "zz-esc.json"))

        # Without -r the configuration's RulesPath is used.
        conf = os.path.join(tmp, "config.json")
        with open(conf, "w") as f:
            json.dump({"RulesPath": rules}, f)
        assert len(names_in_list(run("-c", conf, "list").stdout)) == 8

        # The operand true reads as what it is, not as a duration.
        run(*r, "add", "allow-all", "--action", "allow", "--operand", "true")
        row = [l for l in run(*r, "list").stdout.splitlines() if l.startswith("allow-all ")]
        assert row and row[0].rstrip().endswith("true (every connection)"), row

        help_text = run("--help").stdout
        for option in ["--action", "--duration", "--operand", "--data", "--type", "--sensitive",
                       "import"]:
            assert option in help_text, option
        run(*r, "frobnicate", expect=2)
        print("ok")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    sys.exit(main())
