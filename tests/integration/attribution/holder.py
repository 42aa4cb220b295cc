"""A test program that opens sockets and keeps them until stdin closes.

Usage: holder.py SPEC...   where each SPEC is one of
  tcp4:HOST:PORT      connected TCP over IPv4
  tcp6:HOST:PORT      connected TCP over IPv6 (HOST without brackets)
  dual:HOST:PORT      AF_INET6 socket connected to an IPv4 peer (::ffff:HOST)
  udp4:HOST:PORT      unconnected UDP, one sendto()
  udp6:HOST:PORT      same over IPv6
  bound4:ADDR:HOST:PORT   UDP bound to ADDR with SO_BROADCAST, one sendto()
  wild4:PORT / wild6only:PORT   UDP bound to the wildcard with SO_REUSEADDR (IPv6-only)
  listen4:PORT        TCP listener on 0.0.0.0
  unixabs:NAME / unixpath:PATH / unixanon   unix stream sockets
Prints one JSON line {"pid", "exe", "sockets": [{"spec", "fd", "local": [addr, port], ...}]}.
"""
import json
import os
import socket
import sys


def main():
    out = []
    keep = []
    for spec in sys.argv[1:]:
        kind, _, rest = spec.partition(":")
        info = {"spec": spec}
        if kind in ("tcp4", "tcp6", "dual"):
            host, port = rest.rsplit(":", 1)
            fam = socket.AF_INET if kind == "tcp4" else socket.AF_INET6
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.connect(("::ffff:" + host if kind == "dual" else host, int(port)))
        elif kind in ("udp4", "udp6"):
            host, port = rest.rsplit(":", 1)
            s = socket.socket(socket.AF_INET if kind == "udp4" else socket.AF_INET6, socket.SOCK_DGRAM)
            s.sendto(b"x", (host, int(port)))
        elif kind == "bound4":
            addr, host, port = rest.split(":")
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            s.bind((addr, 0))
            s.sendto(b"x", (host, int(port)))
        elif kind in ("wild4", "wild6only"):
            s = socket.socket(socket.AF_INET if kind == "wild4" else socket.AF_INET6, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if kind == "wild6only":
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind(("0.0.0.0" if kind == "wild4" else "::", int(rest)))
        elif kind == "listen4":
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("0.0.0.0", int(rest)))
            s.listen()
        elif kind == "unixabs":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind("\0" + rest)
        elif kind == "unixpath":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(rest)
            s.listen()
        elif kind == "unixanon":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            raise SystemExit(f"unknown spec {spec}")
        keep.append(s)
        info["fd"] = s.fileno()
        if s.family != socket.AF_UNIX:
            info["local"] = list(s.getsockname()[:2])
            try:
                info["peer"] = list(s.getpeername()[:2])
            except OSError:
                info["peer"] = None
        out.append(info)
    print(json.dumps({"pid": os.getpid(), "exe": os.readlink("/proc/self/exe"), "sockets": out}),
          flush=True)
    sys.stdin.read()


main()
