"""Render the HTML report in headless Chromium: after its script ran, it
shows the summary, a failing case and its wire log, and filters work."""
import os
import re

import pytest

from harness_support import CHROMIUM, chromium, fake_run  # noqa: F401

pytestmark = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason="no /usr/bin/chromium")


def visible_records(dom):
    return re.findall(r'<details class="rec (\w+)"[^>]*>', dom)


def test_rendered_report_shows_summary_failure_and_wire_log(fake_run):
    url = (fake_run.run_dir / "index.html").as_uri()
    proc = chromium(url, "--dump-dom", "--virtual-time-budget=3000")
    dom = proc.stdout
    assert "<html" in dom, proc.stderr[-2000:]
    assert "MBWS profile 1 conformance report" in dom
    assert re.search(r'id="n-total">21<', dom) and re.search(r'id="n-fail">1<', dom)
    # the script ran: it wrote the count of shown records
    assert re.search(r'id="fcount">21 of 21 shown<', dom)
    # the failing case is open, with its failed step and its wire log
    m = re.search(r'<details class="rec fail" id="reference--B-FLOW-003-MBWS-binary"[^>]*\bopen\b', dom)
    assert m, "failing case not rendered open"
    block = dom[m.start():].split("</details>", 1)[0]
    assert "expected: ACK seq=5 within 1000 ms (+500 ms tolerance)" in block
    assert "CONNECT version=1 credit=16 max-frame=65536" in block
    assert "FAKE-WIRE-MARK B-FLOW-003 no ACK in 1500 ms" in block


def test_filter_from_url_hides_other_verdicts(fake_run):
    url = (fake_run.run_dir / "index.html").as_uri() + "?verdict=fail,error"
    dom = chromium(url, "--dump-dom", "--virtual-time-budget=3000").stdout
    assert re.search(r'id="fcount">2 of 21 shown<', dom), dom[-500:]
    recs = re.findall(r'<details class="rec (\w+)( hidden)?"', dom)
    shown = [v for v, hidden in recs if not hidden]
    assert sorted(shown) == ["error", "fail"]


def test_screenshot_is_rendered(fake_run, tmp_path):
    shot = tmp_path / "report.png"
    proc = chromium((fake_run.run_dir / "index.html").as_uri(), f"--screenshot={shot}",
                    "--window-size=1400,1800", "--hide-scrollbars")
    assert shot.exists(), proc.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20000


def test_wire_log_shows_close_code_reason_and_decoder_error(fake_run):
    url = (fake_run.run_dir / "index.html").as_uri() + "#reference--B-FLOW-003-MBWS-binary"
    dom = chromium(url, "--dump-dom", "--virtual-time-budget=3000").stdout
    m = re.search(r'<details class="rec fail" id="reference--B-FLOW-003-MBWS-binary"', dom)
    block = dom[m.start():].split("</details>", 1)[0]
    assert 'close code 4007 reason "flow exceeded"' in block
    assert "does not decode: unknown frame type 0xff" in block


def test_certificate_opens_the_report(fake_run):
    dom = chromium((fake_run.run_dir / "index.html").as_uri(), "--dump-dom",
                   "--virtual-time-budget=3000").stdout
    cert = dom.index('id="certificate"')
    assert cert < dom.index('id="summary"') < dom.index('id="results"')
    block = dom[cert:dom.index('id="summary"')]
    assert "MBWS profile 1, revision 4" in block
    assert '<code class="connected-name">fake broker 1.0</code>' in block
    assert re.search(r'href="[^"]*docs/protocol\.md#FLOW-3"', block)
    # every requirement of the (fake) profile has a row with a verdict
    import json
    reqs = json.loads((fake_run.run_dir / "results.json").read_text())["certificate"]["targets"][0]["requirements"]
    assert len(re.findall(r'<tr class="cr-', block)) == len(reqs) > 0


def test_client_output_loads_with_the_wire_log(fake_run):
    html = (fake_run.run_dir / "index.html").read_text()
    assert "FAKE-CLIENT-OUTPUT" not in html  # not inline: index.html stays small
    url = (fake_run.run_dir / "index.html").as_uri() + "#reference--C-ECHO-001-MBWS-binary"
    dom = chromium(url, "--dump-dom", "--virtual-time-budget=3000").stdout
    block = dom[dom.index('id="reference--C-ECHO-001-MBWS-binary"'):].split("</table>", 1)[0]
    assert "client under test: exit status 0, output" in block
    assert "FAKE-CLIENT-OUTPUT C-ECHO-001" in block
