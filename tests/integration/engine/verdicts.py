"""allow / deny / reject for TCP and UDP over IPv4 and IPv6, from OpenSnitch rule files on the
client program's path and the destination port: the connection works, times out, or fails at
once (ECONNREFUSED), and each is one --events line naming the rule. Once with the diag ladder and
once with the eBPF rung (which decides on the queue thread)."""
from netns import require_root
from tsnitch_run import (NetnsPair, PYTHON, Tsnitch, V4_PEER, V6_PEER, attempt, check, rule,
                         start_peer)

require_root()

PORTS = {"allow": 8001, "deny": 8002, "reject": 8003}
EXPECT = {"allow": "ok", "deny": "timeout", "reject": "refused"}

for method in ("diag", "ebpf"):
    with NetnsPair() as ns:
        print(f"--- attribution {method}")
        rules = [rule(f"{a}-{p}", a, p) for a, p in PORTS.items()]
        start_peer(ns, tcp=PORTS.values(), udp=PORTS.values())
        t = Tsnitch(ns, rules, config={"ProcMonitorMethod": method}).start()
        seen = []
        for host in (V4_PEER, V6_PEER):
            for proto in ("tcp", "udp"):
                for action, port in PORTS.items():
                    got = attempt(ns, proto, host, port, timeout=1.5)
                    check(got == EXPECT[action],
                          f"{proto} to [{host}]:{port} under a {action} rule: {got} (want {EXPECT[action]})")
                    seen.append((action, proto, host, port))
        t.stop()
        events = t.events()
        # Where the eBPF module cannot load, tsnitch says so and attributes with diag.
        want_method = "diag" if "eBPF unavailable" in t.proc.stderr.read() else method
        for action, proto, host, port in seen:
            matching = [e for e in events if e["dst_ip"] == host and e["dst_port"] == port
                        and e["protocol"] == proto]
            check(len(matching) == 1, f"one event for {proto} [{host}]:{port} (got {len(matching)})")
            e = matching[0]
            check(e["action"] == action and e["reason"] == "rule" and e["rule"] == f"{action}-{port}",
                  f"event says {action} by rule {action}-{port}: {e['action']} {e['reason']} {e['rule']}")
            check(e["process_path"] == PYTHON and e["pid"] > 0 and e["method"] == want_method,
                  f"event names the client program: {e['process_path']} pid {e['pid']} via {e['method']}")
        check(len(events) == len(seen), f"no other decisions ({len(events)} events)")
