#!/usr/bin/python3
"""A scripted stand-in broker for the engine's self-tests.

It plays a small, mostly correct MBWS broker, and misbehaves on purpose in
the mode named by the request path (ws://127.0.0.1:PORT/MODE), so that every
engine step and matcher can be shown to both pass and fail. One process
serves all modes. Prints "PORT <n>" once listening.

Modes: good (correct), refuse (HTTP 400 to everything), close1002 (no offer:
accept, then close 1002), accept-none (no offer: accept and stay silent),
wrong-subprotocol, bad-connected (version 2), no-ack, slow-ack (1800 ms),
no-flow (never raises the limit), slow-flow (each FLOW 800 ms late, as FLOW-5
allows), no-pong, wrong-close (ERROR then close 1000),
early-close (DISCONNECT answered by a close at once), drop-after-connected,
hang (never answers the upgrade), chatty (a FLOW every 200 ms), buffering
(checks max-frame only on whole messages), lenient-utf8 (no 1007),
no-fragments (fails fragmented messages with 1002), text-always (answers in
text), no-resume (ERROR 12 to every resume), mblws-session-fields (a new
MBLWS session's CONNECTED carries session, session-expiry and resumed 0,
which an MBLWS CONNECTED does not list: RES-9).
"""
import asyncio
import itertools
import struct
import sys

from mbws_wire import WS, Malformed, accept_key, decode, encode, parse_head

SUBPROTOCOLS = ("MBWS.huawei.com", "MBLWS.huawei.com")
MAX_FRAME = 65536
CREDIT = 16
queues = {}        # address -> list of (body, content-type)
sessions = {}      # token -> Session (detached or attached)
tokens = itertools.count(1)


class Session:
    def __init__(self, sp):
        self.sp = sp
        self.token = "T%d" % next(tokens) if sp == "MBWS.huawei.com" else None
        self.last_in = 0      # highest in-order seq received
        self.sent = 0         # highest seq sent
        self.acked = 0
        self.unacked = []     # (seq, address, body, ct, sub)
        self.subs = {}        # sub -> address
        self.limit_out = 0    # highest seq we may send
        self.limit_in = CREDIT
        self.conn = None
        self.ended = False


class Conn:
    def __init__(self, ws, mode, sp):
        self.ws, self.mode, self.sp = ws, mode, sp
        self.session = None
        self.text = False
        self.connected = False

    def send(self, ftype, fields, body=b"", text=None):
        t = self.text if text is None else text
        if self.mode == "text-always":
            t = True
        if ftype == "MESSAGE" and isinstance(body, bytes):
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                t = False
        self.ws.send_msg(encode(ftype, fields, body, t), t)

    def error(self, code, text=None, seq=None):
        f = [("code", code)]
        if seq is not None:
            f.append(("seq", seq))
        self.send("ERROR", f, text=self.text if text is None else text)
        self.ws.close(1000 if self.mode == "wrong-close" else 4000 + code)

    def deliver(self):
        s = self.session
        if not s or s.conn is not self:
            return
        for sub, addr in list(s.subs.items()):
            q = queues.get(addr, [])
            while q and s.sent < s.limit_out:
                body, ct = q.pop(0)
                s.sent += 1
                s.unacked.append((s.sent, addr, body, ct, sub))
                f = [("seq", s.sent), ("address", addr), ("sub", sub)]
                if ct:
                    f.append(("content-type", ct))
                self.send("MESSAGE", f, body)

    async def on_frame(self, data, text):
        try:
            ftype, f, body = decode(data, text)
        except Malformed as e:
            if e.code == 1007:
                if self.mode == "lenient-utf8":
                    return
                self.ws.close(1007)
                return
            self.error(e.code, text=text if not self.connected else None)
            return
        if not self.connected:
            if ftype != "CONNECT":
                self.error(4, text=text)
                return
            return await self.on_connect(f, text)
        s = self.session
        if ftype == "MESSAGE":
            if f["seq"] > s.last_in + 1:
                return self.error(5, seq=f["seq"])
            if f["seq"] > s.limit_in:
                return self.error(7, seq=f["seq"])
            if f["seq"] == s.last_in + 1:
                s.last_in += 1
                queues.setdefault(f["address"], []).append((body, f.get("content-type")))
            if self.mode not in ("no-ack", "slow-ack"):
                self.send("ACK", [("seq", s.last_in)])
            elif self.mode == "slow-ack":
                n = s.last_in
                asyncio.get_running_loop().call_later(1.8, lambda: self.send("ACK", [("seq", n)]))
            if self.mode not in ("no-flow",) and s.last_in + CREDIT > s.limit_in:
                s.limit_in = s.last_in + CREDIT
                if self.mode == "slow-flow":  # FLOW-5 allows up to 1000 ms
                    limit = s.limit_in
                    asyncio.get_running_loop().call_later(
                        0.8, lambda: self.send("FLOW", [("limit", limit)]))
                else:
                    self.send("FLOW", [("limit", s.limit_in)])
            for c in conns_all:
                c.deliver()
        elif ftype == "ACK":
            if f["seq"] > s.sent:
                return self.error(6, seq=f["seq"])
            s.acked = max(s.acked, f["seq"])
            s.unacked = [m for m in s.unacked if m[0] > s.acked]
        elif ftype == "FLOW":
            if f["limit"] < s.limit_out:
                return self.error(8)
            s.limit_out = f["limit"]
            self.deliver()
        elif ftype == "SUBSCRIBE":
            if f["sub"] in s.subs:
                return self.error(10)
            s.subs[f["sub"]] = f["address"]
            self.deliver()
        elif ftype == "UNSUBSCRIBE":
            if s.subs.pop(f["sub"], None) is None:
                return self.error(10)
        elif ftype == "DISCONNECT":
            s.ended = True
            self.send("DISCONNECT", [])
            if self.mode == "early-close":
                self.ws.close(1000)
            else:
                loop = asyncio.get_running_loop()
                loop.call_later(0.3 if not s.unacked else 2.0, lambda: self.ws.close(1000))
        elif ftype in ("CONNECT",):
            self.error(4)
        else:
            self.error(4)

    async def on_connect(self, f, text):
        self.text = text
        if f.get("version") != 1:
            return self.error(11)
        if f.get("max-frame", 0) < 1024:
            return self.error(1)
        tok = f.get("session")
        if tok is not None:
            if self.sp != "MBWS.huawei.com":
                return self.error(13)
            s = sessions.get(tok)
            if self.mode == "no-resume" or s is None or s.ended:
                return self.error(12)
            if f.get("last-seq", 0) > s.sent:
                return self.error(6)
            if s.conn is not None and s.conn is not self:
                s.conn.ws.close(4100)
            s.conn = self
            self.session, self.connected = s, True
            s.acked = max(s.acked, f.get("last-seq", 0))
            s.unacked = [m for m in s.unacked if m[0] > s.acked]
            s.limit_out = max(s.limit_out, f.get("last-seq", 0) + f["credit"])
            self.send("CONNECTED", [("version", 1), ("credit", CREDIT), ("max-frame", MAX_FRAME),
                                    ("session", s.token), ("session-expiry", 60), ("resumed", 1),
                                    ("last-seq", s.last_in)])
            for seq, addr, body, ct, sub in s.unacked:
                self.send("MESSAGE", [("seq", seq), ("address", addr), ("sub", sub)], body)
            return
        s = Session(self.sp)
        s.limit_out = f["credit"]
        s.conn = self
        self.session, self.connected = s, True
        fields = [("version", 2 if self.mode == "bad-connected" else 1), ("credit", CREDIT),
                  ("max-frame", MAX_FRAME)]
        if s.token:
            sessions[s.token] = s
            fields += [("session", s.token), ("session-expiry", 60), ("resumed", 0)]
        elif self.mode == "mblws-session-fields":
            fields += [("session", "T0"), ("session-expiry", 60), ("resumed", 0)]
        self.send("CONNECTED", fields)
        if self.mode == "drop-after-connected":
            await self.ws.w.drain()
            self.ws.w.transport.abort()


conns_all = []


async def handle(reader, writer):
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except Exception:
        writer.close()
        return
    line, hdrs = parse_head(head)
    mode = line.split(" ")[1].strip("/") or "good"
    if mode == "hang":
        await asyncio.sleep(3600)
    offers = [o.strip() for o in hdrs.get("sec-websocket-protocol", "").split(",") if o.strip()]
    chosen = next((o for o in offers if o in SUBPROTOCOLS), None)
    if mode == "wrong-subprotocol":
        chosen = "MBWS.example.org"
    if mode == "refuse" or (chosen is None and mode not in ("close1002", "accept-none")):
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()
        return
    resp = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: %s\r\n" % accept_key(hdrs.get("sec-websocket-key", "")))
    if chosen:
        resp += "Sec-WebSocket-Protocol: %s\r\n" % chosen
    writer.write((resp + "\r\n").encode())
    ws = WS(reader, writer, server=True)
    conn = Conn(ws, mode, chosen)
    conns_all.append(conn)
    if chosen is None and mode == "close1002":
        ws.close(1002)
    ticker = None
    if mode == "chatty":
        async def tick():
            while not ws.closed:
                await asyncio.sleep(0.2)
                if conn.connected and conn.session:
                    conn.send("FLOW", [("limit", conn.session.limit_in)])
        ticker = asyncio.ensure_future(tick())
    frag, frag_text = None, False
    try:
        while True:
            await writer.drain()
            fin, op, n, key = await ws.read_header()
            if op in (1, 2, 0) and mode != "buffering":
                total = n + (len(frag) if frag is not None and op == 0 else 0)
                if total > MAX_FRAME and not ws.closed:
                    conn.error(3)
                    await writer.drain()
                    break
            payload = await ws.read_payload(n, key)
            if op == 9:
                if mode != "no-pong":
                    ws.send(10, payload)
                continue
            if op == 10:
                continue
            if op == 8:
                if not ws.closed:
                    ws.send(8, payload[:2])
                    ws.closed = True
                await writer.drain()
                break
            if ws.closed:
                continue
            if op in (1, 2):
                if not fin and mode == "no-fragments":
                    ws.close(1002)
                    continue
                if fin:
                    frag = None
                    data, text = payload, op == 1
                else:
                    frag, frag_text = bytearray(payload), op == 1
                    continue
            elif op == 0 and frag is not None:
                frag += payload
                if not fin:
                    continue
                data, text = bytes(frag), frag_text
                frag = None
            else:
                continue
            if len(data) > MAX_FRAME:
                conn.error(3)
                continue
            await conn.on_frame(data, text)
            if ws.closed:
                await writer.drain()
                await asyncio.sleep(0.05)
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        if ticker:
            ticker.cancel()
        if conn.session and conn.session.conn is conn:
            conn.session.conn = None
        if conn in conns_all:
            conns_all.remove(conn)
        try:
            writer.close()
        except Exception:
            pass


async def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
