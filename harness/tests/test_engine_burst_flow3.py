"""A burst of credit+1 MESSAGEs (`burst: true` in a `repeat`) and the
automatic variable peer_acked_over_limit: C-ENG-002 passes on ERROR 7,
fails a client that ACKed the excess while its limit was below it, and
skips (appendix B) one that raised its limit before acknowledging it."""
import pytest

from engine_fixtures import case, client_cmd, peer, run_engine  # noqa: F401


@pytest.mark.parametrize("mode,verdict", [
    ("flow3", "pass"),
    ("ack-then-flow", "fail"),
    ("good", "skip"),
])
def test_burst_above_credit(peer, tmp_path, mode, verdict):
    r = run_engine(peer, tmp_path, [case("C-ENG-002")], "--listen", "127.0.0.1:0",
                   "--client-cmd", client_cmd(mode), "--jobs", "4")
    assert [x["verdict"] for x in r.results] == [verdict] * 4, [x["reason"] for x in r.results]
    res = r.results[0]
    if verdict == "fail":
        assert res["failed_step"]["kind"] == "expect"
        assert "ERROR" in res["failed_step"]["expected"]
    if verdict == "skip":
        assert "appendix B" in res["reason"] and "before it acknowledged seq 17" in res["reason"]
    # burst: nothing was read between the 17 MESSAGEs (they leave in one write)
    wire = [w for w in res["wire"] if w["dir"] in ("in", "out")]
    outs = [k for k, w in enumerate(wire) if w["dir"] == "out" and "MESSAGE" in w.get("frame", "")]
    assert len(outs) == 17
    assert outs == list(range(outs[0], outs[0] + 17))
