#!/usr/bin/env python3
"""Socket table benchmark: 10,000 sockets held by 500 processes in a private network namespace.

Usage (root):  bench/socket_table_bench.py [BUILD_DIR]      (default: build)
Each of 500 child processes holds 20 sockets: a TCP listener, 4 connected TCP pairs (8 sockets),
6 UDP sockets and 5 unix sockets (2 socketpairs and one bound). Then it runs
build/bench/socket_table_bench (CPU time per SocketTable refresh, p50/p99) and times
`tsnitch sockets` against `ss -tuanp` on the same state (wall and CPU of the child).
Everything lives in a namespace made with `unshare -n`; the children end with the script.
"""
import os
import resource
import socket
import subprocess
import sys

from socket_farm import enter_private_netns, socket_holders, timed

PROCESSES = 500
PER_PROCESS = 20
RUNS = 7


def sockets_of(n):
    keep = []
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(8)
    keep.append(lst)
    for _ in range(4):
        c = socket.create_connection(lst.getsockname())
        keep += [c, lst.accept()[0]]
    for _ in range(6):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.sendto(b"x", ("127.0.0.1", 9))
        keep.append(u)
    for _ in range(2):
        keep += list(socket.socketpair())
    u = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    u.bind("\0tsnitch-bench-%d-%d" % (os.getppid(), n))
    keep.append(u)
    return keep


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    enter_private_netns(__file__, build)
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    with socket_holders(PROCESSES, sockets_of) as kids:
        print(f"{PROCESSES} processes holding {PROCESSES * PER_PROCESS} sockets")
        subprocess.run([os.path.join(build, "bench", "socket_table_bench"), "--rounds", "100",
                        "--focus", str(kids[PROCESSES // 2])], check=True)

        tsnitch = os.path.join(build, "src", "tsnitch")
        rows = subprocess.run([tsnitch, "sockets"], capture_output=True, text=True).stdout
        ss_rows = subprocess.run(["ss", "-tuanp"], capture_output=True, text=True).stdout
        print(f"tsnitch sockets: {rows.count(' -> socket[')} socket lines (with unix); "
              f"ss -tuanp: {len(ss_rows.splitlines()) - 1} tcp/udp sockets")
        for name, args in (("tsnitch sockets", [tsnitch, "sockets"]),
                           ("tsnitch sockets -p PID", [tsnitch, "sockets", "-p", str(kids[0])]),
                           ("ss -tuanp", ["ss", "-tuanp"]),
                           ("ss -tuaxnp", ["ss", "-tuaxnp"])):
            wall, _, cpu = timed(args, RUNS)
            print(f"{name:24s} median wall {wall:7.1f} ms, CPU {cpu:7.1f} ms ({RUNS} runs)")


main()
