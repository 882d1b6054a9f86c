"""No loss, no duplicates: two publisher processes send 10,000 messages
through the broker to two competing consumers while a TCP proxy cuts every
connection several times. On MBWS.huawei.com the clients resume (RES-2..8),
and every message arrives exactly once, in order per consumer and publisher
(BRK-1, BRK-2, BRK-4, SEQ-3, ACK-5)."""
import signal
import subprocess
import time

from peer_fixtures import MBWS, Broker, CutProxy, LineReader, needs_peer, start_client, stop

pytestmark = needs_peer

TOTAL = 10_000
PUBLISHERS = 2
CUTS = 5


def test_exactly_once_through_cuts(tmp_path):
    broker = Broker(tmp_path, "--session-expiry", "30", "--credit", "64")
    proxy = CutProxy(broker.port)
    consumers, publishers = [], []
    try:
        for _ in range(2):
            # Credit 1: one message per round trip, so the cuts land mid-stream.
            p = start_client("consume", proxy.url, "no-loss", "--subprotocol", MBWS, "--credit", "1")
            consumers.append((p, LineReader(p)))
        time.sleep(0.5)
        per_pub = TOTAL // PUBLISHERS
        for k in range(PUBLISHERS):
            p = start_client("publish", proxy.url, "no-loss", "--subprotocol", MBWS,
                             stdin=subprocess.PIPE)
            publishers.append(p)
            p.stdin.write("".join(f"p{k}-{i:06d}\n" for i in range(per_pub)))
            p.stdin.close()

        def received():
            return sum(len(r.lines) for _, r in consumers)

        # Cut while traffic flows, spread over the run.
        cut_counts = []
        deadline = time.time() + 120
        next_cut = 0
        while received() < TOTAL and time.time() < deadline:
            if next_cut < CUTS and received() >= (next_cut + 1) * TOTAL // (CUTS + 2):
                cut_counts.append(proxy.cut())
                next_cut += 1
            time.sleep(0.02)
        # Anything still owed would show up now: wait a little for extras.
        time.sleep(1.0)
        assert next_cut == CUTS, f"only {next_cut} cuts happened before the end"
        assert all(n >= 1 for n in cut_counts), cut_counts

        for p in publishers:
            assert p.wait(60) == 0, p.stderr.read()
        for p, r in consumers:
            assert stop(p, signal.SIGINT) == 0, p.stderr.read()
            r.join()

        every = [line for _, r in consumers for line in r.lines]
        assert len(every) == TOTAL, f"{len(every)} lines, {len(set(every))} distinct"
        assert len(set(every)) == TOTAL  # no duplicates
        expected = {f"p{k}-{i:06d}" for k in range(PUBLISHERS) for i in range(TOTAL // PUBLISHERS)}
        assert set(every) == expected  # no loss
        for _, r in consumers:  # in order per consumer and publisher
            for k in range(PUBLISHERS):
                mine = [line for line in r.lines if line.startswith(f"p{k}-")]
                assert mine == sorted(mine)
        # Both consumers took part (BRK-2) and the clients really resumed.
        assert all(len(r.lines) > 0 for _, r in consumers)
        assert proxy.accepted >= 4 + CUTS, proxy.accepted
    finally:
        for p in publishers:
            stop(p)
        for p, _ in consumers:
            stop(p)
        proxy.close()
        status = broker.stop()
    assert status == 0, broker.log()[-3000:]
    assert "resumed" in broker.log()
