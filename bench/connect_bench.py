"""New-connection cost of tsnitch: sequential TCP connects from the client namespace to a peer that
accepts and closes, with no firewall and with `tsnitch run --headless` and an allow rule on the
client's executable. Prints p50/p99 connect time and connections per second for both, and for
bench/nfq_floor (the same rules and queue, a loop that accepts every packet at once): the part of
the cost that is NFQUEUE's own round trip on this machine. "tsnitch" is the queue path alone
(TSNITCH_KPATH_DISABLE=1); "kernel" is tsnitch with the kernel path (DESIGN.md §8a): the rule's
decision cached in the kernel after the first connection, later ones never queued. Its programs
attach to a child cgroup holding only this benchmark (TSNITCH_KPATH_CGROUP).

    sudo python3 bench/connect_bench.py [BUILD_DIR] [--count N] [--rounds R] [--method diag|proc]

Runs inside its own namespace pair (tests/integration/netns.py); nothing touches the machine's own
network namespace.
"""
import argparse
import atexit
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from netns import NetnsPair, V4_PEER, require_root, wait_for  # noqa: E402

PEER = r"""
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(4096)
print("ready", flush=True)
while True:
    c, _ = s.accept(); c.close()
"""
PORT = 8400


def run_client(ns, client, count):
    out = ns.run(ns.client, [client, V4_PEER, str(PORT), str(count)], timeout=600).stdout.split("\n")
    samples = [int(x) / 1000.0 for x in out if x and not x.startswith("total_ns")]
    total_ns = int([x for x in out if x.startswith("total_ns")][0].split()[1])
    return samples, count / (total_ns / 1e9)


class BenchCgroup:
    """A child of the cgroup v2 root holding this benchmark and its children."""

    def __init__(self):
        with open("/proc/self/mountinfo") as f:
            self.root = next(line.split(" - ")[0].split()[4] for line in f
                             if line.partition(" - ")[2].startswith("cgroup2 ")
                             and line.split()[3] == "/")
        with open("/proc/self/cgroup") as f:
            self.original = next(l for l in f.read().splitlines() if l.startswith("0::"))[3:]
        self.relative = f"/tsnitch-kpath-bench-{os.getpid()}"
        self.path = self.root + self.relative
        os.mkdir(self.path)
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))

    def close(self):
        if not os.path.isdir(self.path):
            return
        with open(self.root + self.original.rstrip("/") + "/cgroup.procs", "w") as f:
            f.write(str(os.getpid()))
        os.rmdir(self.path)


def pct(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * p / 100))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--method", default="ebpf")
    a = ap.parse_args()
    require_root()
    tsnitch = os.path.abspath(os.path.join(a.build, "src", "tsnitch"))
    client = os.path.abspath(os.path.join(a.build, "bench", "connect_client"))
    floor = os.path.abspath(os.path.join(a.build, "bench", "nfq_floor"))
    for p in (tsnitch, client, floor):
        if not os.access(p, os.X_OK):
            sys.exit(f"{p} is not built (ninja -C {a.build})")

    work = tempfile.mkdtemp(prefix="tsnitch-bench-")
    try:
        rules = os.path.join(work, "rules")
        os.mkdir(rules)
        with open(os.path.join(rules, "bench-client.json"), "w") as f:
            json.dump({"name": "bench-client", "enabled": True, "precedence": False,
                       "action": "allow", "duration": "always",
                       "operator": {"type": "simple", "operand": "process.path",
                                    "sensitive": False, "data": client}}, f)
        config = os.path.join(work, "config.json")
        with open(config, "w") as f:
            # Control.Socket in the work directory: the names file goes there, not to /run.
            json.dump({"DefaultAction": "deny", "ProcMonitorMethod": a.method,
                       "Control": {"Socket": os.path.join(work, "control.sock")}}, f)
        events = os.path.join(work, "events.jsonl")
        kernel_events = os.path.join(work, "kernel-events.jsonl")
        cgroup = BenchCgroup()
        atexit.register(cgroup.close)

        def tsnitch_round(ns, env, events_file, name):
            t = ns.popen(ns.client, [tsnitch, "run", "--headless", "-c", config, "-r", rules,
                                     "--events", events_file], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, env=dict(os.environ, **env))
            if not wait_for(lambda: "TSNITCH-OUT" in ns.ruleset(), timeout=10):
                sys.exit("tsnitch did not start: " + t.stderr.read())
            run_client(ns, client, 200)  # warm-up: the attribution index, the kernel's cache
            s, r = run_client(ns, client, a.count)
            results[name][0].extend(s)
            results[name][1].append(r)
            t.terminate()
            t.wait(timeout=10)
            if not wait_for(lambda: "TSNITCH-OUT" not in ns.ruleset(), timeout=10):
                sys.exit("tsnitch left its rules behind")

        results = {"none": ([], []), "nfqueue": ([], []), "tsnitch": ([], []), "kernel": ([], [])}
        with NetnsPair(ipv6=False) as ns:
            peer = ns.popen(ns.peer, [sys.executable, "-c", PEER, str(PORT)], text=True)
            assert peer.stdout.readline().strip() == "ready"
            run_client(ns, client, 500)  # warm-up
            for _ in range(a.rounds):
                s, r = run_client(ns, client, a.count)
                results["none"][0].extend(s)
                results["none"][1].append(r)
                f = ns.popen(ns.client, [floor], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True)
                if not wait_for(lambda: "TSNITCH-OUT" in ns.ruleset(), timeout=10):
                    sys.exit("nfq_floor did not start: " + f.stderr.read())
                s, r = run_client(ns, client, a.count)
                results["nfqueue"][0].extend(s)
                results["nfqueue"][1].append(r)
                f.terminate()
                f.wait(timeout=10)
                if not wait_for(lambda: "TSNITCH-OUT" not in ns.ruleset(), timeout=10):
                    sys.exit("nfq_floor left its rules behind")
                tsnitch_round(ns, {"TSNITCH_KPATH_DISABLE": "1"}, events, "tsnitch")
                tsnitch_round(ns, {"TSNITCH_KPATH_CGROUP": cgroup.relative}, kernel_events, "kernel")
        cgroup.close()
        with open(events) as f:
            decided = [json.loads(line) for line in f]
        with open(kernel_events) as f:
            kernel_decided = [json.loads(line) for line in f]
        on_kernel = sum(1 for e in kernel_decided if e.get("path") == "kernel")
        allowed = sum(1 for e in decided if e["action"] == "allow" and e["rule"] == "bench-client")
        attr = [e["attribution_us"] for e in decided]

        print(f"{a.rounds} rounds x {a.count} sequential TCP connects over veth, IPv4, "
              f"attribution {a.method}")
        base = {}
        for name, (samples, rates) in results.items():
            p50, p99 = pct(samples, 50), pct(samples, 99)
            rate = statistics.median(rates)
            base.setdefault("p50", p50)
            base.setdefault("rate", rate)
            slow = sum(1 for x in samples if x > 100000)
            print(f"  {name:8s} p50 {p50:8.1f} us  p99 {p99:8.1f} us  mean "
                  f"{statistics.mean(samples):8.1f} us  max {max(samples) / 1000:7.1f} ms  "
                  f"{rate:9.0f} conn/s  ({slow} over 100 ms)")
        for name in ("nfqueue", "tsnitch", "kernel"):
            p50_added = pct(results[name][0], 50) - base["p50"]
            ratio = statistics.median(results[name][1]) / base["rate"]
            print(f"  {name}: added p50 {p50_added:.1f} us; rate {ratio * 100:.0f}% of no firewall")
        print(f"  decisions: {len(decided)} ({allowed} allowed by bench-client); attribution "
              f"p50 {pct(attr, 50)} us p99 {pct(attr, 99)} us")
        print(f"  kernel run: {len(kernel_decided)} decisions for {a.rounds * (200 + a.count)} "
              f"connections, {on_kernel} of them on the kernel path")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
