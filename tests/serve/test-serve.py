#!/usr/bin/env python3
"""The feed server end to end: a simulated half day is exported as MDS
files and served by `fleet-twin-cli serve`; every exported file and every
served JSON document is validated against the official schemas (MDS 2.0
OpenAPI, GBFS 3.0 JSON Schema), trips are paged through hour by hour (each
exactly once), an agency without a token gets 401, bad requests get 4xx
with an MDS error body, the server survives malformed HTTP, a port in use
and a non-loopback address without TLS are refused, and the JSON log holds
no token. Then a scenario is served while it runs.

usage: test-serve.py FLEET_TWIN_CLI SHARED_DATA_DIR
"""
import glob, http.client, json, os, re, shutil, socket, ssl, subprocess, sys, tempfile, time, urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ftschemas import Schemas, describe

cli, shared = sys.argv[1], sys.argv[2]
src = os.environ.get("FT_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
scenario = os.path.join(src, "scenarios", "demo-city-phase1.scenario")
schemas = Schemas(shared)
failures = []
checks = 0

TOKEN_A = "cityA-0123456789abcdef-secret"
TOKEN_B = "cityB-fedcba9876543210-secret"


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print("FAIL:", what)
    return cond


def valid(errs, what):
    return check(not errs, f"{what}: {len(errs)} schema errors\n{describe(errs)}")


class Server:
    def __init__(self, args, tmp, env=None):
        self.log = open(os.path.join(tmp, f"serve-{len(os.listdir(tmp))}.err"), "w+")
        self.args = args
        self.p = subprocess.Popen([cli, "serve"] + args, stdout=subprocess.PIPE, stderr=self.log, text=True,
                                  env=env)
        line = self.p.stdout.readline()
        m = re.search(r"on (https?)://([0-9.]+):(\d+)", line)
        if not m:
            self.p.kill()
            self.log.seek(0)
            raise SystemExit(f"serve did not start: {line!r} {self.log.read()}")
        self.host, self.port, self.tls = m.group(2), int(m.group(3)), m.group(1) == "https"

    def get(self, path, token=None, headers=None, method="GET"):
        if self.tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            c = http.client.HTTPSConnection(self.host, self.port, timeout=30, context=ctx)
        else:
            c = http.client.HTTPConnection(self.host, self.port, timeout=30)
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        c.request(method, path, headers=h)
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, r.getheader("Content-Type") or "", body

    def json(self, path, token=None, **kw):
        st, ct, body = self.get(path, token, **kw)
        try:
            return st, ct, json.loads(body)
        except ValueError:
            return st, ct, None

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.p.stdout.close()
        self.log.seek(0)
        err = self.log.read()
        self.log.close()
        check(self.p.returncode == 0,
              f"serve {' '.join(self.args)} exited {self.p.returncode} on SIGTERM (ASan/LSan?): {err[-3000:]}")


def expect_error(srv, path, status, what, token=TOKEN_A, **kw):
    st, ct, doc = srv.json(path, token, **kw)
    if check(st == status, f"{what}: {path} answered {st}, expected {status}"):
        if check(doc is not None and "json" in ct, f"{what}: {path} error body is not JSON ({ct})"):
            valid(schemas.mds_error(doc), f"{what}: error body of {path}")


with tempfile.TemporaryDirectory() as tmp:
    db = os.path.join(tmp, "run.db")
    r = subprocess.run([cli, "run", scenario, "--days", "0.5", "-q", "--out", db], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"run failed: {r.stderr}")

    # ---- files ----
    out = os.path.join(tmp, "mds")
    r = subprocess.run([cli, "mds", "export", db, "--out", out], capture_output=True, text=True)
    check(r.returncode == 0, f"mds export failed: {r.stderr}")
    exported = {}
    for key in ["trips", "events", "telemetry"]:
        files = sorted(glob.glob(os.path.join(out, key, "*.json")))
        check(len(files) >= 6, f"mds export: only {len(files)} {key} hours")
        for f in files:
            doc = json.load(open(f))
            valid(schemas.mds_response(key, doc), f"file {key}/{os.path.basename(f)}")
            exported[(key, os.path.basename(f)[:-5])] = doc[key]
    for key in ["vehicles", "vehicles_status"]:
        doc = json.load(open(os.path.join(out, f"{key}.json")))
        valid(schemas.mds_response(key, doc), f"file {key}.json")
        check(len(doc[key]) == 1000, f"{key}.json has {len(doc[key])} vehicles, not 1000")
    device_ids = {v["device_id"] for v in json.load(open(os.path.join(out, "vehicles.json")))["vehicles"]}
    # The validator can fail: a reserved vehicle cannot end a trip, a trip event needs its trip.
    ev = dict(next(exported[k][0] for k in exported if k[0] == "events" and exported[k]))
    bad = dict(ev, vehicle_state="reserved", event_types=["trip_end"])
    check(schemas.mds_response("events", {"version": "2.0.0", "events": [bad]}),
          "the MDS validator accepts a reserved vehicle with trip_end")
    bad = dict(ev, vehicle_state="on_trip", event_types=["trip_start"], trip_ids=[])
    check(schemas.mds_response("events", {"version": "2.0.0", "events": [bad]}),
          "the MDS validator accepts trip_start with no trip")
    r2 = subprocess.run([cli, "mds", "export", db, "--out", tmp], capture_output=True, text=True)
    check(r2.returncode != 0 and "not" in r2.stderr, f"mds export over a foreign folder was not refused: {r2.stderr}")
    check(os.path.exists(db), "a refused export touched the folder")

    # ---- HTTP, from the database ----
    tokens = os.path.join(tmp, "tokens")
    with open(tokens, "w") as f:
        f.write(f"# agency token\ncityA {TOKEN_A}\ncityB {TOKEN_B}\n")
    logf = os.path.join(tmp, "serve.jsonl")
    srv = Server([db, "--listen", "127.0.0.1:0", "--tokens", tokens, "--log-json", logf], tmp)
    try:
        hours = sorted(h for (k, h) in exported if k == "trips")
        h0 = hours[len(hours) // 2]
        # authorisation
        expect_error(srv, f"/trips?end_time={h0}", 401, "no token", token=None)
        expect_error(srv, f"/trips?end_time={h0}", 401, "unknown token", token="cityC-not-a-known-token-at-all")
        expect_error(srv, f"/trips?end_time={h0}", 401, "a token's prefix", token=TOKEN_A[:-1])
        st, ct, doc = srv.json(f"/trips?end_time={h0}", TOKEN_B)
        check(st == 200 and ct.startswith("application/vnd.mds+json"), f"cityB /trips: {st} {ct}")
        check("version=2.0" in ct, f"MDS content type without its version: {ct}")
        # every hour, paged in sevens: each trip exactly once, the same as the file
        for key, path, param in [("trips", "/trips", "end_time"), ("events", "/events/historical", "event_time"),
                                 ("telemetry", "/telemetry", "telemetry_time")]:
            ids_key = {"trips": "trip_id", "events": "event_id", "telemetry": "telemetry_id"}[key]
            for h in sorted(h for (k, h) in exported if k == key):
                url, seen, pages = f"{path}?{param}={h}&limit=7", [], 0
                while url:
                    st, ct, doc = srv.json(url, TOKEN_A)
                    if not check(st == 200, f"{url}: {st}"):
                        break
                    if pages < 2 or key == "trips":
                        valid(schemas.mds_response(key, doc), f"served {url}")
                    seen += [x[ids_key] for x in doc[key]]
                    pages += 1
                    nxt = doc.get("links", {}).get("next")
                    url = urllib.parse.urlsplit(nxt)._replace(scheme="", netloc="").geturl() if nxt else None
                    if pages > 2000:
                        check(False, f"{path} {h}: endless paging")
                        break
                want = [x[ids_key] for x in exported[(key, h)]]
                check(len(seen) == len(set(seen)), f"{path} {h}: {len(seen) - len(set(seen))} items served twice")
                check(sorted(seen) == sorted(want), f"{path} {h}: served {len(seen)} items, file has {len(want)}")
        for key, path in [("vehicles", "/vehicles"), ("vehicles_status", "/vehicles/status")]:
            url, seen = f"{path}?limit=300", []
            while url:
                st, ct, doc = srv.json(url, TOKEN_A)
                if not check(st == 200, f"{url}: {st}"):
                    break
                valid(schemas.mds_response(key, doc), f"served {url}")
                seen += [x["device_id"] for x in doc[key]]
                nxt = doc["links"]["next"]
                url = urllib.parse.urlsplit(nxt)._replace(scheme="", netloc="").geturl() if nxt else None
            check(sorted(seen) == sorted(device_ids), f"{path}: {len(seen)} vehicles paged, {len(device_ids)} known")
        # one vehicle by its device id, and its status
        some = sorted(device_ids)[len(device_ids) // 2]
        st, ct, doc = srv.json(f"/vehicles/{some}", TOKEN_A)
        if check(st == 200, f"/vehicles/{some}: {st}"):
            valid(schemas.mds_response("vehicle_one", doc), f"served /vehicles/{some}")
            check([v["device_id"] for v in doc["vehicles"]] == [some], f"/vehicles/{some} gave {doc['vehicles']}")
        st, ct, doc = srv.json(f"/vehicles/status/{some}", TOKEN_A)
        if check(st == 200, f"/vehicles/status/{some}: {st}"):
            valid(schemas.mds_response("vehicle_status_one", doc), f"served /vehicles/status/{some}")
            check([v["device_id"] for v in doc["vehicles_status"]] == [some], "status of another vehicle")
        expect_error(srv, "/vehicles/00000000-0000-4000-8000-000000000000", 404, "an unknown device id")
        expect_error(srv, "/vehicles/status/not-a-uuid", 404, "a malformed device id")
        expect_error(srv, f"/vehicles/{some}", 401, "one vehicle without a token", token=None)
        # /events/recent: the last 90 minutes of the run, paged in 50s, equal to the hourly files' events
        all_events = [e for (k, h) in exported if k == "events" for e in exported[(k, h)]]
        newest = max(e["timestamp"] for e in all_events)
        t0, t1 = newest - 90 * 60000, newest + 1
        want = sorted(e["event_id"] for e in all_events if t0 <= e["timestamp"] < t1)
        url, seen, pages = f"/events/recent?start_time={t0}&end_time={t1}&limit=50", [], 0
        while url and pages < 1000:
            st, ct, doc = srv.json(url, TOKEN_A)
            if not check(st == 200, f"{url}: {st} {doc}"):
                break
            if pages < 2:
                valid(schemas.mds_response("events_recent", doc), f"served {url}")
            check(all(t0 <= e["timestamp"] < t1 for e in doc["events"]), f"{url}: an event outside the window")
            seen += [e["event_id"] for e in doc["events"]]
            pages += 1
            nxt = doc["links"]["next"]
            url = urllib.parse.urlsplit(nxt)._replace(scheme="", netloc="").geturl() if nxt else None
        check(len(want) > 50 and sorted(seen) == want,
              f"/events/recent served {len(seen)} events over {pages} pages, the files hold {len(want)}")
        for path, what in [("/events/recent", "no start_time or end_time"),
                           (f"/events/recent?start_time={t0}", "no end_time"),
                           (f"/events/recent?start_time={t1}&end_time={t0}", "end before start"),
                           (f"/events/recent?start_time={newest - 15 * 86400000}&end_time={t1}",
                            "a start more than two weeks back"),
                           ("/events/recent?start_time=today&end_time=tomorrow", "times that are not numbers"),
                           (f"/events/recent?event_time={t0}", "an hour parameter")]:
            expect_error(srv, path, 400, what)
        # bad requests
        for path, status, what in [
            ("/trips", 400, "missing end_time"),
            ("/trips?end_time=yesterday", 400, "malformed end_time"),
            ("/trips?end_time=2024-02-30T10", 400, "a day that does not exist"),
            ("/trips?end_time=2024-01-01T24", 400, "hour 24"),
            ("/trips?end_time=2031-01-01T00", 400, "an hour after the data"),
            ("/trips?end_time=2019-01-01T00", 400, "an hour before the data"),
            (f"/trips?end_time={h0}&end_time={h0}", 400, "a repeated parameter"),
            (f"/trips?end_time={h0}&colour=red", 400, "an unknown parameter"),
            (f"/trips?event_time={h0}", 400, "the wrong hour parameter"),
            (f"/trips?end_time={h0}&limit=0", 400, "limit 0"),
            (f"/trips?end_time={h0}&limit=99999999999999999999", 400, "a huge limit"),
            (f"/trips?end_time={h0}&cursor=-1", 400, "a negative cursor"),
            (f"/trips?end_time={h0}%00", 400, "an escaped NUL"),
            ("/trips?" + "a=b&" * 1000, 400, "an oversized query"),
            ("/events/historical?event_time=", 400, "an empty value"),
            ("/nope", 404, "an unknown path"),
            ("/vehicles/status/../../etc/passwd", 404, "a climbing path"),
            ("/gbfs/../run.db.json", 404, "a GBFS path outside the feed"),
        ]:
            expect_error(srv, path, status, what)
        expect_error(srv, f"/trips?end_time={h0}", 405, "POST", method="POST")
        expect_error(srv, f"/trips?end_time={h0}", 406, "MDS 1.2 in Accept",
                     headers={"Accept": "application/vnd.mds+json;version=1.2"})
        expect_error(srv, f"/trips?end_time={h0}&version=0.4", 406, "version 0.4 as a parameter")
        # malformed HTTP: the server answers it itself (status and an MDS
        # error body; test-serve-http.py goes through every case) and lives on
        for raw, ok in [(b"GARBAGE\r\n\r\n", b"400"), (b"GET /health HTTP/9.9\r\n\r\n", b"505"),
                        (b"\x00\xff\xfe" * 100 + b"\r\n\r\n", b"400"),
                        (b"GET /trips?end_time=%zz HTTP/1.1\r\nHost: x\r\n\r\n", b"400"),
                        (b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", b"400"),
                        (b"GET /health HTTP/1.1\r\nHost: x\r\nX: " + b"y" * 100000 + b"\r\n\r\n", b"431")]:
            s = socket.create_connection((srv.host, srv.port), timeout=10)
            s.sendall(raw)
            try:
                reply = s.recv(4096)
            except (socket.timeout, ConnectionResetError):
                reply = b""
            s.close()
            m = re.match(rb"HTTP/1\.[01] (\d+)", reply)
            check(m is not None and m.group(1) == ok and b"application/json" in reply,
                  f"malformed request {raw[:30]!r} got {reply[:60]!r}")
        st, ct, doc = srv.json("/health")
        check(st == 200 and doc and doc["status"] == "ok", f"/health after malformed requests: {st}")
        # GBFS from the database: valid, auto-discovered, no device id published
        st, ct, gbfs = srv.json("/gbfs/gbfs.json")
        check(st == 200, f"/gbfs/gbfs.json: {st}")
        valid(schemas.gbfs("gbfs", gbfs), "served gbfs.json")
        st, ct, manifest = srv.json("/manifest.json")
        valid(schemas.gbfs("manifest", manifest), "served manifest.json")
        for feed in gbfs["data"]["feeds"]:
            path = urllib.parse.urlsplit(feed["url"]).path
            st, ct, doc = srv.json(path)
            if check(st == 200, f"GBFS {path}: {st}"):
                valid(schemas.gbfs(feed["name"], doc), f"served {path}")
                if feed["name"] == "vehicle_status":
                    vids = {v["vehicle_id"] for v in doc["data"]["vehicles"]}
                    check(vids and not vids & device_ids, "GBFS vehicle_status publishes device ids")
        # metrics
        st, ct, body = srv.get("/metrics")
        text = body.decode()
        check(st == 200 and ct.startswith("text/plain; version=0.0.4"), f"/metrics: {st} {ct}")
        for series in ["fleet_twin_http_requests_total{", "fleet_twin_http_request_duration_seconds_bucket{",
                       "fleet_twin_vehicles{state=\"available\"}", "fleet_twin_trips ", "fleet_twin_revenue_minor ",
                       "fleet_twin_events ", "fleet_twin_ingest_lag_seconds "]:
            check(series in text, f"/metrics lacks {series}")
        check('endpoint="/trips",code="401"' in text, "/metrics does not count the 401s")
        # a second server on the same port is refused with exit status 2
        r = subprocess.run([cli, "serve", db, "--listen", f"127.0.0.1:{srv.port}"], capture_output=True,
                           text=True, timeout=60)
        check(r.returncode == 2 and "already in use" in r.stderr, f"port in use: {r.returncode} {r.stderr.strip()}")
    finally:
        srv.stop()
    for args, what in [(["--listen", "0.0.0.0:0"], "0.0.0.0 without TLS or tokens"),
                       (["--listen", "0.0.0.0:0", "--tokens", tokens], "0.0.0.0 without TLS"),
                       (["--listen", "example.org:80"], "a host name"),
                       (["--listen", "127.0.0.1:99999"], "port 99999"),
                       (["--tokens", os.path.join(tmp, "none")], "a missing token file"),
                       (["--tokens", db], "a database as token file")]:
        r = subprocess.run([cli, "serve", db] + args, capture_output=True, text=True, timeout=60)
        check(r.returncode == 2 and r.stderr.strip(), f"{what}: exit {r.returncode}, {r.stderr.strip()}")
        check(TOKEN_A not in r.stderr, f"{what}: a token in the message")
    # TLS: the same endpoints over https with a self-signed certificate
    if shutil.which("openssl"):
        cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                        "-days", "1", "-keyout", key, "-out", cert], capture_output=True, check=True)
        # LeakSanitizer's own tracer crashes (signal 11, "LeakSanitizer has
        # encountered a fatal error") stopping glib-networking's TLS worker
        # thread at exit; leak checking is off for this one server only.
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
        srv = Server([db, "--listen", "127.0.0.1:0", "--tokens", tokens, "--tls-cert", cert, "--tls-key", key], tmp,
                     env=env)
        try:
            check(srv.tls, "--tls-cert did not give an https URL")
            st, ct, doc = srv.json(f"/trips?end_time={h0}", TOKEN_A)
            check(st == 200 and doc and doc["trips"], f"https /trips: {st}")
            expect_error(srv, f"/trips?end_time={h0}", 401, "https without a token", token=None)
        finally:
            srv.stop()
        r = subprocess.run([cli, "serve", db, "--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", db],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 2 and "TLS" in r.stderr, f"a bad TLS key: {r.returncode} {r.stderr.strip()}")
    lines = open(logf).read().splitlines()
    check(len(lines) > 50, f"only {len(lines)} JSON log lines")
    recs = []
    for l in lines:
        try:
            recs.append(json.loads(l))
        except ValueError:
            check(False, f"log line is not JSON: {l[:80]}")
    check(any(r.get("domain") == "ft-serve" and r.get("http_status") == "401" for r in recs),
          "the log has no ft-serve record of a 401")
    check(not any(TOKEN_A in l or TOKEN_B in l for l in lines), "a token appears in the JSON log")

    # ---- HTTP, from a running simulation ----
    srv = Server([scenario, "--days", "1", "--speed", "3600", "--listen", "127.0.0.1:0"], tmp)
    try:
        time.sleep(4)
        docs = {}
        st, ct, gbfs = srv.json("/gbfs/gbfs.json")
        check(st == 200, f"scenario /gbfs/gbfs.json: {st}")
        names = [f["name"] for f in gbfs["data"]["feeds"]] if gbfs else []
        check({"system_pricing_plans", "geofencing_zones", "vehicle_status"} <= set(names),
              f"scenario GBFS lists {names}")
        for feed in (gbfs or {"data": {"feeds": []}})["data"]["feeds"]:
            st, ct, docs[feed["name"]] = srv.json(urllib.parse.urlsplit(feed["url"]).path)
            valid(schemas.gbfs(feed["name"], docs[feed["name"]]), f"scenario {feed['name']}")
        time.sleep(3)
        st, ct, later = srv.json("/gbfs/vehicle_status.json")
        check(later["last_updated"] != docs["vehicle_status"]["last_updated"], "GBFS did not advance with the run")
        a = {v["vehicle_id"] for v in docs["vehicle_status"]["data"]["vehicles"]}
        b = {v["vehicle_id"] for v in later["data"]["vehicles"]}
        check(a & b and b - a, f"vehicle ids: {len(a & b)} kept, {len(b - a)} new (trips should rotate some)")
        st, ct, health = srv.json("/health")
        hour = time.strftime("%Y-%m-%dT%H", time.gmtime(health["newest_event_ms"] / 1000 - 3600))
        for key, path in [("trips", f"/trips?end_time={hour}"), ("events", f"/events/historical?event_time={hour}"),
                          ("telemetry", f"/telemetry?telemetry_time={hour}"), ("vehicles_status", "/vehicles/status")]:
            st, ct, doc = srv.json(path)
            if check(st == 200, f"scenario {path}: {st}"):
                valid(schemas.mds_response(key, doc), f"scenario {path}")
        check(health["events"] > 1000, f"scenario: only {health['events']} events after 7 s")
        st, ct, body = srv.get("/metrics")
        check(b"fleet_twin_sim_speed 3600" in body, "scenario /metrics lacks the simulation speed")
        check(b"fleet_twin_store_commit_seconds_count" in body, "scenario /metrics lacks commit latency")
    finally:
        srv.stop()

    # ---- beside a running `live` (real mosquitto on loopback) ----
    if shutil.which("mosquitto"):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        mport = s.getsockname()[1]
        s.close()
        conf = os.path.join(tmp, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write(f"listener {mport} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        broker = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        live_db = os.path.join(tmp, "live.db")
        url = f"mqtt://127.0.0.1:{mport}"
        time.sleep(0.5)
        live = subprocess.Popen([cli, "live", "--broker", url, "--prefix", "ftserve", "--db", live_db,
                                 "--provision-unknown", "--provision-rate", "100000", "--duration", "40"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.5)
        emu = subprocess.Popen([cli, "emulate", scenario, "--broker", url, "--prefix", "ftserve", "--speed", "30",
                                "--rate", "0.5", "--duration", "35"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(40):
                if os.path.exists(live_db):
                    break
                time.sleep(0.5)
            srv = Server([live_db, "--listen", "127.0.0.1:0"], tmp)
            try:
                st, ct, h1 = srv.json("/health")
                time.sleep(6)
                st, ct, h2 = srv.json("/health")
                check(h2["events"] > h1["events"],
                      f"beside live: events did not grow through WAL ({h1['events']} then {h2['events']})")
                check(abs(time.time() * 1000 - h2["newest_event_ms"]) < 120000,
                      f"beside live: the newest event is {(time.time() * 1000 - h2['newest_event_ms']) / 1000:.0f} s old")
                hour = time.strftime("%Y-%m-%dT%H", time.gmtime(h2["newest_event_ms"] / 1000))
                for key, path in [("telemetry", f"/telemetry?telemetry_time={hour}&limit=200"),
                                  ("events", f"/events/historical?event_time={hour}&limit=200"),
                                  ("vehicles_status", "/vehicles/status?limit=200"),
                                  ("vehicles", "/vehicles?limit=200")]:
                    st, ct, doc = srv.json(path)
                    if check(st == 200, f"beside live {path}: {st}"):
                        check(len(doc[key]) > 0, f"beside live {path}: empty")
                        valid(schemas.mds_response(key, doc), f"beside live {path}")
                st, ct, body = srv.get("/metrics")
                m = re.search(rb"^fleet_twin_ingest_lag_seconds (\S+)$", body, re.M)
                check(m and float(m.group(1)) < 120, f"beside live: ingest lag {m.group(1) if m else None}")
                st, ct, gb = srv.json("/gbfs/vehicle_status.json")
                if check(st == 200, f"beside live GBFS vehicle_status: {st}"):
                    valid(schemas.gbfs("vehicle_status", gb), "beside live vehicle_status")
            finally:
                srv.stop()
        finally:
            for proc in (emu, live, broker):
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
    else:
        print("mosquitto not installed: the beside-live part is skipped")

print(f"test-serve: {checks - len(failures)} of {checks} checks passed")
sys.exit(1 if failures else 0)
