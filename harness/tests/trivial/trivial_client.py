#!/usr/bin/python3
"""Trivial clients for the vacuity check (harness/vacuity.py): clients under
test that do nothing a conformance case is about. Usage:
trivial_client.py MODE, with the echo-client contract's MBWS_* variables.
Plain sockets, no asyncio: hundreds of these start during one vacuity run.
(The exit0 and exit1 targets are the shell commands `exit 0` and `exit 1`.)

Modes:
  close1002  completes the handshake, closes with 1002 at once, exits 1
  subscribe  sends CONNECT, SUBSCRIBEs to MBWS_IN on CONNECTED, then nothing
             (it answers Pings and echoes a Close); exits 0 after a close
             with 1000, else 1
"""
import os
import socket
import struct
import sys

CONNECT = ((1, 1), (6, 16), (8, 65536))  # (field id, integer value): version, credit, max-frame


def mbws_frame(ftype, ints, strings, text):
    """A CONNECT (type 1) or SUBSCRIBE (type 6) in the session encoding."""
    if text:
        names = {1: "version", 4: "sub", 6: "credit", 8: "max-frame", 3: "address"}
        lines = [{1: "CONNECT", 6: "SUBSCRIBE"}[ftype]]
        lines += ["%s:%d" % (names[f], v) for f, v in ints] + ["%s:%s" % (names[f], v) for f, v in strings]
        return ("\n".join(lines) + "\n\n").encode(), 1
    hdr = b"".join(struct.pack(">BHQ", f, 8, v) for f, v in ints)
    hdr += b"".join(struct.pack(">BH", f, len(v.encode())) + v.encode() for f, v in strings)
    return struct.pack(">BBH", ftype, 0, len(hdr)) + hdr, 2


def ws_send(sock, opcode, payload):
    n = len(payload)
    head = struct.pack(">BB", 0x80 | opcode, 0x80 | n) if n < 126 else \
        struct.pack(">BBH", 0x80 | opcode, 0x80 | 126, n)
    sock.sendall(head + b"\0\0\0\0" + payload)  # zero mask key: payload as is


def read_exact(sock, n):
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise ConnectionError("connection lost")
        out += chunk
    return out


def ws_read(sock):
    b0, b1 = read_exact(sock, 2)
    n = b1 & 127
    if n == 126:
        n = struct.unpack(">H", read_exact(sock, 2))[0]
    elif n == 127:
        n = struct.unpack(">Q", read_exact(sock, 8))[0]
    return b0 & 15, read_exact(sock, n)


def main(mode):
    hostport = os.environ["MBWS_URL"].split("//", 1)[1].split("/", 1)[0]
    host, port = hostport.rsplit(":", 1)
    sock = socket.create_connection((host.strip("[]"), int(port)), timeout=30)
    sock.sendall(("GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                  "Sec-WebSocket-Protocol: %s\r\n\r\n"
                  % (hostport, os.environ["MBWS_SUBPROTOCOL"])).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += read_exact(sock, 1)
    if b" 101 " not in head.split(b"\r\n")[0]:
        return 1
    text = os.environ.get("MBWS_ENCODING") == "text"
    if mode == "close1002":
        ws_send(sock, 8, struct.pack(">H", 1002))
    else:
        frame, opcode = mbws_frame(1, CONNECT, (), text)
        ws_send(sock, opcode, frame)
    subscribed = False
    while True:
        try:
            op, payload = ws_read(sock)
        except (ConnectionError, OSError):
            return 1
        if op == 9:
            ws_send(sock, 10, payload)
        elif op == 8:
            code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1005
            if mode != "close1002":
                ws_send(sock, 8, payload[:2])
            return 0 if code == 1000 and mode == "subscribe" else 1
        elif op in (1, 2) and mode == "subscribe" and not subscribed and (
                payload[:1] == b"\x02" or payload.startswith(b"CONNECTED\n")):
            subscribed = True
            frame, opcode = mbws_frame(6, ((4, 1),), ((3, os.environ["MBWS_IN"]),), text)
            ws_send(sock, opcode, frame)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "subscribe"))
