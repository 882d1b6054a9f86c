"""SES-7 initiator duties need a way to make each side start a DISCONNECT:
the engine's broker_disconnect step runs --broker-disconnect-cmd (with
MBWS_URL and MBWS_ADDRESS) and skips without one; the reference broker's
--control-address is such a trigger; a C- case's disconnect_after reaches
the client under test as MBWS_DISCONNECT_AFTER (ECHO-4)."""
import shlex

from engine_fixtures import peer, run_engine, write_case  # noqa: F401
from peer_fixtures import Broker

CONTROL = "ctl/x"


def trigger_case(extra_steps=()):
    return {
        "id": "B-ENG-951", "title": "broker_disconnect", "description": "engine self-test",
        "requirements": ["SES-7"], "section": "engine", "subprotocols": ["MBWS.huawei.com"],
        "encodings": ["binary"],
        "steps": [{"open_session": True},
                  {"send": "SUBSCRIBE", "fields": {"sub": 1, "address": "${addr}"}},
                  {"broker_disconnect": "${addr}"},
                  *extra_steps],
    }


def publish_cmd(peer):
    return (f"{shlex.quote(str(peer))} client publish \"$MBWS_URL\" {CONTROL} "
            f"\"disconnect $MBWS_ADDRESS\"")


def test_without_a_command_the_step_skips_with_the_reason(peer, tmp_path):
    b = Broker(tmp_path)
    try:
        r = run_engine(peer, tmp_path, [write_case(tmp_path, trigger_case())], "--target", b.url)
    finally:
        b.stop()
    res = r.one()
    assert res["verdict"] == "skip", res
    assert "no --broker-disconnect-cmd configured" in res["reason"], res["reason"]


def test_the_command_gets_url_and_address_and_its_failure_is_an_error(peer, tmp_path):
    b = Broker(tmp_path)
    seen = tmp_path / "env.txt"
    try:
        r = run_engine(peer, tmp_path, [write_case(tmp_path, trigger_case())], "--target", b.url,
                       "--broker-disconnect-cmd", f'echo "$MBWS_URL $MBWS_ADDRESS" > {seen}; exit 3')
    finally:
        b.stop()
    res = r.one()
    assert res["verdict"] == "error", res
    assert "exited with status 3" in res["reason"], res["reason"]
    url, addr = seen.read_text().split()
    assert url == b.url and addr.startswith("mbws-test/"), (url, addr)


def test_the_control_address_makes_the_reference_broker_disconnect(peer, tmp_path):
    b = Broker(tmp_path, "--control-address", CONTROL)
    steps = [{"expect": "DISCONNECT", "ignore": ["FLOW"], "within_ms": 2000},
             {"send": "DISCONNECT"},
             {"expect_close": 1000, "within_ms": 2500}]
    try:
        r = run_engine(peer, tmp_path, [write_case(tmp_path, trigger_case(steps))],
                       "--target", b.url, "--broker-disconnect-cmd", publish_cmd(peer))
    finally:
        b.stop()
    res = r.one()
    assert res["verdict"] == "pass", res["reason"]
    assert "control: DISCONNECT of the sessions subscribed to mbws-test/" in b.log()


def test_a_control_message_without_the_verb_is_ignored_and_not_queued(peer, tmp_path):
    b = Broker(tmp_path, "--control-address", CONTROL)
    try:
        cmd = f"{shlex.quote(str(peer))} client publish \"$MBWS_URL\" {CONTROL} \"hello\""
        steps = [{"expect_no_frame": True, "for_ms": 300, "ignore": ["FLOW"]}]
        r = run_engine(peer, tmp_path, [write_case(tmp_path, trigger_case(steps))],
                       "--target", b.url, "--broker-disconnect-cmd", cmd)
    finally:
        b.stop()
    assert r.one()["verdict"] == "pass", r.one()["reason"]
    assert "control message ignored" in b.log()


def test_disconnect_after_reaches_the_client_and_is_refused_on_b_cases(peer, tmp_path):
    seen = tmp_path / "da.txt"
    doc = {"id": "C-ENG-952", "title": "disconnect_after", "description": "engine self-test",
           "requirements": ["ECHO-4"], "section": "engine", "subprotocols": ["MBLWS.huawei.com"],
           "encodings": ["binary"], "disconnect_after": 3,
           "steps": [{"expect_exit": 0, "within_ms": 3000}]}
    r = run_engine(peer, tmp_path, [write_case(tmp_path, doc)], "--listen", "127.0.0.1:0",
                   "--client-cmd", f'echo "$MBWS_DISCONNECT_AFTER" > {seen}')
    assert r.one()["verdict"] == "pass", r.one()["reason"]
    assert seen.read_text().strip() == "3"
    doc["id"] = "B-ENG-953"
    r = run_engine(peer, tmp_path, [write_case(tmp_path, doc)], "--target", "ws://127.0.0.1:1/")
    assert r.rc == 2 and "/disconnect_after: is for C- cases only" in r.stderr, r.stderr


def test_pong_and_empty_fragments_between_fragments_reach_the_wire(peer, tmp_path):
    b = Broker(tmp_path)
    doc = {"id": "B-ENG-954", "title": "pong_between", "description": "engine self-test",
           "requirements": ["WS-4"], "section": "engine", "subprotocols": ["MBLWS.huawei.com"],
           "encodings": ["binary"],
           "steps": [{"open_session": True},
                     {"send": "MESSAGE", "fields": {"seq": 1, "address": "${addr}"}, "body": "abcdef",
                      "fragments": 3, "pong_between": "p", "empty_between": True},
                     {"expect_ack": 1, "ignore": ["FLOW"]}]}
    try:
        r = run_engine(peer, tmp_path, [write_case(tmp_path, doc)], "--target", b.url)
    finally:
        b.stop()
    res = r.one()
    assert res["verdict"] == "pass", res["reason"]
    out = [(e["opcode"], e["len"]) for e in res["wire"] if e.get("dir") == "out" and "opcode" in e]
    assert out.count(("pong", 1)) == 2 and out.count(("continuation", 0)) == 2, out


def test_echo_refuses_a_bad_disconnect_after(peer):
    import os
    import subprocess
    env = dict(os.environ, MBWS_URL="ws://127.0.0.1:1/", MBWS_IN="i", MBWS_OUT="o",
               MBWS_DISCONNECT_AFTER="0")
    p = subprocess.run([str(peer), "echo"], env=env, capture_output=True, text=True, timeout=10)
    assert p.returncode == 2 and "MBWS_DISCONNECT_AFTER must be a count of at least 1" in p.stderr, p
