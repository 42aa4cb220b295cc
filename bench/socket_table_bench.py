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
import statistics
import subprocess
import sys
import time

PROCESSES = 500
PER_PROCESS = 20
RUNS = 7


def child(n, ready_w, hold_r):
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
    os.write(ready_w, b"r")
    os.read(hold_r, 1)  # returns when the parent closes its end (or dies)
    os._exit(0)


def timed(args):
    walls, cpus = [], []
    for _ in range(RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        walls.append((time.perf_counter() - t0) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def main():
    if os.geteuid() != 0:
        raise SystemExit("socket_table_bench.py: needs root (a private network namespace)")
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    if os.environ.get("TSNITCH_BENCH_NETNS") != "1":
        env = dict(os.environ, TSNITCH_BENCH_NETNS="1")
        os.execvpe("unshare", ["unshare", "-n", sys.executable, os.path.abspath(__file__), build], env)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))

    ready_r, ready_w = os.pipe()
    hold_r, hold_w = os.pipe()
    kids = []
    try:
        for n in range(PROCESSES):
            pid = os.fork()
            if pid == 0:
                os.close(ready_r)
                os.close(hold_w)
                child(n, ready_w, hold_r)
            kids.append(pid)
        os.close(hold_r)
        got = 0
        while got < PROCESSES:
            got += len(os.read(ready_r, PROCESSES))
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
            wall, cpu = timed(args)
            print(f"{name:24s} median wall {wall:7.1f} ms, CPU {cpu:7.1f} ms ({RUNS} runs)")
    finally:
        os.close(hold_w)
        for pid in kids:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


main()
