"""--start: the broker under test runs in its own process group, is stopped
with everything it spawned, readiness fails fast, and a port that is already
taken is refused instead of certifying whatever holds it."""
import os
import socket
import subprocess
import sys
import time

from harness_support import run_suite

# A stand-in broker: a TCP listener, started as a grandchild of the start
# command (the shell wrapper is not the process that holds the port).
LISTENER = ("import socket,sys; s=socket.socket(); "
            "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
            "s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(16); "
            "[s.accept()[0].close() for _ in iter(int, 1)]")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is not alive (it can only be waiting for its parent to reap it)
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def start_cmd(port, pidfile):
    # '&' plus 'wait': the listener is the shell's child, and the shell ignores
    # nothing; killing only the shell (the old bug) would leave the listener.
    return f"{sys.executable} -c \"{LISTENER}\" {port} & echo $! > {pidfile}; wait"


def test_started_broker_and_its_children_are_stopped(tmp_path):
    port, pidfile = free_port(), tmp_path / "pid"
    run = run_suite(tmp_path, "--run-id", "one", "--target-url", f"ws://127.0.0.1:{port}/",
                    "--start", start_cmd(port, pidfile), "-k", "B-FLOW-001")
    assert run.rc == 0, run.out
    pid = int(pidfile.read_text())
    assert not alive(pid), "the started broker's child is still running"
    assert not listening(port), f"something still listens on {port}"
    doc = run.results()
    assert doc["started_broker"]["log"] == "broker-under-test.log"
    assert (run.run_dir / "broker-under-test.log").exists()


def test_second_start_on_a_taken_port_refuses_to_certify_the_first(tmp_path):
    port, pidfile = free_port(), tmp_path / "pid"
    # The first "run" left its broker behind (the bug this guards against).
    stale = subprocess.Popen([sys.executable, "-c", LISTENER, str(port)], start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while not listening(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        run = run_suite(tmp_path, "--run-id", "two", "--target-url", f"ws://127.0.0.1:{port}/",
                        "--start", start_cmd(port, pidfile), "-k", "B-FLOW-001")
        assert run.rc == 4, run.out
        assert "already accepts connections before the broker was started" in run.out
        assert not run.invocations(), "the engine ran against the stale broker"
        assert not pidfile.exists(), "the start command ran although the port was taken"
        doc = run.results()
        assert "another process holds the port" in doc["not_run"]
        assert stale.poll() is None, "the suite stopped a process it did not start"
    finally:
        stale.kill()
        stale.wait()


def test_start_fails_fast_when_the_broker_exits(tmp_path):
    port = free_port()
    t0 = time.monotonic()
    run = run_suite(tmp_path, "--run-id", "dies", "--target-url", f"ws://127.0.0.1:{port}/",
                    "--start", "echo 'bind: address already in use' >&2; exit 3")
    assert run.rc == 4, run.out
    assert time.monotonic() - t0 < 15, "readiness kept waiting for a process that had exited"
    assert "exited (status 3)" in run.out and "address already in use" in run.out
    assert "address already in use" in (tmp_path / "reports" / "dies" / "broker-under-test.log").read_text()


def test_url_without_port_means_80_and_start_needs_a_target_url(tmp_path):
    sys.path.insert(0, str(__import__("harness_support").HARNESS))
    from mbws_harness.started import host_port
    assert host_port("ws://127.0.0.1/") == ("127.0.0.1", 80)
    assert host_port("wss://example.org/x") == ("example.org", 443)
    run = run_suite(tmp_path, "--start", "true")
    assert run.rc == 4 and "--start needs --target-url" in run.out
