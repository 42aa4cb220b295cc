"""Operands that come from outside the packet's tuple: a process.env.NAME rule decides by the
environment of the connecting process (the same program is allowed with TSNITCH_ROLE=backup and
falls to DefaultAction without it), and an iface.out rule by the interface the packet leaves on."""
import os

from netns import require_root
from tsnitch_run import CLIENT, NetnsPair, PYTHON, Tsnitch, V4_PEER, check, start_peer

require_root()

PORT = 8601
IFACE_PORT = 8602

env_rule = {
    "created": "2026-11-28T20:00:00Z", "updated": "2026-11-28T20:00:00Z",
    "name": "allow-backup-role", "enabled": True, "precedence": False, "action": "allow",
    "duration": "always",
    "operator": {"type": "list", "operand": "list", "sensitive": False, "data": "",
                 "list": [{"type": "simple", "operand": "process.env.TSNITCH_ROLE",
                           "sensitive": False, "data": "backup"},
                          {"type": "simple", "operand": "dest.port", "sensitive": False,
                           "data": str(PORT)}]}}


iface_rule = {
    "created": "2026-11-28T20:00:00Z", "updated": "2026-11-28T20:00:00Z",
    "name": "allow-veth0", "enabled": True, "precedence": False, "action": "allow",
    "duration": "always",
    "operator": {"type": "list", "operand": "list", "sensitive": False, "data": "",
                 "list": [{"type": "simple", "operand": "iface.out", "sensitive": False,
                           "data": "veth0"},
                          {"type": "simple", "operand": "dest.port", "sensitive": False,
                           "data": str(IFACE_PORT)}]}}


def connect(ns, role, port=PORT):
    env = dict(os.environ)
    env.pop("TSNITCH_ROLE", None)
    if role:
        env["TSNITCH_ROLE"] = role
    r = ns.run(ns.client, [PYTHON, "-c", CLIENT, "tcp", V4_PEER, str(port), "1.5"], env=env,
               timeout=15)
    return r.stdout.strip()


with NetnsPair() as ns:
    start_peer(ns, tcp=(PORT, IFACE_PORT))
    t = Tsnitch(ns, [env_rule, iface_rule], config={"DefaultAction": "reject"}).start()
    check(connect(ns, "backup") == "ok", "TSNITCH_ROLE=backup: allowed by the process.env rule")
    check(connect(ns, "web") != "ok", "TSNITCH_ROLE=web: not allowed")
    check(connect(ns, None) != "ok", "no TSNITCH_ROLE: not allowed")
    check(connect(ns, None, IFACE_PORT) == "ok", "iface.out veth0: allowed by the interface rule")
    t.stop()
    out = [e for e in t.events() if e["dst_port"] == IFACE_PORT]
    check([e["rule"] for e in out] == ["allow-veth0"], f"decided by allow-veth0 ({out})")
    events = [e for e in t.events() if e["dst_port"] == PORT]
    rules = [e["rule"] for e in events]
    check(rules.count("allow-backup-role") == 1 and len(events) == 3,
          f"one decision by the rule, two by DefaultAction ({rules})")
