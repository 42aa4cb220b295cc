"""Test of connect_bench.py's measuring tools (meson test bench-bpf-stats, root), on short runs;
no assertion on time or speed:
  --bpf-stats  on the kernel-path row each connect creates one socket, so tsnitch_sock_create
               runs once per connect, and the connect hooks (attribution and verdict) once each;
  kernel-floor nfq_floor --kernel-floor's always-match program runs for each connect's SYN (so
               every connect left the chain there), and its pin and mount are gone afterwards;
  --ablate     the "-tsnitch_sock_release" row runs tsnitch without its sock_release program,
               the other rows with it;
  CPU us/c     tsnitch writes an event per connect: its CPU time per connect is above 0;
  no-events    runs as a tsnitch row (its RSS is measured) with no events file to summarise."""
import glob
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
                      "rule-exe,kernel-floor,no-events", "--rounds", "1", "--count", "400", "--bpf-stats",
                      "--ablate", "tsnitch_sock_release"],
                     capture_output=True, text=True, timeout=280)
print(out.stdout, out.stderr)
assert out.returncode == 0, out.returncode


def section(row):
    """{program: runs per connect} of one row's --bpf-stats lines."""
    m = re.search(rf"^  {re.escape(row)}: BPF [\d.]+ us per connect.*\n((?:    .*\n)*)",
                  out.stdout, re.M)
    assert m, (row, out.stdout)
    return {p: float(r) for p, r in re.findall(r"^\s+(\w+)\s+([\d.]+) runs/connect", m[1], re.M)}


exe, floor, ablated = section("rule-exe"), section("kernel-floor"), section("-tsnitch_sock_release")
for program in ("tsnitch_sock_create", "tsnitch_connect4", "tsn_verdict_connect4"):
    # Other processes of the machine may open a socket in the same time: a little above 1.
    assert 1.0 <= exe.get(program, 0) < 1.1, (program, exe)
assert 1.0 <= floor.get("tsn_floor_pass", 0) < 1.1, floor
assert exe.get("tsnitch_sock_release", 0) >= 1.0, exe
assert ablated.get("tsnitch_sock_release", 0) == 0, ablated
assert ablated.get("tsn_verdict_connect4", 0) >= 1.0, ablated
assert not glob.glob("/run/tsnitch-floor-*"), glob.glob("/run/tsnitch-floor-*")
cpu = re.search(r"^  rule-exe +(?:\S+ +){9}(\S+)$", out.stdout, re.M)
assert cpu and float(cpu[1]) > 0, out.stdout
quiet = re.search(r"^  no-events +(?:\S+ +){8}(\S+) +\S+$", out.stdout, re.M)
assert quiet and float(quiet[1]) > 0, out.stdout
assert "no-events: " not in out.stdout.split("CPU us/c", 1)[1].split("BPF", 1)[0], out.stdout
print("bench-bpf-stats: ok")
