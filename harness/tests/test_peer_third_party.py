"""A third-party WebSocket stack (Debian's python3-websockets 10.4) against
the reference broker: subprotocol negotiation (WS-1, WS-2), refusal without
one, frames both ways, a frame split into fragments with a ping between
them (WS-4, WS-5), and the size limit applied while a frame arrives (SES-9)."""
import asyncio
import struct

import pytest
import websockets

from peer_fixtures import MBLWS, MBWS, Broker, needs_peer

pytestmark = needs_peer


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    b = Broker(tmp_path_factory.mktemp("third"), "--max-frame", "4096", "--ack-delay", "0")
    yield b
    assert b.stop() == 0, b.log()


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 20))


def text_frame(type_, body="", **fields):
    head = "".join(f"{k.replace('_', '-')}:{v}\n" for k, v in fields.items())
    return f"{type_}\n{head}\n{body}"


def parse_text(frame):
    head, _, body = frame.partition("\n\n")
    lines = head.split("\n")
    return lines[0], dict(line.split(":", 1) for line in lines[1:]), body


def binary_frame(type_, fields, body=b""):
    hdr = b"".join(struct.pack(">BH", fid, len(v)) + v for fid, v in fields)
    return struct.pack(">BBH", type_, 0, len(hdr)) + hdr + body


def u64(n):
    return struct.pack(">Q", n)


@pytest.mark.parametrize("offer,chosen", [
    ([MBWS], MBWS),
    ([MBLWS], MBLWS),
    ([MBLWS, MBWS], MBLWS),  # the client's order decides (WS-2)
    (["chat", MBWS, MBLWS], MBWS),
])
def test_handshake_selects_first_supported(broker, offer, chosen):
    async def go():
        async with websockets.connect(broker.url, subprotocols=offer) as ws:
            return ws.subprotocol
    assert run(go()) == chosen


@pytest.mark.parametrize("offer", [None, ["chat"], ["mbws.huawei.com"]])
def test_refused_without_supported_subprotocol(broker, offer):
    async def go():
        async with websockets.connect(broker.url, subprotocols=offer):
            pass
    with pytest.raises(websockets.exceptions.InvalidStatusCode) as e:
        run(go())
    assert e.value.status_code >= 400


def test_text_session_round_trip(broker):
    async def go():
        async with websockets.connect(broker.url, subprotocols=[MBLWS]) as ws:
            await ws.send(text_frame("CONNECT", version=1, credit=8, max_frame=65536))
            t, f, _ = parse_text(await ws.recv())
            assert t == "CONNECTED" and f["version"] == "1"
            assert "session" not in f  # MBLWS: no session fields (RES-9)
            await ws.send(text_frame("SUBSCRIBE", sub=7, address="tp-text"))
            await ws.send(text_frame("MESSAGE", "héllo", seq=1, address="tp-text",
                                     content_type="text/plain"))
            got = {}
            while "MESSAGE" not in got or "ACK" not in got:
                t, f, body = parse_text(await ws.recv())
                got[t] = (f, body)
            f, body = got["MESSAGE"]
            assert body == "héllo" and f["sub"] == "7" and f["address"] == "tp-text"
            assert f["content-type"] == "text/plain" and f["seq"] == "1"
            assert got["ACK"][0]["seq"] == "1"
            await ws.send(text_frame("ACK", seq=1))
            await ws.send(text_frame("DISCONNECT"))
            t, _, _ = parse_text(await ws.recv())
            assert t == "DISCONNECT"
            await ws.wait_closed()
            return ws.close_code
    assert run(go()) == 1000


def test_fragmented_frame_with_ping_between(broker):
    async def go():
        async with websockets.connect(broker.url, subprotocols=[MBWS]) as ws:
            await ws.send(binary_frame(1, [(1, u64(1)), (6, u64(4)), (8, u64(65536))]))
            connected = await ws.recv()
            assert connected[0] == 2
            await ws.send(binary_frame(6, [(4, u64(1)), (3, b"tp-frag")]))
            msg = binary_frame(3, [(2, u64(1)), (3, b"tp-frag")], b"fragmented body " * 10)
            pongs = []

            async def pieces():
                for i in range(0, len(msg), 17):
                    yield msg[i:i + 17]
                    if i == 17:  # a control frame between two fragments
                        pongs.append(await ws.ping(b"between"))
            await ws.send(pieces())
            await asyncio.wait_for(pongs[0], 5)  # WS-5: answered
            frames = {}
            while 3 not in frames or 4 not in frames:  # FLOW frames may come too
                f = await ws.recv()
                frames[f[0]] = f
            delivered = frames[3]  # the MESSAGE delivered back (ACK seen too)
            assert delivered.endswith(b"fragmented body " * 10)
            await ws.send(binary_frame(8, []))
            reply = await ws.recv()
            while reply[0] != 8:
                reply = await ws.recv()
            await ws.send(binary_frame(4, [(2, u64(1))]))
            await ws.wait_closed()
            return ws.close_code
    assert run(go()) == 1000


def test_too_large_while_arriving(broker):
    # SES-9: the first fragment alone passes max-frame (4096): ERROR 3 and
    # close 4003 come before the rest of the frame is sent.
    async def go():
        async with websockets.connect(broker.url, subprotocols=[MBWS], max_size=None) as ws:
            await ws.send(binary_frame(1, [(1, u64(1)), (6, u64(4)), (8, u64(65536))]))
            await ws.recv()
            held_back = asyncio.Event()

            async def pieces():
                yield b"\x03" + b"\x00" * 5000
                await held_back.wait()  # never sent
                yield b"\x00"
            sender = asyncio.ensure_future(ws.send(pieces()))
            err = await asyncio.wait_for(ws.recv(), 5)
            assert err[0] == 9 and u64(3) in err  # ERROR code 3
            await ws.wait_closed()
            sender.cancel()
            return ws.close_code
    assert run(go()) == 4003


def test_connect_timeout_is_not_triggered_early(broker):
    # A connection that sends nothing for 1 s is still open (SES-2 gives 5 s).
    async def go():
        async with websockets.connect(broker.url, subprotocols=[MBWS]) as ws:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(ws.recv(), 1.0)
            return ws.open
    assert run(go()) is True


def test_connect_timeout_error_14(broker):
    # SES-2: no CONNECT within 5 s -> ERROR 14 between 5 and 6 s, close 4014.
    import time

    async def go():
        async with websockets.connect(broker.url, subprotocols=[MBWS]) as ws:
            t0 = time.monotonic()
            err = await asyncio.wait_for(ws.recv(), 8)
            elapsed = time.monotonic() - t0
            await ws.wait_closed()
            return err, elapsed, ws.close_code
    err, elapsed, code = run(go())
    assert err[0] == 9 and u64(14) in err  # binary ERROR: no frame set the encoding
    assert 4.9 <= elapsed <= 6.0, elapsed
    assert code == 4014
