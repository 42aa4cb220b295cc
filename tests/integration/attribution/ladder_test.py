"""The attribution ladder (diag and proc) on real sockets of known test programs: TCP and UDP,
IPv4 and IPv6, a dual-stack socket talking to an IPv4 peer, a UDP sender bound to another address,
and two programs sharing a port — each tuple goes to the right pid and exe, and a tuple no socket
has goes to nobody."""
import json
import os
import subprocess
import sys

from netns import (ACCEPTING_SERVER, NetnsPair, V4_CLIENT, V4_PEER, V6_CLIENT, V6_PEER, require_root,
                   tsnitch_binary)

HERE = os.path.dirname(os.path.abspath(__file__))


def probe_binary():
    build = os.path.dirname(os.path.dirname(os.path.abspath(tsnitch_binary())))
    path = os.path.join(build, "tests", "integration", "attribution", "attribute_probe")
    if not os.access(path, os.X_OK):
        raise SystemExit(f"attribute_probe not built at {path}")
    return path


def start_holder(ns, specs):
    p = ns.popen(ns.client, [sys.executable, os.path.join(HERE, "holder.py")] + specs,
                 stdin=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line:
        raise SystemExit("holder failed: " + p.stderr.read())
    h = json.loads(line)
    h["by"] = {s["spec"].split(":")[0]: s for s in h["sockets"]}
    return h


def main():
    require_root()
    probe = probe_binary()
    failures = []
    with NetnsPair() as ns:
        srv = ns.popen(ns.peer, [sys.executable, "-c", ACCEPTING_SERVER], text=True)
        assert srv.stdout.readline().strip() == "ready"
        a = start_holder(ns, [f"tcp4:{V4_PEER}:8080", f"tcp6:{V6_PEER}:8080", f"dual:{V4_PEER}:8080",
                              f"udp4:{V4_PEER}:9999", f"udp6:{V6_PEER}:9999",
                              "bound4:10.77.0.1:10.77.0.255:8612"])
        b = start_holder(ns, ["wild6only:5353"])
        c = start_holder(ns, ["wild4:5353"])

        def port(h, kind):
            return h["by"][kind]["local"][1]

        cases = [
            # (what, tuple, holder or None, socket family)
            ("tcp ipv4", ("tcp", V4_CLIENT, port(a, "tcp4"), V4_PEER, 8080), a, "ipv4"),
            ("tcp ipv6", ("tcp", V6_CLIENT, port(a, "tcp6"), V6_PEER, 8080), a, "ipv6"),
            ("dual-stack socket, ipv4 peer", ("tcp", V4_CLIENT, port(a, "dual"), V4_PEER, 8080), a, "ipv6"),
            ("udp ipv4 sendto", ("udp", V4_CLIENT, port(a, "udp4"), V4_PEER, 9999), a, "ipv4"),
            ("udp ipv6 sendto", ("udp", V6_CLIENT, port(a, "udp6"), V6_PEER, 9999), a, "ipv6"),
            ("udp broadcast from a socket bound elsewhere",
             ("udp", "10.77.0.5", port(a, "bound4"), "10.77.0.255", 8612), a, "ipv4"),
            ("shared port, ipv4 packet", ("udp", V4_CLIENT, 5353, "224.0.0.251", 5353), c, "ipv4"),
            ("shared port, ipv6 packet", ("udp", V6_CLIENT, 5353, "ff02::fb", 5353), b, "ipv6"),
            ("no such socket", ("tcp", V4_CLIENT, 1, V4_PEER, 8080), None, None),
        ]
        for method in ("diag", "proc"):
            for flags in ([], ["--cold"]):
                for what, tup, holder, family in cases:
                    args = [probe, "--method", method] + flags + [str(x) for x in tup]
                    r = ns.run(ns.client, args, check=False)
                    label = f"[{method}{' cold' if flags else ''}] {what}"
                    try:
                        got = json.loads(r.stdout)
                    except ValueError:
                        failures.append(f"{label}: probe said {r.stdout!r} {r.stderr!r}")
                        continue
                    if holder is None:
                        ok = got.get("pid") is None
                    else:
                        ok = (got.get("pid") == holder["pid"] and got.get("path") == holder["exe"]
                              and got.get("method") == method and got.get("socket_family") == family)
                    print(("ok   " if ok else "FAIL ") + label + ": " + r.stdout.strip())
                    if not ok:
                        failures.append(label)
    if failures:
        print("failed:", *failures, sep="\n  ")
        sys.exit(1)


main()
