"""The reference broker out of file descriptors (issue 15): it keeps a
headroom below RLIMIT_NOFILE, closes connections beyond it at once instead of
busy-looping on EMFILE, logs the refusals at most once per second with a
count, and serves new clients again as soon as descriptors are free."""
import os
import socket
import time
from pathlib import Path

from peer_fixtures import Broker, needs_peer

LIMIT = 200


def _cpu_seconds(pid):
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def _upgrade(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
              b"Sec-WebSocket-Protocol: MBWS.huawei.com\r\n\r\n")
    line = s.recv(200).split(b"\r\n")[0]
    s.close()
    return line


@needs_peer
def test_broker_refuses_beyond_its_descriptors(tmp_path):
    b = Broker(tmp_path, wrapper=("prlimit", f"--nofile={LIMIT}:{LIMIT}"))
    socks = []
    try:
        for _ in range(2 * LIMIT):
            s = socket.socket()
            s.settimeout(5)
            s.connect(("127.0.0.1", b.port))  # the listen backlog takes them all
            socks.append(s)
        time.sleep(2)
        cpu0 = _cpu_seconds(b.proc.pid)
        time.sleep(2)
        busy = _cpu_seconds(b.proc.pid) - cpu0
        assert busy < 0.5, f"broker used {busy:.2f} s of CPU in 2 s while out of descriptors"
        open_now = 0
        for s in socks:
            s.setblocking(False)
            try:
                open_now += s.recv(1) != b""
            except BlockingIOError:
                open_now += 1  # still open: nothing to read
            except OSError:
                pass
        assert 0 < open_now < LIMIT, open_now
        for s in socks:
            s.close()
        socks = []
        time.sleep(1)
        assert _upgrade(b.port).startswith(b"HTTP/1.1 101"), "no service after descriptors freed"
    finally:
        for s in socks:
            s.close()
        b.stop()
    log = b.log()
    reports = [ln for ln in log.splitlines() if "out of file descriptors" in ln]
    assert reports and "refused" in reports[0]
    assert len(reports) <= 6, f"{len(reports)} reports in a few seconds: not once per second"
    assert "errno 24" not in log
