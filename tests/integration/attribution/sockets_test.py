"""`tsnitch sockets -p PID` on real sockets: connected TCP sockets (IPv4, and IPv6 in brackets), an
unconnected UDP socket that used sendto (`*:*, state: unconn`), a listener and unix sockets each
print with the right fd, inode, addresses and state, also when asked from outside the process's
network namespace; --json carries the same and TCP's byte counters; without -p the process appears
under its header line in its own namespace's table, and in another namespace's only with --all."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from netns import (ACCEPTING_SERVER, NetnsPair, V4_CLIENT, V4_PEER, V6_CLIENT, V6_PEER, require_root,
                   tsnitch_binary)

HERE = os.path.dirname(os.path.abspath(__file__))

def start_holder(ns, specs):
    p = ns.popen(ns.client, [sys.executable, os.path.join(HERE, "holder.py")] + specs,
                 stdin=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line:
        raise SystemExit("holder failed: " + p.stderr.read())
    return json.loads(line)


def main():
    require_root()
    tsnitch = tsnitch_binary()
    tmp = tempfile.mkdtemp(prefix="tsnitch-sockets-")
    failures = []

    def check(cond, what):
        if not cond:
            failures.append(what)
            print("FAIL:", what)

    try:
        with NetnsPair() as ns:
            srv = ns.popen(ns.peer, [sys.executable, "-c", ACCEPTING_SERVER], text=True)
            assert srv.stdout.readline().strip() == "ready"
            unix_path = os.path.join(tmp, "holder.sock")
            h = start_holder(ns, [f"tcp4:{V4_PEER}:8080", f"tcp6:{V6_PEER}:8080",
                                  f"udp4:{V4_PEER}:9999", "listen4:7070",
                                  "unixabs:tsnitch-test-abs", f"unixpath:{unix_path}", "unixanon"])
            pid = h["pid"]
            by_spec = {s["spec"].split(":")[0]: s for s in h["sockets"]}

            def inode(fd):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                assert link.startswith("socket:["), link
                return int(link[8:-1])

            tcp, udp, lst = by_spec["tcp4"], by_spec["udp4"], by_spec["listen4"]
            tcp6 = by_spec["tcp6"]
            expected = {
                tcp["fd"]: f"{tcp['fd']} -> socket[{inode(tcp['fd'])}] - {tcp['local'][1]}:{V4_CLIENT} -> "
                           f"{V4_PEER}:8080, state: established",
                # As ss shows a bound UDP socket without a peer; IPv6 in brackets.
                udp["fd"]: f"{udp['fd']} -> socket[{inode(udp['fd'])}] - {udp['local'][1]}:0.0.0.0 -> "
                           f"*:*, state: unconn",
                tcp6["fd"]: f"{tcp6['fd']} -> socket[{inode(tcp6['fd'])}] - {tcp6['local'][1]}:[{V6_CLIENT}] -> "
                            f"[{V6_PEER}]:8080, state: established",
                lst["fd"]: f"{lst['fd']} -> socket[{inode(lst['fd'])}] - 7070:0.0.0.0 -> 0.0.0.0:0, "
                           f"state: listen",
            }
            for kind, text in (("unixabs", "unix @tsnitch-test-abs"), ("unixpath", f"unix {unix_path}"),
                               ("unixanon", "unix -")):
                fd = by_spec[kind]["fd"]
                expected[fd] = f"{fd} -> socket[{inode(fd)}] - {text}"

            out = ns.run(ns.client, [tsnitch, "sockets", "-p", str(pid)])
            lines = out.stdout.splitlines()
            for fd, line in expected.items():
                check(line in lines, f"expected line {line!r} in:\n{out.stdout}")
            check(len(lines) == len(expected), f"one line per socket fd, got:\n{out.stdout}")

            # From outside the namespace (only reading): the process's own namespace is asked.
            outside = subprocess.run([tsnitch, "sockets", "-p", str(pid)], capture_output=True,
                                     text=True, check=True).stdout.splitlines()
            check(sorted(outside) == sorted(lines), f"from another namespace: {outside}")

            js = json.loads(ns.run(ns.client, [tsnitch, "sockets", "-p", str(pid), "--json"]).stdout)
            rows = {r["fd"]: r for r in js}
            check(set(rows) == set(expected), f"--json fds {sorted(rows)} != {sorted(expected)}")
            for fd, line in expected.items():
                r = rows.get(fd, {})
                check(r.get("line") == line, f"--json line of fd {fd}: {r}")
                check(r.get("inode") == inode(fd), f"--json inode of fd {fd}: {r}")
                check(r.get("pid") == pid, f"--json pid of fd {fd}: {r}")
            t = rows.get(tcp["fd"], {})
            check(t.get("type") == "tcp" and t.get("src") == V4_CLIENT and t.get("dst") == V4_PEER
                  and t.get("dst_port") == 8080 and t.get("state") == "established", f"tcp row {t}")
            # TCP payload counters from tcp_info (nothing sent yet here); none for UDP.
            check(isinstance(t.get("bytes_sent"), int) and t["bytes_sent"] >= 0
                  and isinstance(t.get("bytes_received"), int), f"tcp byte counters {t}")
            u = rows.get(udp["fd"], {})
            check(u.get("type") == "udp" and u.get("src_port") == udp["local"][1], f"udp row {u}")
            check(u.get("state") == "unconn" and u.get("bytes_sent", 0) is None
                  and u.get("bytes_received", 0) is None, f"udp row {u}")
            check(rows.get(by_spec["unixabs"]["fd"], {}).get("path") == "@tsnitch-test-abs", "unix path")

            every = ns.run(ns.client, [tsnitch, "sockets"]).stdout.splitlines()
            with open(f"/proc/{pid}/comm") as f:
                header = f"{pid} {f.read().strip()} ({h['exe']})"
            check(header in every, f"header {header!r} in the all-process table")
            if header in every:
                at = every.index(header)
                block = every[at + 1:at + 1 + len(expected)]
                check(sorted(block) == sorted(expected.values()), f"lines under the header: {block}")

            # From outside, without -p: only that namespace's own processes, unless --all.
            host_view = subprocess.run([tsnitch, "sockets"], capture_output=True, text=True,
                                       check=True).stdout.splitlines()
            check(header not in host_view, "sockets lists a process of another namespace without --all")
            all_view = subprocess.run([tsnitch, "sockets", "--all"], capture_output=True, text=True,
                                      check=True).stdout.splitlines()
            check(header in all_view, f"sockets --all lacks {header!r}")
            if header in all_view:
                at = all_view.index(header)
                block = all_view[at + 1:at + 1 + len(expected)]
                check(sorted(block) == sorted(expected.values()), f"--all: lines under the header: {block}")
            inside_all = ns.run(ns.client, [tsnitch, "sockets", "--all"]).stdout.splitlines()
            check(header in inside_all, "sockets --all inside the namespace lists its own processes too")

            bad = ns.run(ns.client, [tsnitch, "sockets", "-p", "nope"], check=False)
            check(bad.returncode == 2 and "nope" in bad.stderr, f"bad pid: {bad.returncode} {bad.stderr}")
            gone = ns.run(ns.client, [tsnitch, "sockets", "-p", str(2**22 + 7)], check=False)
            check(gone.returncode == 1 and "no process" in gone.stderr,
                  f"missing pid: {gone.returncode} {gone.stderr}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        sys.exit(1)
    print("ok")


main()
