"""The broker under Valgrind memcheck with real traffic: every subprotocol
and encoding, resumes after cuts, an ERROR, a too-large frame, a refused
handshake, a detached session and live consumers at shutdown. No errors,
no definite or indirect leaks."""
import asyncio
import re
import shutil
import signal
import subprocess
import time

import pytest
import websockets

from peer_fixtures import (MBLWS, MBWS, Broker, CutProxy, LineReader, client, needs_peer,
                           start_client, stop)

pytestmark = [needs_peer,
              pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind not installed")]

VALGRIND = ("valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
            "--show-leak-kinds=definite,indirect", "--error-exitcode=99")


def test_broker_memcheck_clean(tmp_path):
    broker = Broker(tmp_path, "--session-expiry", "60", "--max-frame", "8192", wrapper=VALGRIND,
                    ready_timeout=60)
    proxy = CutProxy(broker.port)
    try:
        for sp in (MBWS, MBLWS):
            for enc in ("binary", "text"):
                addr = f"vg-{sp}-{enc}"
                bodies = [f"{addr}-{i}" for i in range(50)]
                r = client("publish", broker.url, addr, "--subprotocol", sp, "--encoding", enc,
                           "--credit", "4", stdin="\n".join(bodies) + "\n", timeout=120)
                assert r.returncode == 0, r.stderr
                r = client("consume", broker.url, addr, "--count", "50", "--subprotocol", sp,
                           "--encoding", enc, timeout=120)
                assert r.returncode == 0, r.stderr
                assert r.stdout.splitlines() == bodies

        # Resumes through cuts, with deliveries outstanding.
        con = start_client("consume", proxy.url, "vg-cut", "--credit", "8")
        reader = LineReader(con)
        pub = start_client("publish", proxy.url, "vg-cut", stdin=subprocess.PIPE)
        pub.stdin.write("".join(f"c{i}\n" for i in range(400)))
        pub.stdin.close()
        deadline = time.time() + 120
        cuts = 0
        while len(reader.lines) < 400 and time.time() < deadline:
            if cuts < 3 and len(reader.lines) > 100 * (cuts + 1):
                proxy.cut()
                cuts += 1
            time.sleep(0.05)
        assert pub.wait(120) == 0
        assert sorted(reader.lines) == sorted(f"c{i}" for i in range(400))
        assert len(reader.lines) == 400

        async def misbehave():
            # ERROR: a MESSAGE before CONNECT (SES-5) -> ERROR 4, close 4004.
            async with websockets.connect(broker.url, subprotocols=[MBWS]) as ws:
                await ws.send("MESSAGE\nseq:1\naddress:x\n\nearly")
                await ws.recv()
                await ws.wait_closed()
                assert ws.close_code == 4004
            # Too large (SES-9).
            async with websockets.connect(broker.url, subprotocols=[MBWS]) as ws:
                await ws.send(b"\x01" * 9000)
                await ws.recv()
                await ws.wait_closed()
                assert ws.close_code == 4003
            # Refused handshake (WS-2).
            with pytest.raises(websockets.exceptions.InvalidStatusCode):
                async with websockets.connect(broker.url):
                    pass
            # A session left detached at shutdown, holding a delivery.
            ws = await websockets.connect(broker.url, subprotocols=[MBWS])
            await ws.send("CONNECT\nversion:1\ncredit:4\nmax-frame:65536\n\n")
            await ws.recv()
            await ws.send("SUBSCRIBE\nsub:1\naddress:vg-detached\n\n")
            await ws.send("MESSAGE\nseq:1\naddress:vg-detached\n\nkept")
            while not (await ws.recv()).startswith("MESSAGE"):
                pass
            ws.transport.abort()
        asyncio.run(asyncio.wait_for(misbehave(), 120))

        # A consumer still connected when the broker stops: it gets DISCONNECT.
        live = start_client("consume", broker.url, "vg-live")
        time.sleep(1.0)
        status = broker.stop(signal.SIGTERM, timeout=120)
        assert stop(live, timeout=30) == 0, live.stderr.read()
        stop(con, timeout=30)
    finally:
        proxy.close()
        status = broker.stop()
    log = broker.log()
    summary = re.search(r"ERROR SUMMARY: (\d+) errors", log)
    assert summary and summary.group(1) == "0", log[-4000:]
    assert "definitely lost: 0 bytes" in log or "All heap blocks were freed" in log, log[-4000:]
    assert "indirectly lost: 0 bytes" in log or "All heap blocks were freed" in log, log[-4000:]
    assert status == 0, log[-4000:]
