"""`mbws-peer bench --idle-sessions N` (scale mode) and `--event-loop`: the
sessions really are open on the broker while the bench measures, the summary
line scripts read has its documented form, and every event loop serves the
same traffic. Figures are printed, never judged here (docs/benchmark.md)."""
import re
import subprocess

import pytest

from peer_fixtures import PEER, Broker, needs_peer

pytestmark = needs_peer

SUMMARY = re.compile(r"^idle sessions: (\d+) connected in ([0-9.]+) s, "
                     r"broker RSS per session ([0-9.]+|unknown) KiB", re.M)


def bench(url, *args, timeout=120):
    return subprocess.run([PEER, "bench", url, "--sizes", "100", "--messages", "400", "--no-raw",
                           "--clients", "2", *args],
                          capture_output=True, text=True, timeout=timeout)


def test_idle_sessions_attached_while_measuring(tmp_path):
    broker = Broker(tmp_path)
    try:
        r = bench(broker.url, "--idle-sessions", "300")
        assert r.returncode == 0, r.stdout + r.stderr
        m = SUMMARY.search(r.stdout)
        assert m, r.stdout
        assert int(m.group(1)) == 300
        assert m.group(3) != "unknown"  # the broker was found through its port
        assert re.search(r"^MBWS +100 B: +\d+ msg/s", r.stdout, re.M), r.stdout
        # the broker saw 300 sessions CONNECTED besides the 4 measuring ones
        # and every one of them ended with a DISCONNECT
        log = broker.log()
        assert log.count("CONNECTED, session") == 304, log[-2000:]
        assert log.count("ended (DISCONNECT)") == 304, log[-2000:]
    finally:
        broker.stop()


def test_idle_sessions_refused_off_loopback():
    r = bench("ws://192.0.2.1:8080/", "--idle-sessions", "10", timeout=30)
    assert r.returncode == 2
    assert "loopback" in r.stderr


@pytest.mark.parametrize("loop", ["libev", "libuv", "poll"])
def test_every_event_loop_serves(tmp_path, loop):
    broker = Broker(tmp_path, "--event-loop", loop)
    try:
        r = bench(broker.url, "--event-loop", loop)
        assert r.returncode == 0, r.stdout + r.stderr
        assert re.search(r"^MBWS +100 B: +\d+ msg/s .*\(400 messages", r.stdout, re.M), r.stdout
        assert f"event loop {loop}" in broker.log()
    finally:
        assert broker.stop() == 0


def test_unknown_event_loop_refused():
    r = subprocess.run([PEER, "broker", "--event-loop", "select"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2
    assert "--event-loop" in r.stderr and "libev" in r.stderr
