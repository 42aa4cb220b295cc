"""The firewall holds when another program changes the rules, and a decision never outlives the
socket it was made for (issue 16, items 1-3):

1. A reject that filter OUTPUT cannot carry out (the filter table flushed) is a drop: a
   reject-marked SYN never connects, with the rules as tsnitch installs them and nobody repairing
   them; and while another program flushes the filter table in a loop, rejected connections never
   connect and their events say reject.
2. A rule inserted ahead of tsnitch's jump (filter and mangle OUTPUT) is noticed: the jump is put
   back first and rejects and denies hold again. A flush is repaired at once (the log says it was
   noticed at once, through nf_tables' notifications); the number of connections that got through
   under DefaultAction deny during a flush loop is printed.
3. A denied program bound to the UDP source port of a flow that was just allowed (same
   destination) is decided and denied, with an event: connected and unconnected sockets; and a
   denied program's SYN that takes over the conntrack entry of an allowed TCP connection the peer
   reset is decided and denied too.
"""
import os
import shutil
import tempfile
import threading
import time

from netns import require_root, tsnitch_binary, wait_for
from tsnitch_run import (NetnsPair, PYTHON, StderrLines, Tsnitch, V4_PEER, V6_PEER, attempt, check,
                         rule, start_peer)

require_root()

OPEN, REJECTED, DENIED = 8601, 8602, 8603  # TCP: allowed, rejected by rule, no rule (deny)
UDP_CONNECTED, UDP_UNCONNECTED = 9601, 9602
TCP_RESET = 8604  # the peer accepts and resets at once
REJECT_MARK = "0x0b000000/0x0f000000"

# Opens a TCP connection to HOST:PORT every 5 ms for SECONDS seconds (non-blocking, at that pace
# whether they connect or not), waits for the stragglers' SYN retransmits, and prints how many
# connected and how many were tried.
FLOOD = r"""
import errno, select, socket, sys, time
host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
poll = select.poll(); socks = {}; through = tried = 0
def reap(timeout_ms):
    global through
    for fd, ev in poll.poll(timeout_ms):
        s = socks.pop(fd); poll.unregister(fd)
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0: through += 1
        s.close()
start = time.monotonic()
while time.monotonic() < start + seconds:
    s = socket.socket(); s.setblocking(False)
    if s.connect_ex((host, port)) in (0, errno.EINPROGRESS):
        socks[s.fileno()] = s; poll.register(s, select.POLLOUT); tried += 1
    else:
        s.close()
    slot = start + tried * 0.005
    while time.monotonic() < slot:
        reap(max(1, int((slot - time.monotonic()) * 1000)))
late = time.monotonic() + 1.5
while socks and time.monotonic() < late:
    reap(50)
print(through, tried, flush=True)
"""

# Binds UDP source port SPORT, sends N datagrams to HOST:PORT (connected or with sendto) and
# waits up to 1 s for each echo; prints how many came back.
UDP_CLIENT = r"""
import socket, sys
host, port, sport, n, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", sport)); s.settimeout(1)
if mode == "connected": s.connect((host, port))
echoed = 0
for i in range(n):
    if mode == "connected": s.send(b"x%d" % i)
    else: s.sendto(b"x%d" % i, (host, port))
    try:
        if s.recv(64): echoed += 1
    except socket.timeout:
        pass
print(echoed, flush=True)
"""


# The peer's server on TCP_RESET: accepts and closes with a RST (SO_LINGER 0), which leaves the
# client's conntrack entry in CLOSE with the RST seen from the peer: a new SYN on the same ports
# takes that entry over instead of making a new one.
# Each accepted connection's source port is appended to the file LOG.
RESET_SERVER = r"""
import socket, struct, sys
port, log = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("::", port)); s.listen(16)
print("ready", flush=True)
while True:
    c, addr = s.accept()
    with open(log, "a") as f: f.write("%d\n" % addr[1])
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.close()
"""

# Connects from TCP source port SPORT; prints ok / timeout / refused (any other error: the peer
# resets at once, which may come before connect() returns).
TCP_CLIENT = r"""
import socket, sys
host, port, sport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", sport)); s.settimeout(2)
try:
    s.connect((host, port)); print("ok")
except socket.timeout:
    print("timeout")
except OSError:
    print("refused")
"""


def iptables(ns, *args):
    return ns.run(ns.client, ["iptables", "-w"] + list(args), check=False)


def first_rule(ns, table, chain):
    out = iptables(ns, "-t", table, "-S", chain).stdout.splitlines()
    rules = [line for line in out if line.startswith("-A ")]
    return rules[0] if rules else ""


def jumps_first(ns):
    return (first_rule(ns, "filter", "OUTPUT") == "-A OUTPUT -j TSNITCH-VERDICT" and
            first_rule(ns, "mangle", "OUTPUT") == "-A OUTPUT -j TSNITCH-OUT")


def intact(ns):
    return jumps_first(ns) and "-A TSNITCH-VERDICT" in iptables(ns, "-S").stdout and \
        "-A TSNITCH-OUT" in iptables(ns, "-t", "mangle", "-S").stdout


def flush_loop(ns, stop, tables, pause):
    """Another program flushing tables until `stop` is set; returns the thread."""
    def run():
        while not stop.is_set():
            for table in tables:
                iptables(ns, "-t", table, "-F")
            time.sleep(pause)
    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th


with NetnsPair() as ns:
    peer = start_peer(ns, tcp=(OPEN, REJECTED, DENIED), udp=(UDP_CONNECTED, UDP_UNCONNECTED))
    accepted_log = tempfile.mktemp(prefix="tsnitch-fwguard-accepted-")
    resetter = ns.popen(ns.peer, [PYTHON, "-c", RESET_SERVER, str(TCP_RESET), accepted_log], text=True)
    check(resetter.stdout.readline().strip() == "ready", "the resetting server listens")
    rules = [rule("allow-open", "allow", OPEN), rule("reject-port", "reject", REJECTED),
             rule("allow-udp-c", "allow", UDP_CONNECTED), rule("allow-udp-u", "allow", UDP_UNCONNECTED),
             rule("allow-reset", "allow", TCP_RESET)]

    # 1a. The kernel rules alone: tsnitch killed (its rules stay; QueueBypass lets packets past
    # the queue unmarked), a raw-table rule marks SYNs to REJECTED as a reject verdict would.
    t = Tsnitch(ns, rules).start()
    t.stop("KILL")
    for tool, peer in (("iptables", V4_PEER), ("ip6tables", V6_PEER)):
        xt = lambda *a: ns.run(ns.client, [tool, "-w"] + list(a), check=False)  # noqa: E731
        xt("-t", "raw", "-A", "OUTPUT", "-p", "tcp", "--dport", str(REJECTED), "-j", "MARK",
           "--set-xmark", REJECT_MARK)
        check(attempt(ns, "tcp", peer, REJECTED, timeout=2) == "refused",
              f"{tool}: a reject-marked SYN is answered by filter OUTPUT's REJECT")
        xt("-F")  # filter only, as `iptables -F` does
        got = attempt(ns, "tcp", peer, REJECTED, timeout=2)
        check(got == "timeout",
              f"{tool}: filter flushed: the reject-marked SYN is dropped, not let through ({got})")
        check(attempt(ns, "tcp", peer, OPEN, timeout=2) == "ok", f"{tool}: unmarked traffic passes")
        xt("-t", "raw", "-F")

    # A fresh start replaces the stale rules. Its stderr is read as it comes (the log lines).
    # What follows tests how netfilter carries out the queue's verdicts, so the kernel path
    # (which would answer repeated rejects with EPERM before any packet) is off.
    t = Tsnitch(ns, rules, env=dict(os.environ, TSNITCH_KPATH_DISABLE="1")).start()
    log = StderrLines(t)

    # `check` asks what `run` asks: the same backend, and the nft probe's answer in words.
    rows = dict(line.split(":", 1) for line in ns.run(ns.client, [tsnitch_binary(), "check"]).stdout
                .splitlines() if ":" in line and not line.startswith(" "))
    nft_row = rows.get("nft queue expression", "").strip()
    check(nft_row in ("available", "not available: the kernel has no nft queue expression",
                      "not available: nft not installed"),
          f"check: the nft queue probe says what it found, not nft's raw error ({nft_row!r})")
    backend = rows.get("firewall (auto)", "").strip()
    check(wait_for(lambda: "intercepting:" in log.text()) and f", {backend} (" in log.text(),
          f"check's firewall (auto) ({backend}) is what run picked: {log.text().splitlines()[:1]}")
    check(attempt(ns, "tcp", V4_PEER, REJECTED, timeout=2) == "refused", "running: rejected")
    check(attempt(ns, "tcp", V4_PEER, OPEN, timeout=2) == "ok", "running: allowed")

    # 2a. A rule ahead of ours in filter OUTPUT would let rejects pass for good: it is noticed and
    # our jump is put back first; the reject holds.
    iptables(ns, "-I", "OUTPUT", "1", "-p", "tcp", "--syn", "-j", "ACCEPT")
    check(wait_for(lambda: jumps_first(ns), timeout=15, interval=0.1),
          f"filter OUTPUT: tsnitch's jump is first again ({first_rule(ns, 'filter', 'OUTPUT')})")
    check("-A OUTPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j ACCEPT" in
          iptables(ns, "-S", "OUTPUT").stdout, "the other program's rule stays (after ours)")
    got = attempt(ns, "tcp", V4_PEER, REJECTED, timeout=2)
    check(got == "refused", f"with a rule inserted ahead, the reject holds ({got})")
    # The same in mangle OUTPUT, where an ACCEPT ahead would skip the queue.
    iptables(ns, "-t", "mangle", "-I", "OUTPUT", "1", "-p", "tcp", "-j", "ACCEPT")
    check(wait_for(lambda: jumps_first(ns), timeout=15, interval=0.1),
          f"mangle OUTPUT: tsnitch's jump is first again ({first_rule(ns, 'mangle', 'OUTPUT')})")
    got = attempt(ns, "tcp", V4_PEER, DENIED, timeout=1)
    check(got == "timeout", f"with a rule inserted ahead in mangle, DefaultAction deny holds ({got})")
    iptables(ns, "-D", "OUTPUT", "-p", "tcp", "--syn", "-j", "ACCEPT")
    iptables(ns, "-t", "mangle", "-D", "OUTPUT", "-p", "tcp", "-j", "ACCEPT")
    check(wait_for(lambda: intact(ns), timeout=15, interval=0.1), "rules intact again")

    # 2b. A flush is noticed at once (nf_tables notification), not by a periodic check.
    iptables(ns, "-F")
    check(wait_for(lambda: intact(ns), timeout=15, interval=0.05), "a flush of filter is repaired")
    check(wait_for(lambda: "noticed at once" in log.text(), timeout=5),
          "the log says the change was noticed at once: " +
          next((line for line in log.text().splitlines() if "firewall rules" in line), "(nothing)"))

    # 1b. Filter flushed in a loop: rejected connections never connect; the events say reject.
    before = sum(1 for e in t.events() if e["action"] == "reject")
    stop = threading.Event()
    th = flush_loop(ns, stop, ["filter"], 0.02)
    r = ns.run(ns.client, [PYTHON, "-c", FLOOD, V4_PEER, str(REJECTED), "2"], timeout=60)
    stop.set()
    th.join()
    through, tried = map(int, r.stdout.split())
    check(tried > 0 and through == 0,
          f"filter flushed every 20 ms: 0 of {tried} rejected connections connected ({through})")
    check(wait_for(lambda: intact(ns), timeout=15, interval=0.05),
          "rules intact after the loop; log: " + log.text()[-600:])
    rejects = sum(1 for e in t.events() if e["action"] == "reject") - before
    check(rejects > 0 and all(e["action"] == "reject" for e in t.events()
                              if e["dst_port"] == REJECTED),
          f"every decision for the rejected port says reject ({rejects} new)")

    # 2c. Both tables flushed in a loop (the queue rule goes too): how many connections under
    # DefaultAction deny get through before each repair. Reported, not asserted (it depends on
    # the machine's speed); the issue measured 106-124 in one 3.5 s window with a 5 s check.
    stop = threading.Event()
    th = flush_loop(ns, stop, ["filter", "mangle"], 0.25)
    r = ns.run(ns.client, [PYTHON, "-c", FLOOD, V4_PEER, str(DENIED), "3"], timeout=60)
    stop.set()
    th.join()
    through, tried = map(int, r.stdout.split())
    print(f"flush loop (filter+mangle every 250 ms, 3 s): {through} of {tried} denied "
          f"connections got through")
    check(wait_for(lambda: intact(ns), timeout=15, interval=0.05),
          "rules intact after the loop; log: " + log.text()[-600:])
    check(attempt(ns, "tcp", V4_PEER, DENIED, timeout=1) == "timeout", "and deny holds")

    # 3. A reused UDP tuple: an allowed program's flow, then a denied one on the same source port
    # to the same destination. The denied program is a copy of the interpreter (another path).
    tmp = tempfile.mkdtemp(prefix="tsnitch-fwguard-")
    denied_python = os.path.join(tmp, "denied-python")
    shutil.copy2(PYTHON, denied_python)
    try:
        for port, sport, mode, peer in ((UDP_CONNECTED, 40601, "connected", V4_PEER),
                                        (UDP_UNCONNECTED, 40602, "unconnected", V4_PEER),
                                        (UDP_CONNECTED, 40611, "connected", V6_PEER),
                                        (UDP_UNCONNECTED, 40612, "unconnected", V6_PEER)):
            mode_name = f"{mode} [{peer}]"
            r = ns.run(ns.client, [PYTHON, "-c", UDP_CLIENT, peer, str(port), str(sport), "2", mode])
            check(r.stdout.strip() == "2", f"{mode_name}: the allowed program's 2 datagrams echoed")
            r = ns.run(ns.client, [denied_python, "-c", UDP_CLIENT, peer, str(port), str(sport),
                                   "2", mode])
            check(r.stdout.strip() == "0",
                  f"{mode_name}: the denied program on the same source port got 0 of 2 through "
                  f"({r.stdout.strip()})")
            ok = wait_for(lambda: any(e["process_path"] == denied_python and e["src_port"] == sport
                                      and e["action"] == "deny" for e in t.events()), timeout=5)
            check(ok, f"{mode_name}: its flow was decided: a deny event names it")
        # TCP: a connection reset by the peer leaves a conntrack entry (allow-marked) that a new
        # SYN on the same ports takes over; the SYN is still queued and decided.
        sport = 40603
        def accepted():
            with open(accepted_log) as f:
                return f.read().split().count(str(sport))
        ns.run(ns.client, [PYTHON, "-c", TCP_CLIENT, V4_PEER, str(TCP_RESET), str(sport)])
        check(wait_for(lambda: accepted() == 1), "tcp: the allowed program's connection was accepted")
        r = ns.run(ns.client, [denied_python, "-c", TCP_CLIENT, V4_PEER, str(TCP_RESET), str(sport)])
        check(r.stdout.strip() == "timeout",
              f"tcp: the denied program on the same ports does not connect ({r.stdout.strip()})")
        ok = wait_for(lambda: any(e["process_path"] == denied_python and e["src_port"] == sport
                                  and e["action"] == "deny" for e in t.events()), timeout=5)
        check(ok, "tcp: its connection was decided: a deny event names it")
        check(accepted() == 1, f"tcp: the peer accepted only the allowed program's connection "
                               f"({accepted()} from port {sport})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if os.path.exists(accepted_log):
            os.unlink(accepted_log)

    check(t.stop() == 0, "SIGTERM: exit 0")
    problems = ("checking the firewall rules", "conntrack", "not followed", "notification")
    errors = [line for line in log.wait_closed().splitlines() if any(p in line for p in problems)]
    check(not errors, f"no errors logged ({errors})")
