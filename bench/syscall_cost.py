#!/usr/bin/env python3
"""What the eBPF module's raw_tp/sys_enter program costs every other program on the machine:
1,000,000 one-byte read()s and write()s (`dd bs=1` to /dev/null) and 100,000 getppid()s from a
Python loop, syscalls the program only compares with the send calls it looks at, timed without tsnitch and with `tsnitch run --headless --method ebpf` running (in a private
network namespace: the programs attach machine-wide), alternating, best of 5 each.

Usage (root):  bench/syscall_cost.py [BUILD_DIR]
"""
import ctypes
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "tests",
                                "integration"))
from netns import NetnsPair, wait_for  # noqa: E402

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
TSNITCH = os.path.join(BUILD, "src", "tsnitch")
N = 1_000_000
libc = ctypes.CDLL(None)


def dd_seconds():
    t0 = time.perf_counter()
    subprocess.run(["dd", "if=/dev/zero", "of=/dev/null", "bs=1", f"count={N}"],
                   stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def getppid_seconds():
    t0 = time.perf_counter()
    for _ in range(N // 10):
        libc.getppid()
    return time.perf_counter() - t0


def main():
    base_dd, base_pp, with_dd, with_pp = [], [], [], []
    with NetnsPair() as ns, tempfile.TemporaryDirectory(prefix="tsnitch-bench-") as d:
        rules = os.path.join(d, "rules")
        os.mkdir(rules)
        for _ in range(5):
            base_dd.append(dd_seconds())
            base_pp.append(getppid_seconds())
            p = ns.popen(ns.client, [TSNITCH, "run", "--headless", "--method", "ebpf", "-r", rules,
                                     "--events", os.path.join(d, "ev")], text=True)
            ok = wait_for(lambda: "TSNITCH-OUT" in ns.ruleset(), timeout=10)
            if not ok:
                p.kill()
                raise SystemExit("tsnitch did not start: " + p.stderr.read())
            with_dd.append(dd_seconds())
            with_pp.append(getppid_seconds())
            p.terminate()
            p.wait(timeout=10)
    print(f"dd bs=1 count={N}: {min(base_dd):.3f} s without, {min(with_dd):.3f} s with "
          f"(ratio {min(with_dd) / min(base_dd):.2f}, "
          f"+{(min(with_dd) - min(base_dd)) / (2 * N) * 1e9:.0f} ns per syscall)")
    print(f"getppid() x{N // 10} (python loop): {min(base_pp):.3f} s without, "
          f"{min(with_pp):.3f} s with (ratio {min(with_pp) / min(base_pp):.2f})")


main()
