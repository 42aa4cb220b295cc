"""One sending case of the attribution truth corpus (truth_test.py), run inside the client
namespace. Prints one JSON line per flow it made: what tsnitch must name for it —
{"proto", "dst", "dport", "pid" (as the host sees it), "exe", "args" (a word that must be in the
arguments, or null)}. Usage: truth_sender.py MODE DST DPORT [EXTRA...]
"""
import ctypes
import json
import os
import socket
import struct
import sys
import threading

mode, dst, dport = sys.argv[1], sys.argv[2], int(sys.argv[3])
extra = sys.argv[4:]
FAM = socket.AF_INET6 if ":" in dst else socket.AF_INET
EXE = os.readlink("/proc/self/exe")


def host_pid():
    """This process's pid in the host's pid namespace (/proc is the host's here)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("NSpid:"):
                return int(line.split()[1])
    return os.getpid()


def say(proto, d, port, pid=None, exe=EXE, args=None):
    print(json.dumps({"proto": proto, "dst": d, "dport": port, "pid": pid or host_pid(),
                      "exe": exe, "args": args}), flush=True)


def udp_socket(fam=FAM):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    return s


def addr(d, port):
    if "%" in d:
        return socket.getaddrinfo(d, port, socket.AF_INET6, socket.SOCK_DGRAM)[0][4]
    return (d, port)


def echo_request(ident, v6):
    # ICMPv6 checksums are the kernel's; for ICMP, computed here.
    body = struct.pack("!BBHHH", 128 if v6 else 8, 0, 0, ident, 1) + b"tsnitch"
    if v6:
        return body
    padded = body + b"\0" * (len(body) % 2)
    total = sum(struct.unpack("!%dH" % (len(padded) // 2), padded))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return body[:2] + struct.pack("!H", ~total & 0xffff) + body[4:]


if mode == "tcp-short":
    # Connects without waiting and exits: the socket and the process are gone before the SYN is
    # decided.
    s = socket.socket(FAM, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect((dst, dport))
    except BlockingIOError:
        pass
    say("tcp", dst, dport)
    os._exit(0)
elif mode == "udp-short":
    udp_socket().sendto(b"x", addr(dst, dport))
    say("udp", dst.split("%")[0], dport)
elif mode in ("udp-connected-fork", "udp-connected-fork-write"):
    # The parent connects (binding the port), the child sends on the inherited socket (send(2),
    # or write(2) on its fd).
    s = udp_socket()
    s.connect((dst, dport))
    r, w = os.pipe()
    child = os.fork()
    if child == 0:
        if mode == "udp-connected-fork":
            s.send(b"x")
        else:
            os.write(s.fileno(), b"x")
        os.write(w, str(host_pid()).encode())
        os._exit(0)
    os.waitpid(child, 0)
    say("udp", dst, dport, pid=int(os.read(r, 64)))
elif mode == "udp-connected-thread":
    s = udp_socket()
    s.connect((dst, dport))
    t = threading.Thread(target=lambda: s.send(b"x"))
    t.start()
    t.join()
    say("udp", dst, dport)
elif mode in ("icmp-raw", "icmp-dgram"):
    v6 = FAM == socket.AF_INET6
    proto = socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP
    kind = socket.SOCK_RAW if mode == "icmp-raw" else socket.SOCK_DGRAM
    s = socket.socket(FAM, kind, proto)
    s.sendto(echo_request(os.getpid() & 0xffff, v6), (dst, 0))
    say("icmp6" if v6 else "icmp", dst, 0)
elif mode == "exec-after-send":
    # Sends, then becomes another program at once: the datagram is still this program's.
    udp_socket().sendto(b"x", (dst, dport))
    say("udp", dst, dport)
    sys.stdout.flush()
    os.execv("/bin/true", ["/bin/true"])
elif mode == "exec-then-send":
    # Sends as python (so that its identity is cached), then execs a C program that sends too:
    # the second flow is the C program's. extra: the C sender, its destination port.
    udp_socket().sendto(b"x", (dst, dport))
    say("udp", dst, dport)
    sender, port2 = extra[0], int(extra[1])
    say("udp", dst, port2, exe=os.path.realpath(sender))
    sys.stdout.flush()
    os.execv(sender, [sender, dst, str(port2)])
elif mode == "memfd":
    # A fileless program: the C sender copied into a memfd and executed from there.
    with open(extra[0], "rb") as f:
        code = f.read()
    fd = os.memfd_create("tsn-truth")
    os.write(fd, code)
    say("udp", dst, dport, exe="/memfd:tsn-truth (deleted)")
    sys.stdout.flush()
    os.execv(f"/proc/self/fd/{fd}", ["sender", dst, str(dport)])
elif mode == "sendmmsg":
    # Two datagrams to two ports in one sendmmsg(2) on an unconnected socket.
    libc = ctypes.CDLL(None, use_errno=True)

    class iovec(ctypes.Structure):
        _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]

    class msghdr(ctypes.Structure):
        _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32),
                    ("iov", ctypes.POINTER(iovec)), ("iovlen", ctypes.c_size_t),
                    ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                    ("flags", ctypes.c_int)]

    class mmsghdr(ctypes.Structure):
        _fields_ = [("hdr", msghdr), ("len", ctypes.c_uint)]

    s = udp_socket(socket.AF_INET)
    payload = ctypes.create_string_buffer(b"x")
    iov = iovec(ctypes.cast(payload, ctypes.c_void_p), 1)
    msgs = (mmsghdr * 2)()
    names = []
    for i, port in enumerate((dport, dport + 1)):
        sa = (struct.pack("=H", socket.AF_INET) + struct.pack("!H", port) +
              socket.inet_aton(dst) + bytes(8))  # struct sockaddr_in
        buf = ctypes.create_string_buffer(sa, len(sa))
        names.append(buf)
        msgs[i].hdr.name = ctypes.cast(buf, ctypes.c_void_p)
        msgs[i].hdr.namelen = len(sa)
        msgs[i].hdr.iov = ctypes.pointer(iov)
        msgs[i].hdr.iovlen = 1
    if libc.sendmmsg(s.fileno(), msgs, 2, 0) != 2:
        raise SystemExit("sendmmsg: " + os.strerror(ctypes.get_errno()))
    say("udp", dst, dport)
    say("udp", dst, dport + 1)
elif mode == "broadcast":
    s = udp_socket(socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.sendto(b"x", (dst, dport))
    say("udp", dst, dport)
elif mode == "multicast":
    s = udp_socket(socket.AF_INET)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(extra[0]))
    s.sendto(b"x", (dst, dport))
    say("udp", dst, dport)
elif mode == "reuseport":
    # Two processes on one SO_REUSEPORT port, each to its own destination port.
    r, w = os.pipe()
    pids = []
    for port in (dport, dport + 1):
        child = os.fork()
        if child == 0:
            s = udp_socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            s.bind(("", int(extra[0])))
            s.sendto(b"x", (dst, port))
            os.write(w, f"{host_pid()}\n".encode())
            os._exit(0)
        os.waitpid(child, 0)
        pids.append(int(os.read(r, 64)))
    say("udp", dst, dport, pid=pids[0])
    say("udp", dst, dport + 1, pid=pids[1])
else:
    raise SystemExit(f"unknown mode {mode}")
