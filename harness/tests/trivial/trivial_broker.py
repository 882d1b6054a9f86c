#!/usr/bin/python3
"""Trivial brokers for the vacuity check (harness/vacuity.py): targets that
do nothing a conformance case is about, so no case may pass against them
without an allow-listed reason. One process serves every mode, named by the
request path (ws://127.0.0.1:PORT/MODE). Prints "PORT <n>" once listening.

Modes:
  silent     completes the handshake, then sends nothing (it answers Pings
             and echoes a Close, as any WebSocket library would)
  close1000  completes the handshake and closes with 1000 at once
  refuse     refuses every upgrade with HTTP 400
  connected  answers CONNECT with a well-formed CONNECTED, then nothing
  yes        a yes-broker: CONNECTED (resumed 1 with the client's token when
             asked to resume), ACKs every MESSAGE and raises the limit,
             answers DISCONNECT with DISCONNECT and closes 1000; never sends
             ERROR and never delivers anything
"""
import asyncio
import itertools
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "standin"))
from mbws_wire import WS, Malformed, accept_key, decode, encode, parse_head  # noqa: E402

SUBPROTOCOLS = ("MBWS.huawei.com", "MBLWS.huawei.com")
MODES = ("silent", "close1000", "refuse", "connected", "yes")
tokens = itertools.count(1)
last_seq = {}  # session token -> highest seq the yes-broker received


class Mbws:
    """The MBWS side of the connected and yes modes."""

    def __init__(self, ws, mode, sp):
        self.ws, self.mode, self.sp = ws, mode, sp
        self.text = False
        self.token = None
        self.connected = False

    def send(self, ftype, fields):
        self.ws.send_msg(encode(ftype, fields, b"", self.text), self.text)

    def on_frame(self, data, text):
        try:
            ftype, f, _ = decode(data, text)
        except Malformed:
            return  # never errs
        if ftype == "CONNECT" and not self.connected:
            self.connected, self.text = True, text
            fields = [("version", 1), ("credit", 16), ("max-frame", 65536)]
            if self.sp == "MBWS.huawei.com":
                resume = self.mode == "yes" and "session" in f
                self.token = f["session"] if resume else "V%d" % next(tokens)
                last_seq.setdefault(self.token, 0)
                fields += [("session", self.token), ("session-expiry", 60),
                           ("resumed", 1 if resume else 0)]
                if resume:
                    fields.append(("last-seq", last_seq[self.token]))
            self.send("CONNECTED", fields)
        elif self.mode != "yes" or not self.connected:
            return
        elif ftype == "MESSAGE" and isinstance(f.get("seq"), int):
            seq = max(f["seq"], last_seq.get(self.token, 0))
            last_seq[self.token] = seq
            self.send("ACK", [("seq", seq)])
            self.send("FLOW", [("limit", min(seq + 16, 2**64 - 1))])
        elif ftype == "DISCONNECT":
            self.send("DISCONNECT", [])
            self.ws.close(1000)


def handshake_response(hdrs, chosen):
    resp = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: %s\r\n" % accept_key(hdrs.get("sec-websocket-key", "")))
    if chosen:
        resp += "Sec-WebSocket-Protocol: %s\r\n" % chosen
    return (resp + "\r\n").encode()


async def serve(ws, writer, mbws):
    """Reads frames until the connection ends: Pings answered, Close echoed,
    whole messages handed to mbws (None: ignored)."""
    frag, frag_text = None, False
    while True:
        await writer.drain()
        fin, op, n, key = await ws.read_header()
        payload = await ws.read_payload(n, key)
        if op == 9:
            ws.send(10, payload)
        elif op == 8:
            if not ws.closed:
                ws.send(8, payload[:2])
                ws.closed = True
            await writer.drain()
            return
        elif op in (1, 2) and fin:
            frag = None
            if mbws and not ws.closed:
                mbws.on_frame(payload, op == 1)
        elif op in (1, 2):
            frag, frag_text = bytearray(payload), op == 1
        elif op == 0 and frag is not None:
            frag += payload
            if fin:
                data, frag = bytes(frag), None
                if mbws and not ws.closed:
                    mbws.on_frame(data, frag_text)


async def handle(reader, writer):
    try:
        line, hdrs = parse_head(await reader.readuntil(b"\r\n\r\n"))
        mode = line.split(" ")[1].strip("/")
        offers = [o.strip() for o in hdrs.get("sec-websocket-protocol", "").split(",")]
        chosen = next((o for o in offers if o in SUBPROTOCOLS), None)
        if mode not in MODES or mode == "refuse":
            writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return
        writer.write(handshake_response(hdrs, chosen))
        ws = WS(reader, writer, server=True)
        if mode == "close1000":
            ws.close(1000)
        mbws = Mbws(ws, mode, chosen) if mode in ("connected", "yes") else None
        await serve(ws, writer, mbws)
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError,
            IndexError, struct.error):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
