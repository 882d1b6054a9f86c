"""wss:// in the engine: cases pass over TLS in both roles, byte-level steps
work inside TLS, and every handshake failure is an `error` whose reason
names the cause and the fix (untrusted certificate, host name mismatch,
plain ws:// to a TLS port and the reverse). Certificates are made per test
session with the openssl command, never kept in the repository."""
import json
import shutil
import socket
import subprocess
import time

import pytest

import harness_support  # noqa: F401  (puts harness/ on sys.path)
from engine_fixtures import ROOT, peer, run_engine  # noqa: F401
from mbws_harness.targets import BundledBroker
from mbws_harness.tls import make_certificates

pytestmark = pytest.mark.skipif(not shutil.which("openssl"), reason="openssl not installed")

FLOW = ROOT / "cases" / "flow"
# Byte-level control inside TLS: a drop (B-BRK-104), raw TCP octets (B-BRK-101),
# fragments with a hold (B-SES-209), a header announcing more than is sent (B-SIZE-002).
BYTE_LEVEL = [ROOT / "cases" / p for p in ("broker/B-BRK-104.json", "broker/B-BRK-101.json",
                                           "session/B-SES-209.json", "session/B-SIZE-002.json")]
ONE = ["--subprotocol", "MBWS.huawei.com", "--encoding", "binary"]


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    good = make_certificates(d / "good")
    other = make_certificates(d / "other")  # a CA that signed nothing the broker has
    wrong_name = make_certificates(d / "wrong-name", san="DNS:example.com")
    return {"ca": good[0], "cert": good[1], "key": good[2], "other_ca": other[0],
            "wrong_name": wrong_name}


def _broker(peer, tmp_path, tls):
    b = BundledBroker([peer], tmp_path / "broker.log", tls=tls)
    b.start()
    return b


@pytest.fixture(scope="module")
def tls_broker(peer, certs, tmp_path_factory):
    b = _broker(peer, tmp_path_factory.mktemp("b"), (certs["cert"], certs["key"]))
    yield b.url
    b.stop()


@pytest.fixture(scope="module")
def plain_broker(peer, tmp_path_factory):
    b = _broker(peer, tmp_path_factory.mktemp("p"), None)
    yield b.url
    b.stop()


def test_broker_cases_pass_over_wss_with_the_target_tls_facts(peer, certs, tls_broker, tmp_path):
    r = run_engine(peer, tmp_path, [FLOW, ROOT / "cases" / "handshake"] + BYTE_LEVEL, "--target",
                   tls_broker, "--ca-file", certs["ca"], "--jobs", "8", *ONE, timeout=180)
    assert r.rc == 0, r.stderr[-3000:]
    decided = [x for x in r.results if x["verdict"] != "skip"]
    assert len(decided) > 20 and {x["verdict"] for x in decided} == {"pass"}
    tls = r.doc["target"]["tls"]
    assert tls["version"].startswith("TLSv1.") and tls["cipher"]
    assert tls["subject"] == "/CN=localhost" and tls["verified"] is True
    note = [w["note"] for w in decided[0]["wire"] if "TLS" in w.get("note", "")]
    assert note and "certificate /CN=localhost" in note[0]


def test_insecure_is_stated_in_the_result(peer, tls_broker, tmp_path):
    r = run_engine(peer, tmp_path, [FLOW / "B-FLOW-003.json"], "--target", tls_broker,
                   "--insecure", *ONE)
    assert r.rc == 0, r.stderr
    assert r.doc["target"]["tls"]["verified"] is False


def test_wrong_ca_makes_every_execution_an_error_at_once(peer, certs, tls_broker, tmp_path):
    t0 = time.monotonic()
    r = run_engine(peer, tmp_path, [FLOW], "--target", tls_broker, "--ca-file", certs["other_ca"])
    assert time.monotonic() - t0 < 5
    assert r.rc == 1 and len(r.results) > 20
    assert {x["verdict"] for x in r.results} == {"error"}
    assert all("certificate not trusted" in x["reason"] and tls_broker in x["reason"]
               and "--ca-file" in x["reason"] for x in r.results)


def test_host_name_mismatch_is_named(peer, certs, tmp_path):
    _, cert, key = certs["wrong_name"]
    b = _broker(peer, tmp_path, (cert, key))
    try:
        r = run_engine(peer, tmp_path, [FLOW / "B-FLOW-003.json"], "--target", b.url,
                       "--ca-file", certs["wrong_name"][0], *ONE)
    finally:
        b.stop()
    assert r.rc == 1 and r.one()["verdict"] == "error"
    assert "host name mismatch" in r.one()["reason"] and "127.0.0.1" in r.one()["reason"]


def test_plain_ws_to_a_tls_port_and_the_reverse(peer, certs, tls_broker, plain_broker, tmp_path):
    r = run_engine(peer, tmp_path, [FLOW / "B-FLOW-003.json"], "--target",
                   tls_broker.replace("wss://", "ws://"), *ONE)
    assert r.one()["verdict"] == "error", r.stderr
    assert "speaks TLS on this port" in r.one()["reason"] and "wss://" in r.one()["reason"]
    r = run_engine(peer, tmp_path, [FLOW / "B-FLOW-003.json"], "--target",
                   plain_broker.replace("ws://", "wss://"), "--ca-file", certs["ca"], *ONE)
    assert r.rc == 1 and r.one()["verdict"] == "error", r.stderr
    assert "TLS handshake" in r.one()["reason"] and "ws://" in r.one()["reason"]


def test_client_role_over_wss_with_the_echo_client(peer, certs, tmp_path):
    r = run_engine(peer, tmp_path, [FLOW], "--listen", "127.0.0.1:0", "--cert", certs["cert"],
                   "--key", certs["key"], "--ca-file", certs["ca"], "--client-cmd",
                   f"{peer} echo", "--jobs", "4", "--encoding", "binary", timeout=180)
    assert r.rc == 0, r.stderr[-3000:]
    ran = next(x for x in r.results if x["verdict"] == "pass")
    started = [w["note"] for w in ran["wire"] if "started client" in w.get("note", "")]
    assert "MBWS_URL=wss://" in started[0] and f"MBWS_CA_FILE={certs['ca']}" in started[0]
    assert r.doc["target"]["tls"]["version"].startswith("TLSv1.")


def test_a_client_that_does_not_trust_the_certificate_is_an_error(peer, certs, tmp_path):
    r = run_engine(peer, tmp_path, [FLOW / "C-FLOW-302.json"], "--listen", "127.0.0.1:0",
                   "--cert", certs["cert"], "--key", certs["key"], "--ca-file", certs["other_ca"],
                   "--client-cmd", f"{peer} echo", *ONE)
    assert r.rc == 1 and r.one()["verdict"] == "error", r.stderr
    assert "refused the engine's certificate" in r.one()["reason"]
    assert "MBWS_CA_FILE" in r.one()["reason"]


def test_a_client_speaking_plain_ws_to_the_tls_listener_is_named(peer, certs, tmp_path):
    cmd = f'MBWS_URL=$(echo "$MBWS_URL" | sed s/wss:/ws:/) {peer} echo'
    r = run_engine(peer, tmp_path, [FLOW / "C-FLOW-302.json"], "--listen", "127.0.0.1:0",
                   "--cert", certs["cert"], "--key", certs["key"], "--client-cmd", cmd, *ONE)
    assert r.one()["verdict"] == "error", r.stderr
    assert "spoke plain ws://" in r.one()["reason"]


@pytest.mark.parametrize("args, why", [
    (["--target", "ws://127.0.0.1:1/", "--insecure"], "need a wss:// --target"),
    (["--target", "wss://127.0.0.1:1/", "--cert", "x.pem", "--key", "x.key"], "--client-cert"),
    (["--listen", "127.0.0.1:0", "--client-cmd", "true", "--insecure"], "wss:// --target"),
    (["--target", "wss://127.0.0.1:1/", "--ca-file", "/nonexistent.pem"], "/nonexistent.pem"),
])
def test_misplaced_tls_options_are_refused(peer, tmp_path, args, why):
    r = run_engine(peer, tmp_path, [FLOW / "B-FLOW-003.json"], *args)
    assert r.rc == 2 and why in r.stderr, r.stderr


VG = ["valgrind", "-q", "--leak-check=full", "--errors-for-leak-kinds=definite,possible",
      "--error-exitcode=99"]


@pytest.mark.skipif(not shutil.which("valgrind"), reason="valgrind not installed")
def test_tls_in_both_roles_under_valgrind(peer, certs, tls_broker, tmp_path):
    """Memcheck-clean with TLS: handshakes, reads, writes, drops and close_notify
    in the worker processes, and the refused handshake in the parent."""
    brokers = [FLOW / "B-FLOW-003.json"] + BYTE_LEVEL
    for cases, args in (
            (brokers, ["--target", tls_broker, "--ca-file", certs["ca"]]),
            (brokers, ["--target", tls_broker, "--ca-file", certs["other_ca"]]),
            ([FLOW / "C-FLOW-302.json"], ["--listen", "127.0.0.1:0", "--cert", certs["cert"],
                                           "--key", certs["key"], "--ca-file", certs["ca"],
                                           "--client-cmd", f"{peer} echo"])):
        out = tmp_path / "vg.json"
        cmd = VG + [peer, "run", *[a for c in cases for a in ("--case", str(c))], *ONE,
                    "--jobs", "2", *args, "--json", str(out)]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=400)
        assert "==" not in p.stderr and p.returncode in (0, 1), p.stderr[-3000:]
        results = json.loads(out.read_text())["results"]
        want = "error" if certs["other_ca"] in args else "pass"
        assert {x["verdict"] for x in results if x["verdict"] != "skip"} == {want}, p.stderr


def test_suite_over_tls_reports_the_tls_facts(peer, tmp_path):
    """mbws-suite --tls: the reference broker and echo client over wss://."""
    run = harness_support.run_suite(tmp_path, "--tls", "--section", "flow", "-k", "MBWS and binary",
                                    peer=peer, cases=ROOT / "cases", timeout=300)
    assert run.rc == 0, run.out[-3000:]
    doc = run.results()
    t = doc["targets"][0]
    assert t["broker_url"].startswith("wss://")
    assert t["broker_tls"]["version"].startswith("TLSv1.") and t["broker_tls"]["verified"]
    assert t["client_tls"]["version"].startswith("TLSv1.")
    assert "TLS: TLSv1." in (run.run_dir / "index.html").read_text()
    cert = doc["certificate"]["targets"][0]["tls"]  # the conformance statement names the TLS too
    assert cert["broker"]["version"].startswith("TLSv1.") and cert["client"]["version"].startswith("TLSv1.")
    html = (run.run_dir / "index.html").read_text()
    assert "<th>TLS</th><td>broker: TLSv1." in html[html.index('id="certificate"'):html.index('id="summary"')]
    assert not (run.run_dir / "tls" / "server.key").exists()  # the key is not kept


def test_suite_with_a_wrong_ca_errs_every_case(peer, certs, tls_broker, tmp_path):
    run = harness_support.run_suite(tmp_path, "--target-url", tls_broker, "--ca-file",
                                    certs["other_ca"], "--section", "flow", peer=peer,
                                    cases=ROOT / "cases", timeout=120)
    assert run.rc == 1, run.out[-3000:]
    res = run.results()["results"]
    assert res and {r["verdict"] for r in res} == {"error"}
    assert all("certificate not trusted" in r["reason"] for r in res)


def _s_server(tmp_path, *args, every_interface=False):
    """`openssl s_server` on a free loopback port; returns (Popen, wss URL)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    accept = str(port) if every_interface else f"127.0.0.1:{port}"
    proc = subprocess.Popen(["openssl", "s_server", "-accept", accept, "-quiet", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return proc, f"wss://127.0.0.1:{port}/"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    pytest.fail("openssl s_server did not start")


def test_tls_version_refused_is_named(peer, certs, tmp_path):
    proc, url = _s_server(tmp_path, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0",
                          "-cert", certs["cert"], "-key", certs["key"])
    try:
        r = run_engine(peer, tmp_path, [FLOW / "B-FLOW-003.json"], "--target", url,
                       "--ca-file", certs["ca"], *ONE)
    finally:
        proc.kill()
        proc.wait()
    assert r.rc == 1 and r.one()["verdict"] == "error", r.stderr
    assert "TLS version refused" in r.one()["reason"]


def test_client_certificate_for_mutual_tls(peer, certs, tmp_path):
    """A broker that demands a client certificate: without one every case is
    an error naming --client-cert; with one the TLS handshake goes through
    (s_server then answers the upgrade with a web page: a fail, not TLS)."""
    d = tmp_path / "client"
    d.mkdir()
    key, csr, crt = d / "c.key", d / "c.csr", d / "c.pem"
    subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", csr, "-subj", "/CN=mbws test client"], check=True,
                   capture_output=True)
    # a client certificate signed by a CA of its own, which the server trusts
    ca_dir = tmp_path / "client-ca"
    ca_dir.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    ca_dir / "cca.key", "-out", ca_dir / "cca.pem", "-days", "2", "-subj",
                    "/CN=client CA"], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca_dir / "cca.pem", "-CAkey",
                    ca_dir / "cca.key", "-CAcreateserial", "-out", crt, "-days", "2"],
                   check=True, capture_output=True)
    proc, url = _s_server(tmp_path, "-Verify", "1", "-CAfile", str(ca_dir / "cca.pem"),
                          "-cert", certs["cert"], "-key", certs["key"], "-www")
    try:
        without = run_engine(peer, tmp_path, [FLOW / "B-FLOW-003.json"], "--target", url,
                             "--ca-file", certs["ca"], *ONE)
        with_cert = run_engine(peer, tmp_path, [FLOW / "B-FLOW-003.json"], "--target", url,
                               "--ca-file", certs["ca"], "--client-cert", str(crt),
                               "--client-key", str(key), *ONE)
    finally:
        proc.kill()
        proc.wait()
    assert without.one()["verdict"] == "error", without.stderr
    assert "--client-cert" in without.one()["reason"]
    assert with_cert.one()["verdict"] == "fail", with_cert.stderr
    assert "upgrade refused with HTTP 200" in with_cert.one()["reason"]


def test_sni_names_the_host(peer, certs, tmp_path):
    """The server picks its certificate by SNI: wss://localhost gets the one for
    localhost; an IP address sends no SNI (RFC 6066) and gets the default,
    made for another name: a host name mismatch."""
    wrong_ca, wrong_cert, wrong_key = certs["wrong_name"]
    proc, url = _s_server(tmp_path, "-cert", wrong_cert, "-key", wrong_key, "-servername",
                          "localhost", "-cert2", certs["cert"], "-key2", certs["key"], "-www",
                          every_interface=True)
    try:
        by_name = run_engine(peer, tmp_path, [FLOW / "B-FLOW-003.json"], "--target",
                             url.replace("127.0.0.1", "localhost"), "--ca-file", certs["ca"], *ONE)
        by_ip = run_engine(peer, tmp_path, [FLOW / "B-FLOW-003.json"], "--target", url,
                           "--ca-file", wrong_ca, *ONE)
    finally:
        proc.kill()
        proc.wait()
    assert "upgrade refused with HTTP 200" in by_name.one()["reason"], by_name.stderr
    assert "host name mismatch" in by_ip.one()["reason"], by_ip.stderr
