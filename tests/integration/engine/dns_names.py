"""Host names learnt from DNS answers (UDP and TCP, IPv4 and IPv6) show in the --events lines and
can be matched by a dest.host rule."""
import os

from netns import require_root
from tsnitch_run import (NetnsPair, PYTHON, Tsnitch, V4_PEER, V6_PEER, attempt, check, rule,
                         start_peer)

require_root()

RESPONDER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         "dnsresponder.py")
NAMED, OTHER = 8201, 8202


def host_rule():
    r = rule("allow-example-test", "allow", NAMED)
    r["operator"]["list"].append({"type": "simple", "operand": "dest.host", "sensitive": False,
                                  "data": "example.test"})
    return r


with NetnsPair() as ns:
    dns = ns.popen(ns.peer, [PYTHON, RESPONDER, "serve", "--listen", V4_PEER, "--listen", V6_PEER,
                             "--port", "53", "--record", "example.test=" + V4_PEER,
                             "--record", "example.test=" + V6_PEER], text=True)
    check(dns.stdout.readline().startswith("ready"), "DNS responder started in the peer")
    start_peer(ns, tcp=(NAMED, OTHER))
    t = Tsnitch(ns, [rule("allow-dns", "allow", 53), host_rule()]).start()

    # Before any answer the address has no name: the dest.host rule does not match.
    check(attempt(ns, "tcp", V4_PEER, NAMED, timeout=1) == "timeout",
          "before the name is known the dest.host rule does not allow")
    # The flow cache remembers that decision for a while; later checks use new flows anyway.
    for server, qtype, tcp in ((V4_PEER, "A", False), (V6_PEER, "AAAA", True)):
        args = [PYTHON, RESPONDER, "query", server, "example.test", "--type", qtype]
        out = ns.run(ns.client, args + (["--tcp"] if tcp else [])).stdout.split()
        want = V4_PEER if qtype == "A" else V6_PEER
        check(out == [want], f"{qtype} query over {'TCP' if tcp else 'UDP'} answered: {out}")
    for host in (V4_PEER, V6_PEER):
        check(attempt(ns, "tcp", host, NAMED, timeout=2) == "ok",
              f"after the answer, the dest.host rule allows [{host}]:{NAMED}")
        check(attempt(ns, "tcp", host, OTHER, timeout=1) == "timeout",
              f"and other ports of example.test stay denied")
    t.stop()
    events = t.events()
    for host in (V4_PEER, V6_PEER):
        named = [e for e in events if e["dst_ip"] == host and e["dst_port"] == NAMED
                 and e["action"] == "allow"]
        check(len(named) == 1 and named[0]["dst_host"] == "example.test"
              and named[0]["rule"] == "allow-example-test",
              f"event for [{host}]:{NAMED} names example.test and the rule")
        other = [e for e in events if e["dst_ip"] == host and e["dst_port"] == OTHER]
        check(len(other) == 1 and other[0]["dst_host"] == "example.test"
              and other[0]["action"] == "deny" and other[0]["reason"] == "timeout",
              f"denied connection to [{host}]:{OTHER} is named too")
    first = [e for e in events if e["dst_port"] == NAMED and e["action"] == "deny"]
    check(len(first) == 1 and first[0]["dst_host"] is None,
          "the connection before the answer had no name")
    dns.terminate()
