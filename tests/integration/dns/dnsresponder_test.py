"""The test DNS responder answers what its map says, over UDP and TCP, and goes away with its parent.

On loopback (127.0.0.1, a port the kernel picks) always; as root also across a private namespace
pair, on port 53 of the peer's IPv4 and IPv6 addresses, as the firewall tests use it.
"""
import os
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import dnsresponder  # noqa: E402
import netns  # noqa: E402

RESPONDER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "dnsresponder.py")
MAP = ["--record", "example.test=10.77.0.2", "--record", "example.test=fd77::2",
       "--cname", "www.example.test=edge.example.test", "--cname", "edge.example.test=example.test"]


def start(args, prefix=()):
    p = subprocess.Popen(list(prefix) + [sys.executable, RESPONDER, "serve"] + args + MAP,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line.startswith("ready "):
        p.kill()
        raise SystemExit(f"responder did not start: {line!r} {p.stderr.read()}")
    return p, int(line.split()[1])


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        raise AssertionError("responder ignored SIGTERM")


def expect(actual, wanted, what):
    if actual != wanted:
        raise AssertionError(f"{what}: got {actual!r}, expected {wanted!r}")


def check_answers(server, port):
    for tcp in (False, True):
        how = f"{server}:{port} {'tcp' if tcp else 'udp'}"
        expect(dnsresponder.resolve(server, "example.test", port=port, tcp=tcp), ["10.77.0.2"],
               f"{how} A example.test")
        expect(dnsresponder.resolve(server, "example.test", "AAAA", port=port, tcp=tcp), ["fd77::2"],
               f"{how} AAAA example.test")
        expect(dnsresponder.resolve(server, "Example.TEST", port=port, tcp=tcp), ["10.77.0.2"],
               f"{how} names are case-insensitive")
        r = dnsresponder.query(server, "www.example.test", port=port, tcp=tcp)
        expect([(n, t, v) for n, t, v, _ttl in r["answers"]],
               [("www.example.test", dnsresponder.TYPE_CNAME, "edge.example.test"),
                ("edge.example.test", dnsresponder.TYPE_CNAME, "example.test"),
                ("example.test", dnsresponder.TYPE_A, "10.77.0.2")], f"{how} CNAME chain")
        r = dnsresponder.query(server, "missing.test", port=port, tcp=tcp)
        expect((r["rcode"], r["answers"]), (dnsresponder.NXDOMAIN, []), f"{how} unknown name")


def loopback():
    p, port = start(["--listen", "127.0.0.1", "--port", "0"])
    try:
        check_answers("127.0.0.1", port)
        # Garbage and answers sent to it get no reply, and it keeps serving.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"\x00\x01garbage", ("127.0.0.1", port))
            s.sendto(dnsresponder.Zone([("a.test", "10.0.0.1")]).answer(
                dnsresponder.build_query("a.test")), ("127.0.0.1", port))
        expect(dnsresponder.resolve("127.0.0.1", "example.test", port=port), ["10.77.0.2"],
               "still serving after garbage")
    finally:
        stop(p)
    expect(p.returncode, 0, "exit status after SIGTERM")


def dies_with_parent():
    # A parent that starts the responder and is killed: the responder must not outlive it.
    parent = subprocess.Popen(
        [sys.executable, "-c",
         "import subprocess, sys, time\n"
         f"p = subprocess.Popen([sys.executable, {RESPONDER!r}, 'serve', '--listen', '127.0.0.1',"
         " '--port', '0'], stdout=subprocess.PIPE)\n"
         "sys.stdout.write(str(p.pid) + ' ' + p.stdout.readline().decode()); sys.stdout.flush()\n"
         "time.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline().split()[0])
    parent.kill()
    parent.wait()

    def gone():
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return True
        return False

    if not netns.wait_for(gone, timeout=10):
        os.kill(child, signal.SIGKILL)
        raise AssertionError("responder outlived its parent")


def namespaces():
    with netns.NetnsPair() as ns:
        p, port = start(["--listen", netns.V4_PEER, "--listen", netns.V6_PEER, "--port", "53"],
                        prefix=ns.cmd(ns.peer, []))
        try:
            expect(port, 53, "port")
            for server in (netns.V4_PEER, netns.V6_PEER):
                # The client runs in the client namespace, as a firewalled program would.
                for extra in ([], ["--tcp"]):
                    out = ns.run(ns.client, [sys.executable, RESPONDER, "query", server,
                                             "www.example.test"] + extra).stdout.split()
                    expect(out, ["10.77.0.2"], f"query from the client namespace to {server} {extra}")
            # Look up, then connect (the responder's own TCP port serves as the service).
            r = ns.run(ns.client, [sys.executable, RESPONDER, "query", netns.V4_PEER,
                                   "example.test", "--connect", "53"])
            expect(r.stdout.split(), ["10.77.0.2", "connected", "10.77.0.2"], "query --connect")
            r = ns.run(ns.client, [sys.executable, RESPONDER, "query", netns.V6_PEER, "example.test",
                                   "--type", "AAAA", "--connect", "9"], check=False)
            expect(r.returncode, 2, f"query --connect to a closed port: {r.stdout}")
        finally:
            stop(p)


def main():
    loopback()
    print("ok: loopback UDP and TCP answers, NXDOMAIN, CNAME chain, SIGTERM")
    dies_with_parent()
    print("ok: exits with its parent")
    if os.geteuid() != 0 or not netns.shutil.which("ip"):
        print("namespace part skipped: needs root and iproute2")
        return 0
    namespaces()
    print("ok: port 53 in a peer namespace, IPv4 and IPv6, UDP and TCP")
    return 0


if __name__ == "__main__":
    sys.exit(main())
