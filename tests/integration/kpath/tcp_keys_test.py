"""TCP flow keys for attribution (issue 15, DESIGN.md §7, §8a). While the kernel path runs, its
xt_bpf program files the flow key of each SYN it does not pass in the attribution module's maps,
and tsnitch holds no sockops program (which ran on nine callbacks of every TCP socket of the
machine); without the kernel path (TSNITCH_KPATH_DISABLE=1) sockops does it. Either way, each
queued TCP connection's key (source address and port, destination) in tsn_flows names the
connecting process: the first connection of a program, IPv4 and IPv6. A later one that the
kernel path passes gets no key (its ring-buffer record names the process; the key would be one
map update per connection for nothing); queued, it gets one. The events name the same pid and
executable for all of them.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "engine"))
from kpath_env import TestCgroup, attempts, kpath_tsnitch, require_kernel_path  # noqa: E402
from netns import fdinfos, process_named, require_root, wait_for  # noqa: E402
from tsnitch_run import NetnsPair, PYTHON, V4_PEER, V6_PEER, check, rule, start_peer  # noqa: E402

require_root()
require_kernel_path()

PORT = 8611
SOCK_OPS = 3  # BPF_CGROUP_SOCK_OPS, a cgroup link's attach_type in its fdinfo


def tsnitch_pid(t):
    """tsnitch itself: the process `ip netns exec` became, or its child."""
    pid = process_named(t.proc.pid, ("tsnitch",))
    if pid is None:
        raise AssertionError(f"no tsnitch process under {t.proc.pid}")
    return pid


def holds_sockops(pid):
    return any(i.get("link_type") == "cgroup" and
               int(i.get("attach_type", "-1")) == SOCK_OPS for i in fdinfos(pid))


def tcp_keys(pid):
    """{(family, sport, dport): owner tgid} of the TCP entries of every tsn_flows map `pid`
    holds (bpftool: the key and value as BTF names them)."""
    keys = {}
    for mid in {int(i["map_id"]) for i in fdinfos(pid) if "map_id" in i}:
        show = json.loads(subprocess.run(["bpftool", "-j", "map", "show", "id", str(mid)],
                                         capture_output=True, text=True, check=True).stdout)
        if show.get("name") != "tsn_flows":
            continue
        dump = json.loads(subprocess.run(["bpftool", "-j", "map", "dump", "id", str(mid)],
                                         capture_output=True, text=True, check=True).stdout)
        for entry in dump:
            k, v = entry["formatted"]["key"], entry["formatted"]["value"]
            if k["protocol"] == 6:
                keys[(k["family"], k["sport"], k["dport"])] = v["tgid"]
    return keys


def connections(ns, t, kernel_path):
    """Three connections (IPv4 twice, IPv6): each queued one's key names its client, and so do
    the events of all three; the second IPv4 one is decided by the kernel path when it runs, and
    then has no key."""
    done = [attempts(ns, "tcp", V4_PEER, PORT)[0], attempts(ns, "tcp", V4_PEER, PORT)[0],
            attempts(ns, "tcp", V6_PEER, PORT)[0]]
    check(all(r["result"] == "ok" for r in done), f"every connection allowed: {done}")
    pid = tsnitch_pid(t)
    keys = tcp_keys(pid)
    for i, (r, family) in enumerate(zip(done, (2, 2, 10))):
        mine = {k: v for k, v in keys.items() if k[1] == r["sport"]}
        if kernel_path and i == 1:
            check(not mine, f"the kernel path passed {r}: no flow key for it: {mine}")
            continue
        check(keys.get((family, r["sport"], PORT)) == r["pid"],
              f"the flow key of {r} names its client (family {family}): {mine}")
    want = {(r["pid"], r["sport"]) for r in done}

    def theirs():
        found = [e for e in t.events() if (e["pid"], e["src_port"]) in want]
        return found if len(found) >= len(want) else None
    ev = wait_for(theirs, timeout=10, interval=0.05) or []
    check(len(ev) == 3 and all(e["process_path"] == PYTHON and e["action"] == "allow"
                               for e in ev),
          "each connection is an event of its client: " +
          str([(e["pid"], e["src_port"], e["process_path"], e["path"]) for e in ev]))
    paths = [next(e["path"] for e in ev if (e["pid"], e["src_port"]) == (r["pid"], r["sport"]))
             for r in done]
    check(paths[1] == ("kernel" if kernel_path else "queue"),
          f"the second IPv4 connection's path: {paths}")


def main():
    cgroup = TestCgroup()
    with NetnsPair() as ns:
        start_peer(ns, tcp=[PORT])
        t = kpath_tsnitch(ns, cgroup, rules=[rule("allow-py", "allow", PORT, "tcp")]).start()
        pid = tsnitch_pid(t)
        check(wait_for(lambda: not holds_sockops(pid), timeout=10, interval=0.05),
              "with the kernel path, tsnitch holds no sockops program")
        connections(ns, t, kernel_path=True)
        t.stop()

        t = kpath_tsnitch(ns, cgroup, rules=[rule("allow-py", "allow", PORT, "tcp")],
                          env_extra={"TSNITCH_KPATH_DISABLE": "1"}).start()
        check(holds_sockops(tsnitch_pid(t)), "without the kernel path, sockops files the keys")
        connections(ns, t, kernel_path=False)
        t.stop()
    print("kpath-tcp-keys: ok")


if __name__ == "__main__":
    main()
