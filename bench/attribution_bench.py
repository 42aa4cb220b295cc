#!/usr/bin/env python3
"""Attribution benchmark: ~5,000 sockets held by 300 processes in a private network namespace.

Usage (root):  bench/attribution_bench.py [BUILD_DIR]      (default: build)
Each of 300 child processes holds 16 sockets (a TCP listener, 3 connected TCP pairs, 6 UDP/IPv4
and 3 UDP/IPv6 sockets that used sendto). Then it runs build/bench/attribution_bench (latency per
method, p50/p99 in µs) and times `tsnitch sockets` against `ss -tuanp` on the same state.
Everything lives in a namespace made with `unshare -n`; the children end with the script.
"""
import os
import shutil
import socket
import subprocess
import sys

from socket_farm import enter_private_netns, socket_holders, timed

PROCESSES = 300
RUNS = 7


def sockets_of(_n):
    keep = []
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(8)
    keep.append(lst)
    for _ in range(3):
        c = socket.create_connection(lst.getsockname())
        keep += [c, lst.accept()[0]]
    for _ in range(6):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.sendto(b"x", ("127.0.0.1", 9))
        keep.append(u)
    for _ in range(3):
        u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        u.sendto(b"x", ("::1", 9))
        keep.append(u)
    return keep


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    enter_private_netns(__file__, build)
    with socket_holders(PROCESSES, sockets_of):
        print(f"{PROCESSES} processes holding {PROCESSES * 16} sockets")
        subprocess.run([os.path.join(build, "bench", "attribution_bench"), "--rounds", "3"], check=True)

        tsnitch = os.path.join(build, "src", "tsnitch")
        rows = subprocess.run([tsnitch, "sockets"], capture_output=True, text=True).stdout
        ss_rows = subprocess.run(["ss", "-tuanp"], capture_output=True, text=True).stdout
        print(f"tsnitch sockets: {rows.count(' -> socket[')} socket lines; "
              f"ss -tuanp: {len(ss_rows.splitlines()) - 1} sockets")
        if shutil.which("ss"):
            for name, args in (("tsnitch sockets", [tsnitch, "sockets"]),
                               ("tsnitch sockets --json", [tsnitch, "sockets", "--json"]),
                               ("ss -tuanp", ["ss", "-tuanp"])):
                med, best, _ = timed(args, RUNS)
                print(f"{name:24s} median {med:7.1f} ms, best {best:7.1f} ms ({RUNS} runs)")


main()
