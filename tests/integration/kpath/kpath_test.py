"""The kernel path for decided flows (issue 15, DESIGN.md §8a), end to end: tsnitch run
--headless in a private namespace, its verdict programs attached to a child cgroup holding only
this test (TSNITCH_KPATH_CGROUP).

1. An allowed executable's TCP connections and UDP datagrams (unconnected and connected, IPv4
   and IPv6) skip the queue once the first flow was decided: the namespace's queue counters do
   not move, and each one is still an event with its pid, source port, exe, rule, path "kernel".
2. Invalidation, with flows cached as allowed: a reject rule file makes the next connection
   refused; `tsnitch rules add` likewise; `tsnitch rules disable` of the allow rule takes effect
   (DefaultAction); an expired timed rule stops applying.
3. A cached reject fails connect() at once (EPERM), a cached deny drops (the client times out);
   both are logged by the kernel path.
4. A rule the kernel cannot evaluate (process.command) still decides right, through the queue,
   and nothing of that executable is decided in the kernel while it is enabled.
5. A process in another network namespace, same executable, same addresses, is untouched by the
   cached reject.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "engine"))
from kpath_env import (TestCgroup, attempts, kpath_tsnitch, queued_packets, require_kernel_path)
from netns import require_root, tsnitch_binary, wait_for
from tsnitch_run import NetnsPair, PYTHON, V4_PEER, V6_PEER, check, rule, start_peer

require_root()
require_kernel_path()

PORT = 8601        # TCP and UDP, allowed
REJECTED = 8602    # TCP and UDP, a cached reject
DENIED = 8603      # TCP, a cached deny
COMMAND = 8604     # allowed, but a process.command rule rejects one client


def events_for(t, results):
    """The events of the attempts in `results` (matched by pid and source port)."""
    want = {(r["pid"], r["sport"]) for r in results}
    return [e for e in t.events() if (e["pid"], e["src_port"]) in want]


def wait_events(t, results, timeout=10):
    def all_there():
        found = events_for(t, results)
        return found if len({(e["pid"], e["src_port"]) for e in found}) >= len(results) else None
    found = wait_for(all_there, timeout=timeout, interval=0.05)
    return found or events_for(t, results)


def unmatched(t, results, found):
    """For a failure's message: the attempts without an event, and the other events of their
    processes (an event that names another port, say)."""
    seen = {(e["pid"], e["src_port"]) for e in found}
    missing = [r for r in results if (r["pid"], r["sport"]) not in seen]
    if not missing:
        return ""
    pids = {r["pid"] for r in missing}
    others = [e for e in t.events() if e["pid"] in pids and (e["pid"], e["src_port"]) not in seen]
    return f"; no event for {missing}; their processes' other events: {others[:4]}"


def cmd_rule(name, action, port, marker):
    r = rule(name, action, port)
    r["operator"]["list"].append({"type": "regexp", "operand": "process.command",
                                  "sensitive": False, "data": marker})
    return r


def write_rule(t, r):
    tmp = os.path.join(t.rules_dir, "." + r["name"] + ".tmp")
    with open(tmp, "w") as f:
        json.dump(r, f)
    os.rename(tmp, os.path.join(t.rules_dir, r["name"] + ".json"))


def until(ns, mode, host, port, want, timeout=10):
    """Attempts until one ends in `want` (the rule file was picked up); returns that attempt."""
    deadline = time.monotonic() + timeout
    while True:
        r = attempts(ns, mode, host, port)[0]
        if r["result"] == want or time.monotonic() > deadline:
            return r


def main():
    cgroup = TestCgroup()
    with NetnsPair() as ns:
        start_peer(ns, tcp=[PORT, REJECTED, DENIED, COMMAND], udp=[PORT, COMMAND, REJECTED])
        t = kpath_tsnitch(ns, cgroup, rules=[
            rule("allow-py", "allow", PORT),
            rule("reject-py", "reject", REJECTED),
            rule("deny-py", "deny", DENIED, "tcp"),
        ], config={"DefaultAction": "reject"}).start()

        # 1. The first flow of each kind is queued and decided; the rest skip the queue.
        for mode in ("tcp", "udp", "udp-connected"):
            for host in (V4_PEER, V6_PEER):
                first = attempts(ns, mode, host, PORT)
                check(first[0]["result"] == "ok", f"first {mode} to {host} allowed: {first}")
                wait_events(t, first)
        before = queued_packets(ns)
        done = []
        for mode, k in (("tcp", 8), ("udp", 8), ("udp-connected", 4)):
            for host in (V4_PEER, V6_PEER):
                done += attempts(ns, mode, host, PORT, k)
        after = queued_packets(ns)
        check(all(r["result"] == "ok" for r in done), "every cached allow passes")
        check(after == before, f"none of the {len(done)} cached flows was queued "
                               f"(queue ids {before} -> {after})")
        ev = wait_events(t, done)
        check(len(ev) == len(done), f"each flow is one event ({len(ev)} of {len(done)}"
                                    f"{unmatched(t, done, ev)})")
        check(all(e["path"] == "kernel" and e["action"] == "allow" and e["rule"] == "allow-py"
                  and e["process_path"] == PYTHON and e["method"] == "ebpf" for e in ev),
              "each names the kernel path, the rule and the executable: " +
              json.dumps([e for e in ev if e["path"] != "kernel" or e["process_path"] != PYTHON][:2]))
        check({e["dst_ip"] for e in ev} == {V4_PEER, V6_PEER}, "IPv4 and IPv6")

        # 3. Cached reject and deny.
        first = attempts(ns, "tcp", V4_PEER, REJECTED)
        check(first[0]["result"] == "refused", f"queued reject refuses: {first}")
        wait_events(t, first)
        again = attempts(ns, "tcp", V4_PEER, REJECTED, 3)
        check(all(r["result"] == "EPERM" for r in again), f"cached reject fails at once: {again}")
        pid = again[0]["pid"]
        rejects = wait_for(lambda: len([e for e in t.events() if e["path"] == "kernel" and
                                        e["action"] == "reject" and e["pid"] == pid]) >= 3,
                           timeout=10)
        check(rejects, "each cached reject is an event of the kernel path")
        # Unconnected UDP: the cached reject fails sendto() itself, once per datagram's socket.
        first = attempts(ns, "udp", V4_PEER, REJECTED, timeout=1.0)
        check(first[0]["result"] in ("timeout", "refused"), f"queued UDP reject: {first}")
        wait_events(t, first)
        before = queued_packets(ns)
        again = attempts(ns, "udp", V4_PEER, REJECTED, 2, timeout=1.0)
        check(all(r["result"] == "EPERM" for r in again) and queued_packets(ns) == before,
              f"cached UDP reject: sendto fails at once, nothing queued: {again}")
        ev = wait_events(t, again)
        check(len(ev) == 2 and all(e["path"] == "kernel" and e["action"] == "reject" and
                                   e["protocol"] == "udp" for e in ev),
              "one kernel event per rejected datagram's socket, with its source port: " +
              str([(e["path"], e["src_ip"], e["src_port"]) for e in ev]))
        first = attempts(ns, "tcp", V4_PEER, DENIED, timeout=1.0)
        check(first[0]["result"] == "timeout", f"queued deny drops: {first}")
        before = queued_packets(ns)
        again = attempts(ns, "tcp", V4_PEER, DENIED, 2, timeout=1.0)
        check(all(r["result"] == "timeout" for r in again), f"cached deny drops: {again}")
        check(queued_packets(ns) == before, "the dropped SYNs (and retransmits) were not queued")
        ev = wait_events(t, again)
        check(len(ev) == 2 and all(e["path"] == "kernel" and e["action"] == "deny" for e in ev),
              "one kernel event per denied connection, retransmits included: " +
              str([(e["path"], e["action"], e["src_port"]) for e in ev]))

        # 5. Another namespace, same executable, same addresses: the cached reject is not its.
        with NetnsPair() as other:
            start_peer(other, tcp=[REJECTED])
            r = attempts(other, "tcp", V4_PEER, REJECTED)
            check(r[0]["result"] == "ok", f"another namespace is untouched: {r}")

        # 4. A rule the kernel cannot evaluate: the queue decides, right, every time.
        write_rule(t, cmd_rule("reject-marked", "reject", COMMAND, "marker-xyz"))
        write_rule(t, rule("allow-command-port", "allow", COMMAND))
        r = until(ns, "tcp", V4_PEER, COMMAND, "ok")
        check(r["result"] == "ok", f"the unmarked client is allowed: {r}")
        before = queued_packets(ns)
        plain = attempts(ns, "tcp", V4_PEER, COMMAND, 3)
        marked = attempts(ns, "tcp", V4_PEER, COMMAND, 3, marker="marker-xyz")
        check(all(x["result"] == "ok" for x in plain), f"unmarked: allowed {plain}")
        check(all(x["result"] == "refused" for x in marked), f"marked: refused {marked}")
        check(queued_packets(ns) - before >= 6, "all of them went through the queue")
        ev = wait_events(t, plain + marked)
        check(all(e["path"] == "queue" for e in ev) and len(ev) == 6,
              "decided in user space: " + str([(e["path"], e["rule"]) for e in ev]))
        os.unlink(os.path.join(t.rules_dir, "reject-marked.json"))

        # 2. Invalidation, each time with the flow cached as allowed first.
        def cached_allow():
            until(ns, "tcp", V4_PEER, PORT, "ok")
            before = queued_packets(ns)
            r = attempts(ns, "tcp", V4_PEER, PORT, 2)
            return all(x["result"] == "ok" for x in r) and queued_packets(ns) == before

        check(wait_for(cached_allow, timeout=10), "the allow is cached again")
        write_rule(t, rule("block-py", "reject", PORT, "tcp"))  # after allow-py: it wins
        r = until(ns, "tcp", V4_PEER, PORT, "refused")
        check(r["result"] == "refused", f"a reject rule file applies to the next connection: {r}")
        r = attempts(ns, "tcp", V4_PEER, PORT, 3)
        check(all(x["result"] in ("refused", "EPERM") for x in r), f"and to every one after: {r}")
        os.unlink(os.path.join(t.rules_dir, "block-py.json"))

        check(wait_for(cached_allow, timeout=10), "the allow is cached again")
        cli = ns.run(ns.client, [tsnitch_binary(), "rules", "-r", t.rules_dir, "add", "cli-block",
                                 "--action", "reject", "--operand", "process.path", "--data",
                                 PYTHON, "--operand", "dest.port", "--data", str(PORT)])
        check("added cli-block" in cli.stdout, "tsnitch rules add")
        r = until(ns, "tcp", V4_PEER, PORT, "refused")
        check(r["result"] == "refused", f"a rule from `tsnitch rules add` applies: {r}")
        ns.run(ns.client, [tsnitch_binary(), "rules", "-r", t.rules_dir, "delete", "cli-block"])

        # The cached allow's own file, edited to reject; then that file deleted.
        check(wait_for(cached_allow, timeout=10), "the allow is cached again")
        write_rule(t, rule("allow-py", "reject", PORT))
        r = until(ns, "tcp", V4_PEER, PORT, "refused")
        check(r["result"] == "refused", f"editing the allow rule's file to reject applies: {r}")
        write_rule(t, rule("allow-py", "allow", PORT))
        check(wait_for(cached_allow, timeout=10), "the allow is cached again")
        os.unlink(os.path.join(t.rules_dir, "allow-py.json"))
        r = until(ns, "tcp", V4_PEER, PORT, "refused")
        check(r["result"] == "refused", f"deleting the allow rule's file takes effect: {r}")
        r = attempts(ns, "tcp", V4_PEER, PORT, 2)
        check(all(x["result"] == "refused" for x in r), f"DefaultAction once it is gone: {r}")
        write_rule(t, rule("allow-py", "allow", PORT))

        check(wait_for(cached_allow, timeout=10), "the allow is cached again")
        ns.run(ns.client, [tsnitch_binary(), "rules", "-r", t.rules_dir, "disable", "allow-py"])
        r = until(ns, "tcp", V4_PEER, PORT, "refused")
        check(r["result"] == "refused", f"disabling the allow rule takes effect: {r}")
        r = attempts(ns, "tcp", V4_PEER, PORT, 2)
        check(all(x["result"] == "refused" for x in r), f"DefaultAction from then on: {r}")
        ns.run(ns.client, [tsnitch_binary(), "rules", "-r", t.rules_dir, "delete", "allow-py"])

        ns.run(ns.client, [tsnitch_binary(), "rules", "-r", t.rules_dir, "add", "for-a-while",
                           "--action", "allow", "--duration", "4s", "--operand", "process.path",
                           "--data", PYTHON, "--operand", "dest.port", "--data", str(PORT)])
        check(wait_for(cached_allow, timeout=3), "a timed allow is cached")
        r = wait_for(lambda: attempts(ns, "tcp", V4_PEER, PORT)[0]["result"] == "refused",
                     timeout=10, interval=0.2)
        check(r, "once it expired, the timed rule stops applying")
        r = attempts(ns, "tcp", V4_PEER, PORT, 2)
        check(all(x["result"] == "refused" for x in r), f"for every connection: {r}")

        check(t.stop() == 0, "tsnitch stops cleanly")
        err = t.proc.stderr.read()
        check("kernel path unavailable" not in err, "the kernel path was on")
        check(not [p for p in os.listdir("/run") if p.startswith("tsnitch-bpf-") and
                   p.endswith(f"-{t.proc.pid}")], "its pins are gone")


main()
