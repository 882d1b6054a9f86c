"""A minimal MBWS (profile 1) codec and RFC 6455 framer for the engine's
stand-ins. It is deliberately small and independent of the C code it helps
test: only what the stand-ins need to play a broker or a client."""
import asyncio
import base64
import hashlib
import os
import struct

FIELDS = {
    1: ("version", "int"), 2: ("seq", "int"), 3: ("address", "str"), 4: ("sub", "int"),
    5: ("content-type", "str"), 6: ("credit", "int"), 7: ("limit", "int"),
    8: ("max-frame", "int"), 9: ("session", "str"), 10: ("last-seq", "int"),
    11: ("session-expiry", "int"), 12: ("resumed", "int"), 13: ("code", "int"),
    14: ("text", "str"), 15: ("name", "str"),
}
BY_NAME = {v[0]: (k, v[1]) for k, v in FIELDS.items()}
TYPES = {1: "CONNECT", 2: "CONNECTED", 3: "MESSAGE", 4: "ACK", 5: "FLOW", 6: "SUBSCRIBE",
         7: "UNSUBSCRIBE", 8: "DISCONNECT", 9: "ERROR"}
TYPE_CODE = {v: k for k, v in TYPES.items()}
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Malformed(Exception):
    def __init__(self, code, why):
        super().__init__(why)
        self.code = code


def encode(ftype, fields, body=b"", text=False):
    """fields: list of (name, value) in order; ints and strs."""
    if text:
        out = ftype + "\n"
        for name, val in fields:
            out += "%s:%s\n" % (name, val)
        return (out + "\n").encode() + (body if isinstance(body, bytes) else body.encode())
    hdr = b""
    for name, val in fields:
        fid, kind = BY_NAME[name]
        v = struct.pack(">Q", val) if kind == "int" else val.encode()
        hdr += struct.pack(">BH", fid, len(v)) + v
    body = body if isinstance(body, bytes) else body.encode()
    return struct.pack(">BBH", TYPE_CODE[ftype], 0, len(hdr)) + hdr + body


def decode(data, text):
    """Returns (type name, {field: value}, body); raises Malformed."""
    if text:
        try:
            s = data.decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed(1007, "invalid UTF-8")
        if "\n\n" not in s and not s.endswith("\n\n"):
            raise Malformed(1, "no empty line")
        head, body = s.split("\n\n", 1)
        lines = head.split("\n")
        if "\r" in head:
            raise Malformed(1, "CR in header")
        if lines[0] not in TYPE_CODE:
            raise Malformed(2 if lines[0].isalpha() and lines[0].isupper() else 1, "type")
        fields = {}
        for ln in lines[1:]:
            if ":" not in ln:
                raise Malformed(1, "line without colon")
            name, val = ln.split(":", 1)
            if name in BY_NAME:
                if name in fields:
                    raise Malformed(1, "repeated")
                if BY_NAME[name][1] == "int":
                    if not val.isdigit() or (len(val) > 1 and val[0] == "0"):
                        raise Malformed(1, "bad integer")
                    val = int(val)
                fields[name] = val
        ftype = lines[0]
        body = body.encode()
    else:
        if len(data) < 4 or data[1] != 0:
            raise Malformed(1, "prefix")
        h = struct.unpack(">H", data[2:4])[0]
        if 4 + h > len(data):
            raise Malformed(1, "header length")
        if data[0] not in TYPES:
            raise Malformed(2, "type")
        p, fields = 4, {}
        while p < 4 + h:
            if p + 3 > 4 + h:
                raise Malformed(1, "field header")
            fid, ln = struct.unpack(">BH", data[p:p + 3])
            if p + 3 + ln > 4 + h:
                raise Malformed(1, "field length")
            v = data[p + 3:p + 3 + ln]
            if fid in FIELDS:
                name, kind = FIELDS[fid]
                if name in fields:
                    raise Malformed(1, "repeated")
                if kind == "int":
                    if ln != 8:
                        raise Malformed(1, "int length")
                    v = struct.unpack(">Q", v)[0]
                else:
                    v = v.decode("utf-8", "replace")
                fields[name] = v
            p += 3 + ln
        ftype = TYPES[data[0]]
        body = data[4 + h:]
    if body and ftype != "MESSAGE":
        raise Malformed(1, "body")
    if ftype == "MESSAGE" and fields.get("seq") == 0:
        raise Malformed(1, "seq 0")
    return ftype, fields, body


def accept_key(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def parse_head(head):
    lines = head.decode("latin-1").split("\r\n")
    hdrs = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            k = k.strip().lower()
            hdrs[k] = (hdrs[k] + ", " if k in hdrs else "") + v.strip()
    return lines[0], hdrs


class WS:
    """One WebSocket connection over asyncio streams; server or client role."""

    def __init__(self, reader, writer, server):
        self.r, self.w, self.server = reader, writer, server
        self.closed = False

    def frame(self, opcode, payload, fin=True):
        b0 = (0x80 if fin else 0) | opcode
        n = len(payload)
        mask = 0 if self.server else 0x80
        if n < 126:
            hdr = struct.pack(">BB", b0, mask | n)
        elif n < 65536:
            hdr = struct.pack(">BBH", b0, mask | 126, n)
        else:
            hdr = struct.pack(">BBQ", b0, mask | 127, n)
        if not self.server:
            key = os.urandom(4)
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
            hdr += key
        return hdr + payload

    def send(self, opcode, payload, fin=True):
        if not self.closed:
            self.w.write(self.frame(opcode, payload, fin))

    def send_msg(self, data, text):
        self.send(1 if text else 2, data)

    def close(self, code):
        if not self.closed:
            self.send(8, struct.pack(">H", code))
            self.closed = True

    async def read_header(self):
        b = await self.r.readexactly(2)
        fin, op, masked, n = b[0] >> 7, b[0] & 15, b[1] >> 7, b[1] & 127
        if n == 126:
            n = struct.unpack(">H", await self.r.readexactly(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", await self.r.readexactly(8))[0]
        key = await self.r.readexactly(4) if masked else None
        return fin, op, n, key

    async def read_payload(self, n, key):
        p = await self.r.readexactly(n)
        if key:
            p = bytes(c ^ key[i % 4] for i, c in enumerate(p))
        return p
