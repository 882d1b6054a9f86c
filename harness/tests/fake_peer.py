#!/usr/bin/python3
"""A stand-in for `mbws-peer`, for the harness's own tests only.

It follows the command line and result file of docs/engine-interface.md but
decides verdicts from a "fake" object in each case file:
  {"fake": {"verdict": "fail", "verdicts": {"MBWS.huawei.com/binary": "pass"},
            "sleep_ms": 200}}
Environment knobs: FAKE_PEER_LOG (append one JSON line per invocation),
FAKE_PEER_MODE=crash|nojson|exit2 (misbehave), FAKE_PEER_VERDICT (force all).
Also `broker --listen 127.0.0.1:0` (a TCP listener that prints its port and
stops on SIGTERM) and `echo` (exits 0)."""

import json
import os
import signal
import socket
import sys
import threading
import time

SUBS = ["MBWS.huawei.com", "MBLWS.huawei.com"]
ENCS = ["binary", "text"]


def wire_for(case, sub, enc, verdict):
    wire = [{"t_ms": 0.0, "conn": 1, "dir": "event", "note": f"connected, subprotocol {sub}"},
            {"t_ms": 0.4, "conn": 1, "dir": "out", "opcode": enc, "fin": True, "len": 37,
             "hex": "0100002101000800000000000000010600080000000000000010080008000000000001000000",
             "frame": "CONNECT version=1 credit=16 max-frame=65536"},
            {"t_ms": 1.1, "conn": 1, "dir": "in", "opcode": enc, "fin": True, "len": 50,
             "hex": "02", "frame": 'CONNECTED version=1 credit=8 max-frame=65536 name="fake broker 1.0"'}]
    if verdict in ("fail", "error"):
        wire.append({"t_ms": 1501.0, "conn": 1, "dir": "event",
                     "note": f"FAKE-WIRE-MARK {case} no ACK in 1500 ms"})
        # a frame that does not decode, and the broker's close with a reason
        wire.append({"t_ms": 1502.0, "conn": 1, "dir": "in", "opcode": "binary", "fin": True,
                     "len": 2, "hex": "ff00", "decode_error": "unknown frame type 0xff"})
        wire.append({"t_ms": 1503.0, "conn": 1, "dir": "in", "opcode": "close", "fin": True,
                     "len": 15, "close_code": 4007, "hex": "0fa7" + b"flow exceeded".hex()})
    return wire


def cmd_run(argv):
    cases, subs, encs = [], [], []
    target = listen = client = out = None
    jobs, timeout = 1, 20000
    strict = False
    i = 0
    try:
        while i < len(argv):
            a = argv[i]
            if a in ("--case", "--target", "--listen", "--client-cmd", "--subprotocol",
                     "--encoding", "--jobs", "--case-timeout", "--json",
                     "--broker-disconnect-cmd"):
                v = argv[i + 1]
                i += 2
                if a == "--case":
                    cases.append(v)
                elif a == "--target":
                    target = v
                elif a == "--listen":
                    listen = v
                elif a == "--client-cmd":
                    client = v
                elif a == "--subprotocol":
                    subs.append(v)
                elif a == "--encoding":
                    encs.append(v)
                elif a == "--jobs":
                    jobs = int(v)
                elif a == "--case-timeout":
                    timeout = int(v)
                elif a == "--json":
                    out = v
            elif a == "--verbose":
                i += 1
            elif a == "--strict":
                strict = True
                i += 1
            else:
                raise ValueError(f"unknown option {a}")
    except (IndexError, ValueError) as exc:
        print(f"mbws-peer run: {exc}", file=sys.stderr)
        return 2
    if not cases or bool(target) == bool(listen) or (listen and not client):
        print("mbws-peer run: usage error", file=sys.stderr)
        return 2
    log = os.environ.get("FAKE_PEER_LOG")
    if log:
        with open(log, "a") as f:
            f.write(json.dumps({"argv": argv, "jobs": jobs, "target": target, "listen": listen,
                                "client_cmd": client, "cases": cases, "subprotocols": subs,
                                "encodings": encs, "timeout": timeout}) + "\n")
    mode = os.environ.get("FAKE_PEER_MODE", "")
    if mode == "exit2":
        print("mbws-peer run: invalid case file (fake)", file=sys.stderr)
        return 2
    docs = []
    for path in cases:
        with open(path) as f:
            docs.append((path, json.load(f)))
    work = []
    for path, doc in docs:
        for s in doc.get("subprotocols", SUBS):
            for e in doc.get("encodings", ENCS):
                if (not subs or s in subs) and (not encs or e in encs):
                    work.append((path, doc, s, e))
    results = [None] * len(work)
    lock = threading.Lock()
    next_i = [0]
    t0 = time.monotonic()

    def worker():
        while True:
            with lock:
                k = next_i[0]
                next_i[0] += 1
            if k >= len(work):
                return
            path, doc, s, e = work[k]
            fake = doc.get("fake", {})
            started = time.monotonic()
            time.sleep(fake.get("sleep_ms", 0) / 1000.0)
            verdict = os.environ.get("FAKE_PEER_VERDICT") or \
                fake.get("verdicts", {}).get(f"{s}/{e}", fake.get("verdict", "pass"))
            warnings = []
            if verdict == "warn":  # as the engine does: --strict makes it a failure
                warnings = [{"clause": "ERR-1", "path": "/steps/3",
                             "text": "ERROR seq is absent, expected 3"}]
                verdict = "fail" if strict else "warn"
            res = {"case": doc["id"], "file": path, "title": doc["title"],
                   "section": doc["section"], "requirements": doc["requirements"],
                   "role": "broker" if doc["id"].startswith("B-") else "client",
                   "subprotocol": s, "encoding": e, "verdict": verdict,
                   "reason": (fake.get("reason", "") if verdict not in ("pass", "warn") else
                              "warning ERR-1 (non-strict) at step /steps/3: ERROR seq is absent, "
                              "expected 3" if verdict == "warn" else ""),
                   "warnings": warnings,
                   "failed_step": ({"index": 3, "kind": "expect_frame",
                                    "expected": "ACK seq=5 within 1500 ms",
                                    "received": "no frame in 1500 ms"}
                                   if verdict in ("fail", "error") else None),
                   "duration_ms": round((time.monotonic() - started) * 1000, 1),
                   "wire": wire_for(doc["id"], s, e, verdict)}
            if res["role"] == "client":  # as the engine reports the client under test
                res["client_exit"] = 0
                res["client_output"] = f"echo: connected, FAKE-CLIENT-OUTPUT {doc['id']}\n"
            with lock:
                results[k] = res
                print(f"{doc['id']} {s} {e}: {verdict}", file=sys.stderr, flush=True)

    threads = [threading.Thread(target=worker) for _ in range(max(1, jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if mode == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    doc = {"tool": "mbws-peer", "version": "0.0.0-fake", "profile": 1,
           "target": {"kind": "broker", "url": target} if target else
           {"kind": "client", "command": client},
           "started": "2026-11-25T22:00:00Z",
           "duration_ms": round((time.monotonic() - t0) * 1000, 1), "results": results}
    if out and mode != "nojson":
        with open(out, "w") as f:
            json.dump(doc, f)
    return 1 if any(r["verdict"] in ("fail", "error") for r in results) else 0


def cmd_broker(argv):
    if argv[:1] != ["--listen"] or len(argv) < 2:
        print("usage: broker --listen HOST:PORT", file=sys.stderr)
        return 2
    host, _, port = argv[1].rpartition(":")
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, int(port)))
    srv.listen(64)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"mbws-peer broker: listening on {host}:{srv.getsockname()[1]}", flush=True)
    srv.settimeout(0.1)
    while not stop.is_set():
        try:
            conn, _ = srv.accept()
            conn.close()
        except OSError:
            pass
    print("mbws-peer broker: stopped", flush=True)
    return 0


def main():
    if len(sys.argv) < 2:
        return 2
    cmd, argv = sys.argv[1], sys.argv[2:]
    if cmd == "--version":
        print("mbws-peer 0.0.0-fake (MBWS profile 1)")
        return 0
    if cmd == "run":
        return cmd_run(argv)
    if cmd == "broker":
        return cmd_broker(argv)
    if cmd == "echo":
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
