"""New-connection cost of tsnitch, every configuration in ONE invocation, as ratios to the
no-firewall run of the same invocation (the machine is shared and noisy). Sequential TCP connects
from the client namespace to a peer that accepts and closes; per configuration: p50 and p99
connect time, the sequential rate, the rate of 4 parallel clients, the firewall's RSS and its own
CPU time (every thread's run time) per sequential connect ("CPU us/c"; kernel work done in the
client's context or in softirq is not in it).

Configurations (rows; the list ROWS below, one entry each, so a new one is one more entry):
  none         no firewall
  nfq-floor    bench/nfq_floor: tsnitch's rules and queues (one per CPU, pinned readers), every
               packet accepted at once; what NFQUEUE itself costs here
  kernel-floor bench/nfq_floor --kernel-floor: the same rules with an always-matching xt_bpf
               program as the kernel path's pass: every new flow leaves before the queue, no
               cgroup program, no user space; the floor of the kernel path (netfilter, conntrack)
  rule-exe     tsnitch, an allow rule on the client's executable (process.path); no front end
  attached-2   rule-exe with 2 front ends attached over the control socket: one reads every
               event, the other never reads (a stalled terminal); must not slow the firewall
  no-events    rule-exe without an events file: what writing the event lines costs
  queue-path   tsnitch, an allow rule the kernel cannot take (a regexp on process.command)
  diag         tsnitch --method diag, the process.path rule
  opensnitch   OpenSnitch, when installed (skipped otherwise)

    sudo python3 bench/connect_bench.py [BUILD_DIR] [--count N] [--rounds R] [--rows a,b,..]
                                        [--median] [--bpf-stats] [--ablate PROG,..]

p50/p99 are over every connect of every round; a rate is the best round's (--median: the median
round's). --bpf-stats turns the kernel's BPF run statistics on for the sequential runs
(BPF_ENABLE_STATS: off again when the bench ends, however it ends; it costs two clock reads per
program run) and prints, per tsnitch row, each of its BPF programs' runs per
connect and time per run: where the kernel-side cost of a connection goes (raw_tp/sys_enter counts
every syscall of the machine in that time, the client's and tsnitch's own too).
--ablate adds, per named BPF program (e.g. tsnitch_sock_release), a row "-NAME": rule-exe with that
program's link detached once tsnitch runs (bpftool link detach; cgroup programs only: a raw
tracepoint's link cannot be detached). What a program costs, without the statistics' own cost;
such a row's attribution is incomplete, so only its speed means anything.

Runs inside its own namespace pair (tests/integration/netns.py); nothing touches the machine's own
network namespace. Rounds interleave the rows, so that drift of the machine hits all of them.
"""
import argparse
import ctypes
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from netns import (NetnsPair, V4_PEER, fdinfos, process_named, require_root,  # noqa: E402
                   wait_for)

PORT = 8400
PARALLEL = 4

# The peer: one acceptor per CPU on one port (SO_REUSEPORT) with a deep backlog. A single
# acceptor with a 4096 backlog overflowed under 4 parallel clients without a firewall (its SYNs
# dropped, a 1 s retransmit each): the "none" row measured the peer, not the network.
PEER = r"""
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(65535)
print("ready", flush=True)
while True:
    c, _ = s.accept(); c.close()
"""
BACKLOG_SYSCTL = ["sysctl", "-q", "-w", "net.core.somaxconn=65535",
                  "net.ipv4.tcp_max_syn_backlog=65535"]


def start_peers(ns):
    """The peer's acceptors, one per CPU, once each says it is ready."""
    subprocess.run(["ip", "netns", "exec", ns.peer] + BACKLOG_SYSCTL, check=True)
    peers = [ns.popen(ns.peer, [sys.executable, "-c", PEER, str(PORT)], text=True)
             for _ in range(os.cpu_count() or 1)]
    for p in peers:
        assert p.stdout.readline().strip() == "ready"
    return peers


class ClientRun:
    """What connect_client processes measured: every connect's time (us), how many connects and
    how many of them were refused (a reject's RST), and the rate: connects / the slowest
    client's time."""

    def __init__(self):
        self.samples, self.connects, self.refused, self.rate = [], 0, 0, 0.0


def run_clients(ns, client, count, parallel=1, seconds=0):
    """`parallel` connect_client processes, each making `count` connects (0: no limit) or
    connecting for `seconds`."""
    argv = [client, V4_PEER, str(PORT), str(count)] + ([str(seconds)] if seconds else [])
    procs = [ns.popen(ns.client, argv, text=True) for _ in range(parallel)]
    run, longest = ClientRun(), 0
    for p in procs:
        out, err = p.communicate(timeout=900 + seconds)
        if p.returncode != 0:
            sys.exit(f"connect_client failed: {err}")
        for line in out.split("\n"):
            if line.startswith("total_ns "):
                longest = max(longest, int(line.split()[1]))
            elif line.startswith("refused "):
                run.refused += int(line.split()[1])
            elif line:
                run.samples.append(int(line) / 1000.0)
    run.connects = len(run.samples)
    run.rate = run.connects / (longest / 1e9)
    return run


def pct(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * p / 100))]


NAMES = ("tsnitch", "opensnitch", "nfq_floor")


def firewall_pid(pid):
    """The firewall process: pid itself or the child `ip netns exec` started."""
    return process_named(pid, NAMES)


def rss_kib(pid, field="VmRSS"):
    """VmRSS (or another /proc/PID/status field in KiB: RssAnon, RssFile, RssShmem) of the
    firewall process (the child of `ip netns exec`, or pid itself)."""
    cand = firewall_pid(pid)
    try:
        with open(f"/proc/{cand}/status") as f:
            st = dict(line.split(":", 1) for line in f if ":" in line)
        return int(st[field].split()[0])
    except (FileNotFoundError, ProcessLookupError, TypeError, KeyError):
        return None


def cpu_seconds(pid):
    """CPU time of the firewall process, every thread, in seconds (the schedulers' run times in
    /proc/PID/task/*/schedstat, ns; 0 when it is gone). A thread that ended before the call is
    not counted: the firewalls here keep theirs for their life."""
    cand = firewall_pid(pid)
    total = 0
    try:
        for tid in os.listdir(f"/proc/{cand}/task"):
            try:
                with open(f"/proc/{cand}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except (FileNotFoundError, ProcessLookupError):
                pass
    except (FileNotFoundError, ProcessLookupError, TypeError):
        return 0.0
    return total / 1e9


def attach_clients(path, n):
    """n front ends over the control socket: the first reads everything (on a thread), the others
    only say hello and then never read."""
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        s.sendall(b'{"hello":"tsnitch","version":1,"role":"client","program":"bench"}\n')
        socks.append(s)

    def read_all(s):
        try:
            while s.recv(1 << 16):
                pass
        except OSError:
            pass
    if socks:
        threading.Thread(target=read_all, args=(socks[0],), daemon=True).start()
    return socks


class Firewall:
    """A process in the client namespace that installs rules when started and removes them on
    SIGTERM (tsnitch, nfq_floor, opensnitchd)."""

    def __init__(self, ns, argv, marker="TSNITCH-OUT", control=None, attach=0):
        self.ns, self.argv, self.marker = ns, argv, marker
        self.control, self.attach = control, attach
        self.p, self.clients = None, []

    def start(self):
        self.p = self.ns.popen(self.ns.client, self.argv, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
        if not wait_for(lambda: self.marker in self.ns.ruleset() or self.p.poll() is not None,
                        timeout=15):
            sys.exit(f"{self.argv[0]} did not start")
        if self.p.poll() is not None:
            sys.exit(f"{self.argv[0]} exited: {self.p.stderr.read()}")
        if self.attach:
            self.clients = attach_clients(self.control, self.attach)

    def rss(self, field="VmRSS"):
        return rss_kib(self.p.pid, field)

    def settled_cpu(self):
        """Its CPU seconds once the work of the connects so far is done: after the kernel
        path's batch reads (every 100 ms) and the events file's writes. Taken on both ends of a
        run, the window holds that run's events, not the warm-up's."""
        time.sleep(0.3)
        return cpu_seconds(self.p.pid)

    def stop(self):
        """Stops it; returns what it wrote to stderr (tsnitch's summary of decisions)."""
        self.p.terminate()
        err = self.p.communicate(timeout=20)[1]
        for c in self.clients:
            c.close()
        if not wait_for(lambda: self.marker not in self.ns.ruleset(), timeout=10):
            sys.exit(f"{self.argv[0]} left its rules behind")
        return err


def bpf_programs():
    """{(id, name): (run_cnt, run_time_ns)} of every loaded BPF program named tsnitch_*/tsn_*."""
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True,
                         check=True).stdout
    return {(p["id"], p.get("name", "")): (p.get("run_cnt", 0), p.get("run_time_ns", 0))
            for p in json.loads(out) if p.get("name", "").startswith(("tsnitch_", "tsn_"))}


def held_links(pid):
    """{link id: prog id} of the BPF links that process `pid` holds (its fds' fdinfo)."""
    return {int(i["link_id"]): int(i["prog_id"]) for i in fdinfos(pid)
            if "link_id" in i and "prog_id" in i}


def detach_programs(names, pid):
    """Detaches the links that the firewall process `pid` holds of its BPF programs with these
    names (bpftool link detach; never another instance's): an ablation, what a row costs
    without them. Exits when one has no link or cannot be detached."""
    progs = {p["id"]: p.get("name", "") for p in json.loads(subprocess.run(
        ["bpftool", "-j", "prog", "show"], capture_output=True, text=True, check=True).stdout)}
    links = held_links(pid)
    for name in names:
        ids = [link for link, prog in links.items() if progs.get(prog) == name]
        if not ids:
            sys.exit(f"--ablate: process {pid} holds no link of a program named {name}")
        for i in ids:
            r = subprocess.run(["bpftool", "link", "detach", "id", str(i)], capture_output=True,
                               text=True)
            if r.returncode != 0:
                sys.exit(f"--ablate: detaching {name} (link {i}): {r.stderr.strip()}")


def enable_bpf_stats():
    """An fd that keeps the kernel's BPF run statistics on while it is open (bpf(2)
    BPF_ENABLE_STATS, x86-64): counted with every other holder and with the
    kernel.bpf_stats_enabled sysctl, and dropped by the kernel when this process dies, so the
    machine is never left with the statistics on."""
    attr = ctypes.c_uint32(0)  # BPF_STATS_RUN_TIME
    fd = ctypes.CDLL(None, use_errno=True).syscall(321, 32, ctypes.byref(attr),
                                                   ctypes.sizeof(attr))
    if fd < 0:
        sys.exit(f"--bpf-stats: bpf(BPF_ENABLE_STATS): {os.strerror(ctypes.get_errno())}")
    return fd


class BpfStats:
    """Keeps the BPF run statistics on for a block and adds what tsnitch's programs ran in it to
    `into` ({name: [runs, ns]})."""

    def __init__(self, enabled, into):
        self.enabled, self.into = enabled, into

    def __enter__(self):
        if self.enabled:
            self.fd = enable_bpf_stats()
            self.before = bpf_programs()
        return self

    def __exit__(self, *exc):
        if not self.enabled:
            return
        after = bpf_programs()
        os.close(self.fd)
        for key, (cnt, ns) in after.items():
            c0, n0 = self.before.get(key, (0, 0))
            total = self.into.setdefault(key[1], [0, 0])
            total[0] += cnt - c0
            total[1] += ns - n0


def built(build, *programs):
    """The absolute paths of `programs` (relative to the build directory); exits when one is not
    built."""
    paths = [os.path.abspath(os.path.join(build, p)) for p in programs]
    for p in paths:
        if not os.access(p, os.X_OK):
            sys.exit(f"{p} is not built (ninja -C {build})")
    return paths


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rows", default="")
    ap.add_argument("--median", action="store_true")
    ap.add_argument("--bpf-stats", action="store_true")
    ap.add_argument("--ablate", default="")
    a = ap.parse_args()
    require_root()
    tsnitch, client, floor = built(a.build, "src/tsnitch", "bench/connect_client",
                                   "bench/nfq_floor")

    work = tempfile.mkdtemp(prefix="tsnitch-bench-")
    try:
        def rules_dir(name, operator):
            d = os.path.join(work, name)
            os.mkdir(d)
            with open(os.path.join(d, "bench-client.json"), "w") as f:
                json.dump({"name": "bench-client", "enabled": True, "precedence": False,
                           "action": "allow", "duration": "always", "operator": operator}, f)
            return d

        exe_rule = rules_dir("rules-exe", {"type": "simple", "operand": "process.path",
                                           "sensitive": False, "data": client})
        command_rule = rules_dir("rules-command", {"type": "regexp", "operand": "process.command",
                                                   "sensitive": False, "data": "connect_client "})

        def tsnitch_row(name, rules, method, attach=0, events=True):
            config = os.path.join(work, f"config-{name}.json")
            control = os.path.join(work, f"{name}.sock")
            with open(config, "w") as f:
                json.dump({"DefaultAction": "deny", "ProcMonitorMethod": method,
                           "Control": {"Socket": control}}, f)
            path = os.path.join(work, f"events-{name}.jsonl") if events else None
            return {"name": name, "events": path, "control": control, "attach": attach,
                    "argv": [tsnitch, "run", "--headless", "-c", config, "-r", rules] +
                            (["--events", path] if path else [])}

        rows = [{"name": "none", "argv": None},
                {"name": "nfq-floor", "argv": [floor]},
                {"name": "kernel-floor", "argv": [floor, "--kernel-floor"]},
                tsnitch_row("rule-exe", exe_rule, "ebpf"),
                tsnitch_row("attached-2", exe_rule, "ebpf", attach=2),
                tsnitch_row("no-events", exe_rule, "ebpf", events=False),
                tsnitch_row("queue-path", command_rule, "ebpf"),
                tsnitch_row("diag", exe_rule, "diag")]
        for prog in filter(None, a.ablate.split(",")):
            row = tsnitch_row(f"-{prog}", exe_rule, "ebpf")
            row["detach"] = [prog]
            rows.append(row)
        if shutil.which("opensnitchd"):
            rows.append({"name": "opensnitch", "argv": [shutil.which("opensnitchd")],
                         "marker": "opensnitch"})
        else:
            print("opensnitch: not installed, row skipped")
        if a.rows:
            keep = a.rows.split(",")
            rows = [r for r in rows if r["name"] in keep or r["name"] == "none" or
                    r.get("detach")]

        results = {r["name"]: {"seq": [], "rate": [], "par": [], "rss": [], "bpf": {},
                               "cpu": 0.0}
                   for r in rows}
        with NetnsPair(ipv6=False) as ns:
            peers = start_peers(ns)
            run_clients(ns, client, 500)  # warm-up
            for _ in range(a.rounds):
                for row in rows:
                    fw = None
                    if row["argv"]:
                        fw = Firewall(ns, row["argv"], row.get("marker", "TSNITCH-OUT"),
                                      row.get("control"), row.get("attach", 0))
                        fw.start()
                        if row.get("detach"):
                            detach_programs(row["detach"], firewall_pid(fw.p.pid))
                        run_clients(ns, client, 200)  # warm-up: caches, attribution index
                    r = results[row["name"]]
                    cpu0 = fw.settled_cpu() if fw else 0.0
                    with BpfStats(a.bpf_stats and fw is not None, r["bpf"]):
                        seq = run_clients(ns, client, a.count)
                    r["cpu"] += fw.settled_cpu() - cpu0 if fw else 0.0
                    r["seq"].extend(seq.samples)
                    r["rate"].append(seq.rate)
                    r["par"].append(run_clients(ns, client, a.count // PARALLEL, PARALLEL).rate)
                    if fw:
                        if not row["name"].endswith("-floor"):
                            r["rss"].append(fw.rss())
                        fw.stop()
            for p in peers:
                p.kill()

        print(f"{a.rounds} rounds x {a.count} sequential TCP connects over veth, IPv4, "
              f"{os.cpu_count()} CPUs; parallel: {PARALLEL} clients x {a.count // PARALLEL}")
        base = results["none"]
        # Rates: the best round of each row (other load on a shared machine only ever slows a
        # round down); --median for the median round instead.
        agg = statistics.median if a.median else max
        b50, brate, bpar = pct(base["seq"], 50), agg(base["rate"]), agg(base["par"])
        print(f"  {'row':11s} {'p50 us':>8s} {'+p50':>6s} {'p99 us':>8s} {'+p99':>7s} "
              f"{'conn/s':>8s} {'ratio':>6s} {'4x conn/s':>9s} {'ratio':>6s} {'RSS MiB':>8s} "
              f"{'CPU us/c':>8s}")
        b99 = pct(base["seq"], 99)
        for row in rows:
            r = results[row["name"]]
            p50, p99 = pct(r["seq"], 50), pct(r["seq"], 99)
            rate, par = agg(r["rate"]), agg(r["par"])
            rss = [x for x in r["rss"] if x]
            print(f"  {row['name']:11s} {p50:8.1f} {p50 - b50:+6.1f} {p99:8.1f} {p99 - b99:+7.1f} "
                  f"{rate:8.0f} {rate / brate:6.2f} {par:9.0f} {par / bpar:6.2f} "
                  f"{(max(rss) / 1024 if rss else 0):8.1f} "
                  f"{r['cpu'] * 1e6 / max(1, len(r['seq'])):8.1f}")
        for row in rows:
            if not row.get("events"):
                continue
            with open(row["events"]) as f:
                decided = [json.loads(line) for line in f]
            allowed = sum(1 for e in decided if e["action"] == "allow" and
                          e["rule"] == "bench-client")
            attr = [e["attribution_us"] for e in decided] or [0]
            kernel = sum(1 for e in decided if e.get("path") == "kernel")
            print(f"  {row['name']}: {len(decided)} decisions ({allowed} allowed by the rule, "
                  f"{kernel} by the kernel path); "
                  f"attribution p50 {pct(attr, 50)} us p99 {pct(attr, 99)} us")
        for row in rows:
            bpf, connects = results[row["name"]]["bpf"], len(results[row["name"]]["seq"])
            if not bpf or not connects:
                continue
            total = sum(ns for _, ns in bpf.values()) / connects / 1000
            print(f"  {row['name']}: BPF {total:.2f} us per connect (bpf_stats)")
            for name, (cnt, ns) in sorted(bpf.items(), key=lambda kv: -kv[1][1]):
                if cnt:
                    print(f"    {name:24s} {cnt / connects:8.2f} runs/connect "
                          f"{ns / cnt:8.0f} ns/run {ns / connects / 1000:6.2f} us/connect")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
