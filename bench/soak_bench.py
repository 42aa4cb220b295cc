"""Soak: parallel new TCP connections for a while, from several client processes, with no firewall,
then under tsnitch with an allow rule on the client's executable, then with a reject rule on it
(DefaultAction deny in both). Per phase: connections, their rate as a ratio to the no-firewall
phase of the same invocation (the machine is shared and noisy), p50/p99 connect time (under reject:
the time to the RST), tsnitch's RSS every few seconds, and the count check: every connection was
decided and logged, decisions (tsnitch's summary at exit) = events (lines of its --events file) =
connections (what the clients counted).

    sudo python3 bench/soak_bench.py [BUILD_DIR] [--seconds S] [--clients P] [--rss-every N]
                                     [--phases none,allow,reject] [--method ebpf|diag|proc]

Defaults: 5 s per phase (a smoke); issue 16's soak is --seconds 30. Exit status 1 when a count
disagrees (the integration test soak-counts runs it short for that). Runs inside its own namespace
pair (tests/integration/netns.py); nothing touches the machine's own network namespace.
"""
import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from connect_bench import Firewall, built, pct, run_clients, start_peers  # noqa: E402
from netns import NetnsPair, require_root  # noqa: E402

SUMMARY = re.compile(r"(\d+) decisions \((\d+) allowed, (\d+) denied, (\d+) rejected\)")
KERNEL_SUMMARY = re.compile(r"kernel path: (\d+) decisions")


class RssSampler:
    """tsnitch's RSS (KiB) every `every` seconds, on a thread, until stopped; `anon` is the part
    of it that is the heap and stacks (RssAnon: not the BPF maps and ring buffer mapped in, nor
    the program's file pages)."""

    def __init__(self, fw, every):
        self.fw, self.every, self.samples, self.anon = fw, every, [], []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self):
        while True:
            self.sample()
            if self.done.wait(self.every):
                return

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()
        self.sample()

    def sample(self):
        self.samples.append(self.fw.rss())
        self.anon.append(self.fw.rss("RssAnon"))


def write_rules(work, name, action, client):
    d = os.path.join(work, name)
    os.mkdir(d)
    with open(os.path.join(d, "soak-client.json"), "w") as f:
        json.dump({"name": "soak-client", "enabled": True, "precedence": False,
                   "action": action, "duration": "always",
                   "operator": {"type": "simple", "operand": "process.path",
                                "sensitive": False, "data": client}}, f)
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--rss-every", type=float, default=5.0)
    ap.add_argument("--phases", default="none,allow,reject")
    ap.add_argument("--method", default="ebpf")
    a = ap.parse_args()
    require_root()
    tsnitch, client = built(a.build, "src/tsnitch", "bench/connect_client")
    phases = a.phases.split(",")
    if phases[0] != "none":
        phases.insert(0, "none")  # the ratios need it

    work = tempfile.mkdtemp(prefix="tsnitch-soak-")
    failures = []
    try:
        results = {}
        with NetnsPair(ipv6=False) as ns:
            peers = start_peers(ns)
            run_clients(ns, client, 200)  # warm-up: the peer, the namespace's routes
            for phase in phases:
                if phase == "none":
                    run = run_clients(ns, client, 0, a.clients, a.seconds)
                    results[phase] = {"run": run}
                    continue
                rules = write_rules(work, f"rules-{phase}", phase, client)
                events = os.path.join(work, f"events-{phase}.jsonl")
                config = os.path.join(work, f"config-{phase}.json")
                with open(config, "w") as f:
                    json.dump({"DefaultAction": "deny", "ProcMonitorMethod": a.method,
                               "Control": {"Socket": os.path.join(work, f"{phase}.sock")}}, f)
                fw = Firewall(ns, [tsnitch, "run", "--headless", "-c", config, "-r", rules,
                                   "--events", events])
                fw.start()
                warm = run_clients(ns, client, 200)  # attribution index, allocator arenas
                with RssSampler(fw, a.rss_every) as rss:
                    run = run_clients(ns, client, 0, a.clients, a.seconds)
                err = fw.stop()
                m = SUMMARY.search(err)
                k = KERNEL_SUMMARY.search(err)
                # Counted line by line: a reject phase logs millions of events (EPERM at once).
                logged = ruled = 0
                with open(events) as f:
                    for line in f:
                        e = json.loads(line)
                        logged += 1
                        ruled += e.get("rule") == "soak-client" and e.get("action") == phase
                results[phase] = {"run": run, "warm": warm, "rss": rss.samples, "anon": rss.anon,
                                  "decisions": int(m.group(1)) if m else None,
                                  "kernel": int(k.group(1)) if k else 0,
                                  "by_action": m.groups()[1:] if m else None,
                                  "events": logged, "ruled": ruled}
            for p in peers:
                p.kill()

        base = results["none"]["run"]
        print(f"soak: {a.clients} client processes x {a.seconds} s per phase, sequential TCP "
              f"connects each, over veth, IPv4, {os.cpu_count()} CPUs, attribution {a.method}")
        print(f"  {'phase':7s} {'connects':>9s} {'refused':>8s} {'conn/s':>8s} {'ratio':>6s} "
              f"{'p50 us':>8s} {'p99 us':>8s}  RSS MiB every {a.rss_every:g} s")
        for phase in phases:
            r = results[phase]
            run = r["run"]
            rss = " ".join(f"{x / 1024:.1f}" for x in r.get("rss", []) if x)
            print(f"  {phase:7s} {run.connects:9d} {run.refused:8d} {run.rate:8.0f} "
                  f"{run.rate / base.rate:6.2f} {pct(run.samples, 50):8.1f} "
                  f"{pct(run.samples, 99):8.1f}  {rss}")
            if r.get("anon"):
                anon = " ".join(f"{x / 1024:.1f}" for x in r["anon"] if x)
                print(f"  {'':57s}  of it anon: {anon}")
        for phase in phases:
            if phase == "none":
                continue
            r = results[phase]
            # Every connect of the phase and of its warm-up is one decision and one event.
            connects = r["run"].connects + r["warm"].connects
            refused = r["run"].refused + r["warm"].refused
            ruled = r["ruled"]
            decisions = r["decisions"]
            print(f"  {phase}: {connects} connections ({refused} refused), {decisions} decisions "
                  f"({r['kernel']} by the kernel path), {r['events']} events "
                  f"({ruled} {phase} by soak-client)")
            if decisions is None:
                failures.append(f"{phase}: no decision summary in tsnitch's output")
            elif not decisions == r["events"] == ruled == connects:
                failures.append(f"{phase}: {decisions} decisions, {r['events']} events "
                                f"({ruled} by the rule), {connects} connections")
            if (phase == "reject") != (refused == connects) or (phase == "allow" and refused):
                failures.append(f"{phase}: {refused} of {connects} connections refused")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for f in failures:
        print("FAIL " + f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
