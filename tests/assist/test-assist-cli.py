#!/usr/bin/env python3
"""test-assist-cli.py — `fleet-twin-cli assist` end to end on the demo's
store database: classify (aligned output, bad lines named on stderr),
eval on the held-out set (figures printed, floors held), ask (an explained
charge equals the stored receipt to the cent; empty, enormous and
non-UTF-8 messages answered or refused, never a crash), the hand-off
queue listed and closed, and the optional OpenAI-compatible backend
against a fake server on 127.0.0.1 that returns a tool call, then the
fallback when no server answers.

usage: test-assist-cli.py FLEET_TWIN_CLI
"""
import http.server
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading

CLI = sys.argv[1]
failures = 0
passes = 0


def check(cond, what):
    global failures, passes
    if not cond:
        failures += 1
        print("FAIL:", what)
    else:
        passes += 1
        print("ok:", what)


def run(*args, stdin=None, timeout=120):
    p = subprocess.run([CLI, "assist", *args], input=stdin, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8", "replace")


tmp = tempfile.mkdtemp(prefix="ft-assist-cli-")
try:
    # classify: one output line per input line, bad lines named
    lines = b"where is the nearest scooter\n\xff\xfe broken\n" + b"a" * 5000 + b"\nI want a refund\r\n\n"
    rc, out, err = run("classify", stdin=lines)
    outl = out.splitlines()
    check(rc == 1, "classify exits 1 when a line was not classified")
    check(len(outl) == 5, "classify prints one line per input line (%d)" % len(outl))
    check(outl[0].startswith("find_vehicle\t"), "classify: find_vehicle")
    check(outl[3].startswith("refund_request\t"), "classify: refund_request (CRLF)")
    check(outl[4] == "out_of_scope\t1.000", "classify: empty line is out_of_scope")
    check("line 2: not valid UTF-8 at byte 0" in err and "line 3: longer than 4096" in err,
          "classify names the bad lines: " + err.strip())
    rc, out, _ = run("classify", stdin=b"")
    check(rc == 0 and out == "", "classify of nothing prints nothing")

    # eval: the held-out set scores above floors, with figures and matrix
    rc, out, err = run("eval", "--min-accuracy", "0.75", "--min-macro-f1", "0.75")
    print(out)
    check(rc == 0, "eval holds the floors: " + err.strip())
    check("macro-F1" in out and "confusion matrix" in out and ", 0 also in the training corpus" in out,
          "eval prints figures, the matrix, and no overlap with training")
    bad = os.path.join(tmp, "bad.tsv")
    with open(bad, "w") as f:
        f.write("find_vehicle\tok\nno_such_intent\thello\n")
    rc, _, err = run("eval", "--file", bad)
    check(rc == 1 and "bad.tsv:2: unknown intent 'no_such_intent'" in err, "eval names a bad line")

    # a store database from the demo
    db = os.path.join(tmp, "demo.db")
    p = subprocess.run([CLI, "demo", "--db", db], capture_output=True, timeout=120)
    check(p.returncode == 0, "demo database written")
    con = sqlite3.connect(db)
    rider, price, vehicle = con.execute(
        "SELECT rider, price_minor, vehicle FROM bookings WHERE state = 3 ORDER BY ended_at DESC, id DESC LIMIT 1"
    ).fetchone()
    con.close()
    receipt = "%d.%02d EUR" % (price // 100, price % 100)
    rc, out, err = run("ask", "--rider", str(rider), "--db", db, "why was I charged so much for my last ride?")
    print(out.strip())
    check(rc == 0 and receipt in out, "ask: the explained charge equals the stored receipt %s" % receipt)
    check("explain_charge" in err, "ask: intent on stderr")

    # a refused booking in the store's event log explains a failed unlock
    con = sqlite3.connect(db)
    # FT_EV_BOOKING_REFUSED is 17 (src/common/ft-event.h)
    # and 10 is FT_BOOKING_ERROR_NO_PARKING (a refused end, not an unlock)
    ref = con.execute("SELECT account, t, a, vehicle FROM events WHERE kind = 17 AND a <> 10"
                      " ORDER BY seq DESC LIMIT 1").fetchone()
    con.close()
    check(ref is not None, "the demo has a refused booking")
    if ref:
        rc, out, err = run("ask", "--rider", str(ref[0]), "--db", db, "--now", str(ref[1] + 60000),
                           "the scooter won't unlock")
        print(out.strip())
        check(rc == 0 and out.startswith("At ") and ("FT-%04d" % ref[3]) in out and "Which vehicle" not in out,
              "ask: a failed unlock is explained from the log (code %d)" % ref[2])

    rc, out, err = run("ask", "--rider", str(rider), "--db", db, "")
    check(rc == 0 and "empty" in out, "ask: empty message gets an answer")
    rc, out, err = run("ask", "--rider", str(rider), "--db", db, "x" * 5000)
    check(rc == 1 and "message too long: 5000 bytes" in err, "ask: enormous message refused clearly")
    p = subprocess.run([CLI.encode(), b"assist", b"ask", b"--rider", str(rider).encode(), b"--db", db.encode(),
                        b"refund \xc3\x28 now"], capture_output=True, timeout=60)
    check(p.returncode == 1 and b"not valid UTF-8 (byte 7)" in p.stderr, "ask: non-UTF-8 refused clearly")
    rc, out, err = run("ask", "--rider", "9999", "--db", db, "hello")
    check(rc == 1 and "--rider 9999: no such account" in err, "ask: unknown rider refused")
    rc, out, err = run("ask", "--rider", "0", "--db", os.path.join(tmp, "none.db"), "hello")
    check(rc == 1 and "is not a Fleet Twin store" in err, "ask: missing database refused")

    # hand-off queue
    rc, out, err = run("ask", "--rider", str(rider), "--db", db, "I want to talk to a person")
    check(rc == 0 and "hand-off" in out, "ask: a person is asked for")
    rc, out, err = run("handoffs", "--db", db)
    rows = [l.split("\t") for l in out.splitlines()[1:]]
    check(rc == 0 and len(rows) == 1 and rows[0][3] == "human_agent" and rows[0][7] == "open",
          "handoffs lists the open hand-off")
    rc, out, err = run("handoffs", "--db", db, "--close", rows[0][0], "--by", str(rider))
    check(rc == 1 and "closing hand-off" in err, "a rider cannot close a hand-off: " + err.strip())

    # a damage report with a photo goes through src/inspect's check and queue
    photos = os.path.join(os.environ.get("FT_SHARED_DATA_DIR", ""), "photos")
    ref, pic = os.path.join(photos, "escooter_18.jpg"), os.path.join(photos, "escooter_21.jpg")
    if os.path.exists(ref) and os.path.exists(pic):
        rc, out, err = run("ask", "--rider", str(rider), "--db", db, "FT-0001 has a broken light")
        check(rc == 0 and "waiting for confirmation" in err, "ask: a damage report is offered")
        rc, out, err = run("ask", "--rider", str(rider), "--db", db, "--photo", pic, "--reference", ref, "yes")
        print(out.strip())
        check(rc == 0 and "photo check" in out and "FT-0001" in out and "handed off" not in err,
              "ask: the photo is checked by src/inspect, not handed off")
        rc, out, err = run("ask", "--rider", str(rider), "--db", db, "--photo", pic, "yes")
        check(rc == 2 and "--reference" in err, "ask: --photo without --reference is refused")
    else:
        print("skip: no shared photos")

    # the backend: a fake OpenAI-compatible server returning a tool call
    seen = []

    class Fake(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            req = json.loads(self.rfile.read(n))
            seen.append(req)
            msgs = req["messages"]
            if msgs[-1]["role"] == "user":
                msg = {"role": "assistant", "content": None, "tool_calls": [{
                    "id": "call_1", "type": "function",
                    "function": {"name": "explain_charge", "arguments": "{}"}}]}
            else:
                msg = {"role": "assistant", "content": "Backend says: " + msgs[-1]["content"]}
            body = json.dumps({"choices": [{"index": 0, "message": msg}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), Fake)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    url = "http://127.0.0.1:%d" % srv.server_address[1]
    rc, out, err = run("ask", "--rider", str(rider), "--db", db, "--llm-url", url, "what is this charge?")
    srv.shutdown()
    print(out.strip())
    check(rc == 0 and out.startswith("Backend says: ") and receipt in out and "backend" in err,
          "backend: tool call answered from the receipt")
    check(len(seen) == 2 and len(seen[0]["tools"]) == 14 and
          {t["function"]["name"] for t in seen[0]["tools"]} >= {"explain_charge", "cannot_end_ride"},
          "backend: given the 14 functions as tools, two rounds")
    # nothing listens on a closed port: the offline answer
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    rc, out, err = run("ask", "--rider", str(rider), "--db", db, "--llm-url", "http://127.0.0.1:%d" % port,
                       "what is this charge?")
    check(rc == 0 and receipt in out and not out.startswith("Backend") and "backend" not in err,
          "backend down: the offline answer")

    # the simulator: riders with a problem contact support ([support])
    src = os.path.join(os.environ.get("FT_SOURCE_DIR", os.path.dirname(__file__) + "/../.."), "scenarios",
                       "demo-city-phase1.scenario")
    sc = os.path.join(tmp, "support.scenario")
    with open(src) as f, open(sc, "w") as g:
        g.write(f.read() + "\n[support]\ncontact_share=1\ncharge_query_share=0.05\n")
    p = subprocess.run([CLI, "run", sc, "--days", "0.15", "--json", "-q"], capture_output=True, timeout=600)
    k = json.loads(p.stdout) if p.returncode == 0 else {}
    print({x: k.get(x) for x in ("trips_completed", "end_refusals", "lost_refused", "support_contacts",
                                  "support_resolved", "support_resolved_share", "support_handoffs")})
    check(p.returncode == 0 and k.get("support_contacts", 0) >= k.get("end_refusals", 0) + k.get("lost_refused", 0)
          and k["support_contacts"] > 0 and 0 <= k["support_resolved"] <= k["support_contacts"]
          and 0 < k["support_resolved_share"] <= 1, "sim: every refused parking and unlock contacts support")
    # riders who are not satisfied follow up: refunds and requests for a person reach staff
    sc2 = os.path.join(tmp, "support-escalate.scenario")
    with open(src) as f, open(sc2, "w") as g:
        g.write(f.read() + "\n[support]\ncontact_share=1\ncharge_query_share=0.05\nescalate_share=0.5\n")
    p = subprocess.run([CLI, "run", sc2, "--days", "0.15", "--json", "-q"], capture_output=True, timeout=600)
    k2 = json.loads(p.stdout) if p.returncode == 0 else {}
    print({x: k2.get(x) for x in ("support_contacts", "support_resolved", "support_handoffs")})
    check(p.returncode == 0 and k2.get("support_contacts", 0) > 0
          and 0.2 * k2["support_contacts"] <= k2["support_handoffs"] <= 0.8 * k2["support_contacts"]
          and k2["support_resolved"] + k2["support_handoffs"] <= k2["support_contacts"],
          "sim: about half of the contacts escalate to staff at escalate_share=0.5")
    with open(src) as f, open(sc2, "w") as g:
        g.write(f.read() + "\n[support]\ncontact_share=1\nescalate_share=1.5\n")
    p = subprocess.run([CLI, "run", sc2, "--days", "0.05", "--json", "-q"], capture_output=True, timeout=600)
    check(p.returncode != 0 and b"escalate_share" in p.stderr, "sim: escalate_share out of range is refused")
    p = subprocess.run([CLI, "run", src, "--days", "0.05", "--json", "-q"], capture_output=True, timeout=600)
    check(p.returncode == 0 and "support_contacts" not in p.stdout.decode(),
          "sim: runs without [support] keep their KPI format")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print("%d passed, %d failed" % (passes, failures))
sys.exit(1 if failures else 0)
