"""The broker holds 1,000 concurrent sessions on loopback and serves them
all: every session gets CONNECTED, subscribes, publishes one message to the
next session's address and receives the one meant for it (BRK-1..3)."""
import asyncio
import struct

import websockets

from peer_fixtures import MBWS, Broker, needs_peer, raise_nofile

pytestmark = needs_peer

SESSIONS = 1000


def frame(type_, fields, body=b""):
    hdr = b"".join(struct.pack(">BH", fid, len(v)) + v for fid, v in fields)
    return struct.pack(">BBH", type_, 0, len(hdr)) + hdr + body


def u64(n):
    return struct.pack(">Q", n)


async def session(url, i, all_connected, results):
    ws = await websockets.connect(url, subprotocols=[MBWS], open_timeout=60, ping_interval=None)
    try:
        await ws.send(frame(1, [(1, u64(1)), (6, u64(4)), (8, u64(65536))]))
        reply = await ws.recv()
        assert reply[0] == 2, reply
        await ws.send(frame(6, [(4, u64(1)), (3, f"many-{i}".encode())]))
        all_connected.append(i)
        while len(all_connected) < SESSIONS:  # every session is open at once
            await asyncio.sleep(0.05)
        target = (i + 1) % SESSIONS
        await ws.send(frame(3, [(2, u64(1)), (3, f"many-{target}".encode())], f"for {target}".encode()))
        while True:
            f = await ws.recv()
            if f[0] == 3:
                results[i] = f
                await ws.send(frame(4, [(2, u64(1))]))
                return
    finally:
        await ws.close()


def test_thousand_sessions(tmp_path):
    assert raise_nofile() >= SESSIONS + 100
    broker = Broker(tmp_path, "--ack-delay", "0")
    try:
        async def main():
            connected, results = [], {}
            sem = asyncio.Semaphore(200)  # pace the handshakes, not the sessions

            async def one(i):
                async with sem:
                    pass
                await session(broker.url, i, connected, results)
            await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(SESSIONS))), 120)
            return connected, results
        connected, results = asyncio.run(main())
        assert len(connected) == SESSIONS
        assert len(results) == SESSIONS
        for i, f in results.items():
            assert f.endswith(f"for {i}".encode()), (i, f)
    finally:
        status = broker.stop()
    assert status == 0, broker.log()[-2000:]
    log = broker.log()
    assert log.count("CONNECTED, session") == SESSIONS
