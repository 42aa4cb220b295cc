"""Test of `connect_bench.py --bpf-stats` (meson test bench-bpf-stats, root): on the kernel-path
row, each connect creates one socket, so tsnitch_sock_create must run once per connect, and the
connect hooks (attribution and verdict) once each; no assertion on time."""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if os.geteuid() != 0:
    print("skip: needs root (network namespaces, NFQUEUE, eBPF)")
    sys.exit(77)
build = sys.argv[1]
out = subprocess.run([sys.executable, os.path.join(HERE, "connect_bench.py"), build, "--rows",
                      "rule-exe", "--rounds", "1", "--count", "400", "--bpf-stats"],
                     capture_output=True, text=True, timeout=240)
print(out.stdout, out.stderr)
assert out.returncode == 0, out.returncode
runs = {m[0]: float(m[1]) for m in re.findall(r"^\s+(\w+)\s+([\d.]+) runs/connect", out.stdout,
                                              re.M)}
for program in ("tsnitch_sock_create", "tsnitch_connect4", "tsn_verdict_connect4"):
    # Other processes of the machine may open a socket in the same time: a little above 1.
    assert 1.0 <= runs.get(program, 0) < 1.1, (program, runs)
assert re.search(r"rule-exe: BPF [\d.]+ us per connect", out.stdout), out.stdout
print("bench-bpf-stats: ok")
