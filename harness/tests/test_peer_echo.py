"""`mbws-peer echo`, the echo-client contract of profile section 12
(ECHO-1..3), against the reference broker and against small scripted
brokers (python3-websockets) for the error paths."""
import asyncio
import signal
import threading
import time

import pytest
import websockets

from peer_fixtures import (MBLWS, MBWS, Broker, CutProxy, client, needs_peer, start_echo, stop)

pytestmark = needs_peer


@pytest.mark.parametrize("sp", [MBWS, MBLWS])
@pytest.mark.parametrize("enc", ["binary", "text"])
def test_echo_republishes_in_order_and_exits_0_on_disconnect(tmp_path, sp, enc):
    broker = Broker(tmp_path)
    echo = start_echo(broker.url, sp, enc, "e-in", "e-out")
    try:
        bodies = [f"echo {i}" for i in range(40)]
        r = client("publish", broker.url, "e-in", "--content-type", "text/x-echo", *bodies)
        assert r.returncode == 0, r.stderr
        r = client("consume", broker.url, "e-out", "--count", "40", "--verbose")
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines() == bodies  # ECHO-1: same bodies, same order
        assert 'content-type="text/x-echo"' in r.stderr  # and the content-type
    finally:
        assert broker.stop() == 0  # the broker DISCONNECTs its sessions
        # ECHO-3: the echo client exits by itself after the exchange; a
        # signal is only the backstop (and makes the status non-zero).
        status = stop(echo, grace=10)
    assert status == 0, echo.stderr.read()  # ECHO-3


def test_echo_skips_what_cannot_be_republished(tmp_path):
    broker = Broker(tmp_path, "--max-frame", "1024")
    long_out = "o" * 250
    echo = start_echo(broker.url, MBWS, "binary", "i", long_out)
    try:
        big = "x" * 900  # fits with address "i", not with a 250-octet address
        r = client("publish", broker.url, "i", big, "small")
        assert r.returncode == 0, r.stderr
        r = client("consume", broker.url, long_out, "--count", "1")
        assert r.stdout.splitlines() == ["small"]
    finally:
        broker.stop()
        status = stop(echo, grace=10)
    err = echo.stderr.read()
    assert "skipped" in err and "1 skipped" in err, err
    assert status == 0, err


def test_mblws_abnormal_loss_exits_3(tmp_path):
    broker = Broker(tmp_path)
    proxy = CutProxy(broker.port)
    echo = start_echo(proxy.url, MBLWS, "binary", "l-in", "l-out")
    try:
        time.sleep(1.0)
        assert proxy.cut() == 1
        assert echo.wait(10) == 3, echo.stderr.read()  # ECHO-2
    finally:
        stop(echo)
        proxy.close()
        broker.stop()


def test_mbws_resumes_within_2s_and_keeps_echoing(tmp_path):
    broker = Broker(tmp_path)
    proxy = CutProxy(broker.port)
    echo = start_echo(proxy.url, MBWS, "text", "r-in", "r-out")
    try:
        time.sleep(1.0)
        before = proxy.accepted
        assert proxy.cut() == 1
        t0 = time.time()
        while proxy.accepted == before and time.time() - t0 < 5:
            time.sleep(0.01)
        assert time.time() - t0 < 2.0, "no resume within 2 s (ECHO-2)"
        time.sleep(0.5)
        assert "resumed" in broker.log()
        r = client("publish", broker.url, "r-in", "after-cut")
        assert r.returncode == 0
        r = client("consume", broker.url, "r-out", "--count", "1")
        assert r.stdout.splitlines() == ["after-cut"]
        assert echo.poll() is None
    finally:
        proxy.close()
        broker.stop()
        stop(echo)


class ScriptedBroker:
    """A python3-websockets server playing a broker from a script."""

    def __init__(self, script, subprotocols=(MBWS, MBLWS)):
        self.script = script
        self.seen = []
        self.close_code = None
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def handler(ws, path=None):
            try:
                await script(ws, self)
            finally:
                await ws.wait_closed()
                self.close_code = ws.close_code

        def run():
            asyncio.set_event_loop(self.loop)
            kw = {"subprotocols": list(subprotocols)} if subprotocols else {}
            self.server = self.loop.run_until_complete(
                websockets.serve(handler, "127.0.0.1", 0, **kw))
            self.url = f"ws://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/"
            ready.set()
            self.loop.run_forever()
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait(5)

    def close(self):
        async def _aclose():
            self.server.close()
            await self.server.wait_closed()
        try:
            asyncio.run_coroutine_threadsafe(_aclose(), self.loop).result(5)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)


CONNECTED_TEXT = "CONNECTED\nversion:1\ncredit:4\nmax-frame:65536\nsession:abc\nsession-expiry:5\nresumed:0\n\n"


def test_error_received_exits_nonzero():
    async def script(ws, sb):
        sb.seen.append(await ws.recv())
        await ws.send("ERROR\ncode:11\ntext:no\n\n")
        await asyncio.sleep(0.3)
        await ws.close(4011)
    sb = ScriptedBroker(script)
    echo = start_echo(sb.url, MBWS, "text", "a", "b")
    try:
        status = echo.wait(10)
    finally:
        stop(echo)
        sb.close()
    assert sb.seen and sb.seen[0].startswith("CONNECT\n")
    assert status not in (0, None), echo.stderr.read()  # ECHO-3


def test_takeover_close_exits_nonzero_without_resume():
    connections = []

    async def script(ws, sb):
        connections.append(1)
        await ws.recv()
        await ws.send(CONNECTED_TEXT)
        await ws.recv()  # SUBSCRIBE
        await ws.close(4100)
    sb = ScriptedBroker(script)
    echo = start_echo(sb.url, MBWS, "text", "a", "b")
    try:
        status = echo.wait(10)
        time.sleep(0.5)
    finally:
        stop(echo)
        sb.close()
    assert status == 4, echo.stderr.read()
    assert len(connections) == 1  # RES-7: no resume after 4100


def test_no_subprotocol_in_response_closes_1002_without_connect():
    async def script(ws, sb):
        try:
            sb.seen.append(await asyncio.wait_for(ws.recv(), 3))
        except Exception:
            pass
    sb = ScriptedBroker(script, subprotocols=None)
    echo = start_echo(sb.url, MBWS, "binary", "a", "b")
    try:
        status = echo.wait(10)
        time.sleep(0.3)
    finally:
        stop(echo)
        sb.close()
    assert sb.seen == []  # WS-3: no CONNECT
    assert sb.close_code == 1002
    assert status not in (0, None)


def test_sigterm_on_client_side_is_not_a_clean_exit(tmp_path):
    broker = Broker(tmp_path)
    echo = start_echo(broker.url, MBWS, "binary", "s-in", "s-out")
    try:
        time.sleep(0.5)
        echo.send_signal(signal.SIGTERM)
        assert echo.wait(10) != 0
    finally:
        stop(echo)
        broker.stop()
