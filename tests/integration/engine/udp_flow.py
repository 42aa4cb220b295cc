"""A UDP sender of 100 datagrams to a silent peer gives one decision, not 100: allowed, all 100
arrive and the flow is queued once (connmark); denied, none arrive and the later datagrams get the
same verdict from the flow cache without new decisions."""
import time

from netns import require_root, wait_for
from tsnitch_run import NetnsPair, Tsnitch, V4_PEER, V6_PEER, check, rule, start_peer, SENDER, PYTHON

require_root()

ALLOW, DENY = 9001, 9002

with NetnsPair() as ns:
    peer = start_peer(ns, silent=(ALLOW, DENY))
    t = Tsnitch(ns, [rule("allow-udp", "allow", ALLOW), rule("deny-udp", "deny", DENY)]).start()
    for host in (V4_PEER, V6_PEER):
        for port in (ALLOW, DENY):
            r = ns.run(ns.client, [PYTHON, "-c", SENDER, host, str(port), "100"])
            check(r.stdout.strip() == "sent", f"sender to [{host}]:{port} ran")
    # Decisions are written as they are made; give the last one a moment to land.
    wait_for(lambda: len(t.events()) >= 4, timeout=5)
    time.sleep(0.5)
    t.stop()
    peer.terminate()
    counts = dict(item.split(":") for item in peer.communicate(timeout=10)[0].split())
    check(int(counts.get(str(ALLOW), 0)) == 200, f"all 200 allowed datagrams arrived ({counts})")
    check(str(DENY) not in counts, f"no denied datagram arrived ({counts})")
    events = t.events()
    for host in (V4_PEER, V6_PEER):
        for port, action in ((ALLOW, "allow"), (DENY, "deny")):
            n = [e for e in events if e["dst_ip"] == host and e["dst_port"] == port]
            check(len(n) == 1 and n[0]["action"] == action,
                  f"one {action} decision for 100 datagrams to [{host}]:{port} (got {len(n)})")
    check(len(events) == 4, f"four decisions in all (got {len(events)})")
