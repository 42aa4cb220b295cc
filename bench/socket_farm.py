"""Shared set-up of the socket benchmarks: a private network namespace, many child processes
that each hold a set of sockets until the benchmark ends, and timing of whole commands."""
import contextlib
import os
import resource
import statistics
import subprocess
import sys
import time


def enter_private_netns(script, build):
    """Re-executes `script` under `unshare -n` (once) and brings up its loopback; needs root."""
    if os.geteuid() != 0:
        raise SystemExit(f"{os.path.basename(script)}: needs root (a private network namespace)")
    if os.environ.get("TSNITCH_BENCH_NETNS") != "1":
        env = dict(os.environ, TSNITCH_BENCH_NETNS="1")
        os.execvpe("unshare", ["unshare", "-n", sys.executable, os.path.abspath(script), build], env)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)


@contextlib.contextmanager
def socket_holders(processes, make_sockets):
    """Forks `processes` children; child n keeps what make_sockets(n) returns open until the
    block ends (or the parent dies). Yields their pids once every child is ready."""
    ready_r, ready_w = os.pipe()
    hold_r, hold_w = os.pipe()
    kids = []
    try:
        for n in range(processes):
            pid = os.fork()
            if pid == 0:
                os.close(ready_r)
                os.close(hold_w)
                keep = make_sockets(n)  # noqa: F841 (held open until the parent lets go)
                os.write(ready_w, b"r")
                os.read(hold_r, 1)  # returns when the parent closes its end (or dies)
                os._exit(0)
            kids.append(pid)
        os.close(hold_r)
        got = 0
        while got < processes:
            got += len(os.read(ready_r, processes))
        yield kids
    finally:
        os.close(hold_w)
        for pid in kids:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def timed(args, runs):
    """Runs a command `runs` times: (median wall ms, best wall ms, median CPU ms of the child)."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        walls.append((time.perf_counter() - t0) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000)
    return statistics.median(walls), min(walls), statistics.median(cpus)
