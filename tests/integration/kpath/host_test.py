"""dest.host rules and the kernel path (issue 15, DESIGN.md §8a): a decision that depends on the
destination's host name is cached per address, and forgotten when the DNS cache names that
address anew. With an allow on the executable and a reject on dest.host evil.test:

- an address no DNS answer named yet: the reject cannot match it, the allow is cached (its
  connections skip the queue);
- a DNS answer names it evil.test: the very next connection to it is refused by the host rule
  (decided in user space, then cached as a reject of that address);
- another address the answer did not name keeps its cached allow."""
import os
import sys

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "engine"))
from kpath_env import TestCgroup, attempts, kpath_tsnitch, queued_packets, require_kernel_path  # noqa: E402
from netns import require_root, wait_for  # noqa: E402
from tsnitch_run import NetnsPair, PYTHON, V4_PEER, V6_PEER, check, rule, start_peer  # noqa: E402

require_root()
require_kernel_path()

RESPONDER = os.path.join(HERE, "..", "dnsresponder.py")
PORT = 8631


def host_rule():
    r = rule("reject-evil", "reject", PORT)
    r["operator"]["list"].append({"type": "simple", "operand": "dest.host", "sensitive": False,
                                  "data": "evil.test"})
    return r


def cached(ns, host):
    attempts(ns, "tcp", host, PORT)
    before = queued_packets(ns)
    r = attempts(ns, "tcp", host, PORT, 2)
    return all(x["result"] == "ok" for x in r) and queued_packets(ns) == before


def main():
    cgroup = TestCgroup()
    with NetnsPair() as ns:
        dns = ns.popen(ns.peer, [PYTHON, RESPONDER, "serve", "--listen", V4_PEER, "--port", "53",
                                 "--record", "evil.test=" + V4_PEER], text=True)
        check(dns.stdout.readline().startswith("ready"), "DNS responder started in the peer")
        start_peer(ns, tcp=[PORT])
        t = kpath_tsnitch(ns, cgroup, rules=[rule("allow-dns", "allow", 53),
                                             rule("allow-py", "allow", PORT), host_rule()],
                          config={"DefaultAction": "reject"}).start()
        for host in (V4_PEER, V6_PEER):
            check(wait_for(lambda: cached(ns, host), timeout=10),
                  f"unnamed {host}: the allow is cached despite the dest.host rule")
        out = ns.run(ns.client, [PYTHON, RESPONDER, "query", V4_PEER, "evil.test", "--type",
                                 "A"]).stdout.split()
        check(out == [V4_PEER], f"the DNS answer names {V4_PEER} evil.test: {out}")
        r = attempts(ns, "tcp", V4_PEER, PORT)
        check(r[0]["result"] == "refused", f"the very next connection to it is refused: {r}")
        r = attempts(ns, "tcp", V4_PEER, PORT, 2)
        check(all(x["result"] in ("refused", "EPERM") for x in r), f"and every later one: {r}")
        check(cached(ns, V6_PEER), "the address the answer did not name keeps its cached allow")
        t.stop()
        ev = [e for e in t.events() if e["dst_port"] == PORT and e["dst_ip"] == V4_PEER and
              e["action"] == "reject"]
        check(ev and ev[0]["rule"] == "reject-evil" and ev[0]["dst_host"] == "evil.test" and
              ev[0]["path"] == "queue",
              "the first reject came from the host rule: " +
              str([(e["rule"], e["dst_host"], e["path"]) for e in ev[:1]]))
        check(all(e["rule"] == "reject-evil" for e in ev), "so did every later one")
        dns.terminate()


main()
