#!/usr/bin/python3
"""A hostile stand-in broker: it answers the upgrade and CONNECT like a
broker, then misbehaves as named by the request path
(ws://127.0.0.1:PORT/MODE), to show that whatever a target sends ends as a
clear verdict with bounded time, memory and disk (issue 15).

Modes: flood (valid FLOW frames, as fast as the socket takes them),
ping-flood (Pings without pause), fragments (a message that never ends:
1-octet continuation frames without FIN), bad-close (a close frame whose
reason is not UTF-8), escape (an ERROR text and a close reason carrying
terminal escape sequences), bad-protocol (a Sec-WebSocket-Protocol value
that is not UTF-8). Every connection ends after 30 s at most. Prints
"PORT <n>" once listening.
"""
import socket
import struct
import sys
import threading
import time

from mbws_wire import accept_key, decode, encode, parse_head

LIFETIME_S = 30
MODES = ("flood", "ping-flood", "fragments", "bad-close", "escape", "bad-protocol")


def frame(opcode, payload, fin=True):
    n = len(payload)
    b0 = (0x80 if fin else 0) | opcode
    if n < 126:
        return struct.pack(">BB", b0, n) + payload
    if n < 65536:
        return struct.pack(">BBH", b0, 126, n) + payload
    return struct.pack(">BBQ", b0, 127, n) + payload


def read_frame(sock, buf):
    """One frame from the client (masked): (opcode, payload); buf carries leftovers."""
    while True:
        if len(buf) >= 2:
            n, p = buf[1] & 127, 2
            if n == 126 and len(buf) >= 4:
                n, p = struct.unpack(">H", buf[2:4])[0], 4
            elif n == 127 and len(buf) >= 10:
                n, p = struct.unpack(">Q", buf[2:10])[0], 10
            if n < 126 or p > 2:
                masked = buf[1] & 0x80
                end = p + (4 if masked else 0) + n
                if len(buf) >= end:
                    key = buf[p:p + 4] if masked else b"\0\0\0\0"
                    body = bytes(c ^ key[i % 4] for i, c in enumerate(buf[end - n:end]))
                    op = buf[0] & 15
                    del buf[:end]
                    return op, body
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk


def handshake(sock):
    """Answers the upgrade; returns (mode, subprotocol, leftover octets)."""
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        head += chunk
    head, rest = head.split(b"\r\n\r\n", 1)
    line, hdrs = parse_head(head + b"\r\n\r\n")
    parts = line.split(" ")
    mode = parts[1].strip("/") if len(parts) > 1 else ""
    mode = mode if mode in MODES else "flood"
    offered = [s.strip() for s in hdrs.get("sec-websocket-protocol", "").split(",") if s.strip()]
    sp = offered[0] if offered else "MBWS.huawei.com"
    proto = b"MBWS.\xff\x1b[2Jhuawei.com" if mode == "bad-protocol" else sp.encode()
    sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Accept: " +
                 accept_key(hdrs.get("sec-websocket-key", "")).encode() +
                 b"\r\nSec-WebSocket-Protocol: " + proto + b"\r\n\r\n")
    return mode, sp, bytearray(rest)


def connected(sock, buf, sp):
    """Reads CONNECT, answers CONNECTED; returns the encoding (text?)."""
    op, body = read_frame(sock, buf)
    text = op == 1
    try:
        decode(body, text)
    except Exception:
        pass
    fields = [("version", 1), ("credit", 16), ("max-frame", 65536)]
    if sp == "MBWS.huawei.com":
        fields += [("session", "Thostile"), ("session-expiry", 60), ("resumed", 0)]
    sock.sendall(frame(1 if text else 2, encode("CONNECTED", fields, b"", text)))
    return text


def drain(sock, stop):
    """Reads and drops what the engine sends, so only the flood is measured
    (blocking: a timeout here would apply to the flooding sends too)."""
    while not stop.is_set():
        try:
            if not sock.recv(65536):
                break
        except OSError:
            break


def blast(sock, chunk, deadline):
    while time.monotonic() < deadline:
        sock.sendall(chunk)


def serve(sock):
    deadline = time.monotonic() + LIFETIME_S
    stop = threading.Event()
    try:
        mode, sp, buf = handshake(sock)
        text = connected(sock, buf, sp)
        reader = threading.Thread(target=drain, args=(sock, stop), daemon=True)
        if mode == "flood":
            reader.start()
            flow = frame(1 if text else 2, encode("FLOW", [("limit", 16)], b"", text))
            blast(sock, flow * 512, deadline)
        elif mode == "ping-flood":
            reader.start()
            blast(sock, frame(9, b"p") * 1024, deadline)
        elif mode == "fragments":
            reader.start()
            sock.sendall(frame(1 if text else 2, b"M", fin=False))
            blast(sock, frame(0, b"x", fin=False) * 1024, deadline)
        elif mode in ("bad-close", "escape"):
            read_frame(sock, buf)  # the engine's next frame, whatever it is
            if mode == "escape":
                err = encode("ERROR", [("code", 1), ("text", "\x1b[31mred\x1b]0;owned\x07")],
                             b"", text)
                sock.sendall(frame(1 if text else 2, err))
                reason = b"\x1b[2J\x1b[31mcleared\x1b[0m"
            else:
                reason = b"bad \xff\xfe\xc3 reason"
            sock.sendall(frame(8, struct.pack(">H", 4001) + reason))
            time.sleep(1)
        else:
            time.sleep(LIFETIME_S)
    except (OSError, ConnectionError):
        pass
    finally:
        stop.set()
        try:
            sock.shutdown(socket.SHUT_RDWR)  # wakes the drain thread
        except OSError:
            pass
        sock.close()


def main():
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    print("PORT", srv.getsockname()[1], flush=True)
    while True:
        sock, _ = srv.accept()
        threading.Thread(target=serve, args=(sock,), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
