"""`meson install --destdir`: what a package or an administrator gets.

The binary, both man pages (they render with `man -l`), /etc/tsnitch (0755) with the default
configuration (0644) and the example rules in rules/ (0700, files 0600), and the systemd unit with
ExecStart from the configured prefix, checked by `systemd-analyze verify` (skipped with a reason
when systemd-analyze is absent). A second install keeps a changed configuration and does not bring
back a deleted example rule.
"""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

BUILD = os.environ["BUILD_ROOT"]
SOURCE = os.environ["SOURCE_ROOT"]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def install(destdir):
    meson = shutil.which("meson")
    if meson is None:
        raise SystemExit("meson not on PATH")
    r = subprocess.run([meson, "install", "-C", BUILD, "--no-rebuild", "--quiet", "--destdir", destdir],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise SystemExit("meson install failed:\n" + r.stdout)
    return r.stdout


def options():
    with open(os.path.join(BUILD, "meson-info", "intro-buildoptions.json")) as f:
        return {o["name"]: o["value"] for o in json.load(f)}


def main():
    opts = options()
    prefix, sbindir, mandir = opts["prefix"], opts["sbindir"], opts["mandir"]
    unitdir = opts["systemdunitdir"] or os.path.join(prefix, "lib/systemd/system")
    with tempfile.TemporaryDirectory(prefix=f"install-destdir-{os.getpid()}-") as dest:
        install(dest)
        root = lambda p: dest + (p if os.path.isabs(p) else os.path.join(prefix, p))  # noqa: E731

        binary = root(os.path.join(sbindir, "tsnitch"))
        check(os.access(binary, os.X_OK), f"{binary} is not an executable")
        out = subprocess.run([binary, "--version"], stdout=subprocess.PIPE, text=True).stdout
        check(out.startswith("tsnitch "), f"installed binary --version: {out!r}")

        etc = dest + "/etc/tsnitch"
        check(os.path.isdir(etc) and mode(etc) == 0o755, f"{etc} should be a 0755 directory")
        config = etc + "/default-config.json"
        check(os.path.isfile(config) and mode(config) == 0o644, f"{config} should be a 0644 file")
        if os.path.isfile(config):
            with open(config) as f, open(os.path.join(SOURCE, "data/default-config.json")) as g:
                check(f.read() == g.read(), "installed default-config.json differs from data/")
        rules = etc + "/rules"
        check(os.path.isdir(rules) and mode(rules) == 0o700, f"{rules} should be a 0700 directory")
        shipped = sorted(n for n in os.listdir(os.path.join(SOURCE, "data/rules")) if n.endswith(".json"))
        installed = sorted(os.listdir(rules)) if os.path.isdir(rules) else []
        check(installed == shipped, f"example rules: installed {installed}, shipped {shipped}")
        for n in installed:
            check(mode(os.path.join(rules, n)) == 0o600, f"rules/{n} should be mode 0600")
        # The installed binary reads the installed rules without a complaint.
        r = subprocess.run([binary, "rules", "-r", rules, "list"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        check(r.returncode == 0 and r.stderr == "", f"rules list of the installed rules: {r.returncode} {r.stderr}")

        for page in (os.path.join(mandir, "man8/tsnitch.8"), os.path.join(mandir, "man5/tsnitch-rules.5")):
            p = root(page)
            check(os.path.isfile(p), f"man page {p} missing")
            if os.path.isfile(p) and shutil.which("man"):
                r = subprocess.run(["man", "-l", p], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env=dict(os.environ, MANPAGER="cat", PAGER="cat", MANWIDTH="80"))
                check(r.returncode == 0 and "tsnitch" in r.stdout and r.stderr.strip() == "",
                      f"man -l {p}: {r.returncode} {r.stderr.strip()}")

        unit = root(os.path.join(unitdir, "tsnitch.service"))
        check(os.path.isfile(unit) and mode(unit) == 0o644, f"{unit} should be a 0644 file")
        if os.path.isfile(unit):
            text = open(unit).read()
            want = "ExecStart=" + os.path.join(prefix, sbindir, "tsnitch") + " run --headless"
            check(want in text.splitlines(), f"unit lacks {want!r}")
            leftover = re.findall(r"@[a-z_]+@", text)
            check(not leftover, f"unit has unsubstituted {leftover}")
            analyze = shutil.which("systemd-analyze")
            if analyze is None:
                print("SKIP part: systemd-analyze is absent; the unit is not verified")
            else:
                # verify checks that ExecStart's program exists: a copy of the unit names the
                # installed binary under DESTDIR (ExecStart itself is checked above).
                # Documentation= is checked with man(1), which finds the installed pages.
                exe = os.path.join(prefix, sbindir, "tsnitch")
                copy = os.path.join(dest, "verify", "tsnitch.service")
                os.makedirs(os.path.dirname(copy))
                with open(copy, "w") as f:
                    f.write(text.replace("ExecStart=" + exe, "ExecStart=" + dest + exe))
                r = subprocess.run([analyze, "verify", copy], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True,
                                   env=dict(os.environ, MANPATH=root(mandir)))
                # Lines about other units of this machine are not ours to judge.
                ours = [l for l in r.stdout.splitlines() if "tsnitch" in l]
                check(r.returncode == 0 and not ours, "systemd-analyze verify:\n" + r.stdout)

        # A second install keeps the administrator's changes.
        with open(config, "w") as f:
            f.write('{"DefaultAction": "allow"}\n')
        os.unlink(os.path.join(rules, shipped[0]))
        install(dest)
        check(open(config).read() == '{"DefaultAction": "allow"}\n', "re-install overwrote the configuration")
        check(not os.path.exists(os.path.join(rules, shipped[0])), "re-install brought back a deleted example rule")

    if failures:
        print(f"{len(failures)} failures")
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
