"""The reference client and broker interoperate: both subprotocols, both
encodings, publish, consume, ack, flow control with small credit
(BRK-1, BRK-3, FLOW-1, FLOW-5, SES-6, SES-7)."""
import pytest

from peer_fixtures import MBLWS, MBWS, Broker, client, needs_peer

pytestmark = needs_peer

COMBOS = [(sp, enc) for sp in (MBWS, MBLWS) for enc in ("binary", "text")]


@pytest.fixture(scope="module")
def small_credit_broker(tmp_path_factory):
    # Broker credit 2 and window 2: a publisher can never be more than two
    # messages ahead of the broker's ACKs, so FLOW must keep it going.
    b = Broker(tmp_path_factory.mktemp("interop"), "--credit", "2", "--window", "2",
               "--ack-delay", "0")
    yield b
    assert b.stop() == 0, b.log()


@pytest.mark.parametrize("sp,enc", COMBOS)
def test_publish_then_consume(small_credit_broker, sp, enc):
    addr = f"interop-{sp}-{enc}"
    bodies = [f"message {i} ü" for i in range(300)]
    pub = client("publish", small_credit_broker.url, addr, "--subprotocol", sp,
                 "--encoding", enc, "--credit", "1", stdin="\n".join(bodies) + "\n")
    assert pub.returncode == 0, pub.stderr
    assert "300 of 300 messages acknowledged" in pub.stderr
    con = client("consume", small_credit_broker.url, addr, "--count", "300", "--subprotocol", sp,
                 "--encoding", enc, "--credit", "1")
    assert con.returncode == 0, con.stderr
    assert con.stdout.splitlines() == bodies  # FIFO, exactly once, bodies intact


def test_content_type_and_binary_body(small_credit_broker, tmp_path):
    # A body that is not UTF-8 goes as a binary frame even in a text
    # session (SES-6); it arrives byte for byte.
    blob = bytes(range(256)) * 4
    f = tmp_path / "blob.bin"
    f.write_bytes(blob.replace(b"\n", b"\x00"))
    pub = client("publish", small_credit_broker.url, "blob", "--file", str(f), "--encoding", "text",
                 "--content-type", "application/octet-stream")
    assert pub.returncode == 0, pub.stderr
    import subprocess
    from peer_fixtures import PEER
    con = subprocess.run([PEER, "client", "consume", small_credit_broker.url, "blob", "--count", "1"],
                         capture_output=True, timeout=30)
    assert con.returncode == 0, con.stderr
    assert con.stdout == f.read_bytes() + b"\n"


def test_count_does_not_lose_messages(small_credit_broker):
    # A consumer that takes 5 of 12 must leave the other 7 queued: its
    # limit never passes its count, so nothing is acknowledged unprinted.
    addr = "count-split"
    bodies = [str(i) for i in range(12)]
    assert client("publish", small_credit_broker.url, addr, *bodies).returncode == 0
    first = client("consume", small_credit_broker.url, addr, "--count", "5", "--credit", "64")
    assert first.returncode == 0, first.stderr
    rest = client("consume", small_credit_broker.url, addr, "--count", "7")
    assert rest.returncode == 0, rest.stderr
    assert first.stdout.splitlines() + rest.stdout.splitlines() == bodies


def test_count_larger_than_window(small_credit_broker):
    # The window (64) is smaller than the count (250): the limit must still
    # reach exactly 250, however the ACKs are batched, and no further.
    addr = "count-window"
    bodies = [f"w{i}" for i in range(300)]
    r = client("publish", small_credit_broker.url, addr, stdin="\n".join(bodies) + "\n")
    assert r.returncode == 0, r.stderr
    first = client("consume", small_credit_broker.url, addr, "--count", "250", "--credit", "64",
                   timeout=30)
    assert first.returncode == 0, first.stderr
    rest = client("consume", small_credit_broker.url, addr, "--count", "50", timeout=30)
    assert rest.returncode == 0, rest.stderr
    assert first.stdout.splitlines() + rest.stdout.splitlines() == bodies


def test_subprotocol_order_decides(small_credit_broker):
    # WS-2: the first offered name the broker supports wins.
    r = client("publish", small_credit_broker.url, "order", "x", "--subprotocol", MBLWS,
               "--subprotocol", MBWS)
    assert r.returncode == 0, r.stderr
    assert "session (MBLWS)" in r.stderr
    r = client("publish", small_credit_broker.url, "order", "y", "--subprotocol", MBWS,
               "--subprotocol", MBLWS)
    assert r.returncode == 0, r.stderr
    assert "session (MBLWS)" not in r.stderr


def test_unsupported_subprotocol_is_refused(small_credit_broker):
    r = client("publish", small_credit_broker.url, "nope", "x", "--subprotocol", "mbws.huawei.com")
    assert r.returncode == 5, r.stderr  # handshake refused: could not connect


def test_wss(tmp_path):
    # wss:// with --cert/--key: the reference client and a third-party stack.
    import asyncio
    import shutil
    import ssl
    import subprocess

    import websockets
    from peer_fixtures import Broker
    if not shutil.which("openssl"):
        pytest.skip("openssl not installed")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    b = Broker(tmp_path, "--cert", str(cert), "--key", str(key))
    try:
        assert b.url.startswith("wss://")
        assert client("publish", b.url, "tls", "secret one", "secret two").returncode == 0
        r = client("consume", b.url, "tls", "--count", "2")
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines() == ["secret one", "secret two"]

        ctx = ssl.create_default_context(cafile=str(cert))
        ctx.check_hostname = False

        async def third_party():
            async with websockets.connect(b.url, ssl=ctx, subprotocols=[MBLWS]) as ws:
                await ws.send("CONNECT\nversion:1\ncredit:1\nmax-frame:1024\n\n")
                return (await ws.recv()).split("\n")[0]
        assert asyncio.run(asyncio.wait_for(third_party(), 10)) == "CONNECTED"
    finally:
        assert b.stop() == 0
