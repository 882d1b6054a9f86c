#!/usr/bin/python3
"""A scripted stand-in for a client under test (profile section 12's echo
client), for the engine's self-tests. Usage: standin_client.py [MODE]; the
MBWS_* variables say where to connect and what to use.

Modes: good (a small, correct echo client), no-echo (never republishes),
exit1 (behaves, then exits with status 1), bad-offer (offers a name that is
not an MBWS subprotocol), crash (exits 2 right after the handshake).
FLOW-3 modes (a burst above the credit 16): good raises its limit on every
receipt (FLOW before ACK); ack-then-flow never checks and grants a FLOW only
after ACKing seq 17; flow3 grants nothing and answers seq 17 with ERROR 7.
connect-extra: behaves as good, but its CONNECT also carries resumed 0 and
session-expiry 60, fields a CONNECT does not list (ignored, FLD-3).
"""
import asyncio
import os
import sys

from mbws_wire import WS, Malformed, decode, encode


async def main(mode):
    url = os.environ["MBWS_URL"]
    sp = os.environ["MBWS_SUBPROTOCOL"]
    text = os.environ["MBWS_ENCODING"] == "text"
    hostport = url.split("//", 1)[1].split("/", 1)[0]
    host, port = hostport.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host.strip("[]"), int(port))
    offer = "x-not-mbws" if mode == "bad-offer" else sp
    writer.write(("GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                  "Sec-WebSocket-Protocol: %s\r\n\r\n" % (hostport, offer)).encode())
    head = await reader.readuntil(b"\r\n\r\n")
    if b" 101 " not in head.split(b"\r\n")[0]:
        print("upgrade refused", file=sys.stderr)
        return 1
    if mode == "crash":
        return 2
    ws = WS(reader, writer, server=False)

    def send(ftype, fields, body=b""):
        ws.send_msg(encode(ftype, fields, body, text), text)

    extra = [("resumed", 0), ("session-expiry", 60)] if mode == "connect-extra" else []
    send("CONNECT", [("version", 1), ("credit", 16), ("max-frame", 65536)] + extra)
    out_seq, last_in, connected, status = 0, 0, False, 1
    frag = None
    while True:
        await writer.drain()
        try:
            fin, op, n, key = await ws.read_header()
            payload = await ws.read_payload(n, key)
        except (asyncio.IncompleteReadError, ConnectionError):
            print("connection lost", file=sys.stderr)
            return 3 if status else 0
        if op == 9:
            ws.send(10, payload)
            continue
        if op == 8:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            if not ws.closed:
                ws.send(8, payload[:2])
            await writer.drain()
            writer.close()
            print("closed with %d" % code, file=sys.stderr)
            return status if code == 1000 else 1
        if op in (1, 2) and not fin:
            frag, ftext = bytearray(payload), op == 1
            continue
        if op == 0:
            frag += payload
            if not fin:
                continue
            data, mtext = bytes(frag), ftext
        else:
            data, mtext = payload, op == 1
        try:
            ftype, f, body = decode(data, mtext)
        except Malformed as e:
            send("ERROR", [("code", e.code if e.code < 100 else 1)])
            ws.close(4001)
            status = 1
            continue
        if ftype == "CONNECTED":
            connected = True
            send("SUBSCRIBE", [("sub", 1), ("address", os.environ["MBWS_IN"])])
        elif ftype == "MESSAGE" and connected:
            if mode == "flow3" and f["seq"] > 16:
                send("ERROR", [("code", 7), ("seq", f["seq"])])
                ws.close(4007)
                status = 1
                continue
            last_in = max(last_in, f["seq"])
            if mode != "no-echo":
                out_seq += 1
                fields = [("seq", out_seq), ("address", os.environ["MBWS_OUT"])]
                if "content-type" in f:
                    fields.append(("content-type", f["content-type"]))
                send("MESSAGE", fields, body)
            send("ACK", [("seq", last_in)])
            if mode not in ("flow3", "ack-then-flow") or (mode == "ack-then-flow" and last_in > 16):
                send("FLOW", [("limit", last_in + 16)])
        elif ftype == "DISCONNECT":
            send("DISCONNECT", [])
            status = 1 if mode == "exit1" else 0
        elif ftype == "ERROR":
            status = 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "good")))
