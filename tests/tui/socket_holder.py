"""A process holding a listening TCP socket, a connected TCP socket and a connected UDP socket
(in the client namespace of a NetnsPair). Prints one JSON line: its pid and, per socket, the fd,
inode and local port. Then reads commands from stdin: "close-udp", "open-udp" (prints the new
socket as a JSON line), "stream" (sends 2000 bytes every 20 ms on the TCP connection until
"stop"), "exit"."""
import json
import os
import socket
import sys
import threading
import time

server, peer = sys.argv[1], int(sys.argv[2])
udp_port = int(sys.argv[3])


def info(s):
    return {"fd": s.fileno(), "inode": os.fstat(s.fileno()).st_ino, "port": s.getsockname()[1]}


listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.bind(("10.77.0.1", 7000))
listener.listen()
tcp = socket.create_connection((server, peer))
tcp.sendall(b"x" * 1000)  # the Sent column shows 1000: the payload, not the SYN
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.connect((server, udp_port))
extra = None
streaming = threading.Event()


def stream():
    while streaming.is_set():
        tcp.sendall(b"s" * 2000)
        time.sleep(0.02)


print(json.dumps({"pid": os.getpid(), "listen": info(listener), "tcp": info(tcp), "udp": info(udp)}),
      flush=True)
for line in sys.stdin:
    cmd = line.strip()
    if cmd == "close-udp":
        udp.close()
        print("{}", flush=True)
    elif cmd == "open-udp":
        extra = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        extra.connect((server, udp_port + 1))
        print(json.dumps({"udp2": info(extra)}), flush=True)
    elif cmd == "stream":
        streaming.set()
        threading.Thread(target=stream, daemon=True).start()
        print("{}", flush=True)
    elif cmd == "stop":
        streaming.clear()
        print("{}", flush=True)
    elif cmd == "exit":
        break
