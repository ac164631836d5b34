#!/usr/bin/env python3
"""A real Prometheus (Debian's `prometheus`) scrapes `fleet-twin-cli serve`
on loopback; the test then reads series back through Prometheus's HTTP
query API (/api/v1/query). Exit 77 (skipped) only when prometheus is not
installed.

usage: test-prometheus.py FLEET_TWIN_CLI
"""
import json, os, re, shutil, socket, subprocess, sys, tempfile, time, urllib.parse, urllib.request

cli = sys.argv[1]
prom = shutil.which("prometheus")
if prom is None:
    print("prometheus is not installed (apt-get install prometheus): skipped")
    sys.exit(77)
src = os.environ.get("FT_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
scenario = os.path.join(src, "scenarios", "demo-city-phase1.scenario")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def query(port, q):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": q})
    with urllib.request.urlopen(url, timeout=10) as r:
        doc = json.load(r)
    assert doc["status"] == "success", doc
    return doc["data"]["result"]


failures = []
with tempfile.TemporaryDirectory() as tmp:
    twin = subprocess.Popen([cli, "serve", scenario, "--days", "1", "--speed", "600", "--listen", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = twin.stdout.readline()
    m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    if not m:
        twin.kill()
        raise SystemExit(f"serve did not start: {line!r}")
    twin_port = int(m.group(1))
    prom_port = free_port()
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: fleet-twin
    metrics_path: /metrics
    static_configs:
      - targets: ['127.0.0.1:{twin_port}']
""")
    p = subprocess.Popen([prom, f"--config.file={cfg}", f"--storage.tsdb.path={os.path.join(tmp, 'tsdb')}",
                          f"--web.listen-address=127.0.0.1:{prom_port}"],
                         stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "prom.log"), "w"))
    try:
        found = {}
        deadline = time.time() + 90
        wanted = ["up", "fleet_twin_sim_speed", "fleet_twin_vehicles",
                  "fleet_twin_http_request_duration_seconds_count", "fleet_twin_trips"]
        while time.time() < deadline and len(found) < len(wanted):
            time.sleep(1)
            for q in wanted:
                if q in found:
                    continue
                try:
                    r = query(prom_port, q + '{job="fleet-twin"}')
                except (OSError, AssertionError):
                    continue
                if r:
                    found[q] = r
        for q in wanted:
            if q not in found:
                failures.append(f"Prometheus has no series {q} after 90 s")
        if "up" in found and found["up"][0]["value"][1] != "1":
            failures.append(f"up = {found['up'][0]['value'][1]}")
        if "fleet_twin_sim_speed" in found and float(found["fleet_twin_sim_speed"][0]["value"][1]) != 600:
            failures.append(f"speed read back as {found['fleet_twin_sim_speed'][0]['value'][1]}")
        if "fleet_twin_vehicles" in found:
            states = {s["metric"].get("state"): float(s["value"][1]) for s in found["fleet_twin_vehicles"]}
            if sum(states.values()) != 1000:
                failures.append(f"vehicles by state sum to {sum(states.values())}, not 1000: {states}")
            else:
                print("Prometheus read back vehicles by state:", states)
        # A rate over the scrapes: the twin's metrics endpoint was hit repeatedly.
        # (a scrape's own request is counted after its response: wait for a few)
        for _ in range(30):
            r = query(prom_port, 'sum(fleet_twin_http_requests_total{job="fleet-twin",endpoint="/metrics"})')
            if r and float(r[0]["value"][1]) >= 3:
                break
            time.sleep(1)
        if not r or float(r[0]["value"][1]) < 3:
            failures.append(f"/metrics request count as Prometheus sees it: {r}")
        else:
            print("Prometheus read back /metrics requests:", r[0]["value"][1])
    finally:
        p.terminate()
        twin.terminate()
        p.wait(30)
        twin.wait(30)
        twin.stdout.close()

for f in failures:
    print("FAIL:", f)
print(f"prometheus-scrape: {'failed' if failures else 'passed'}")
sys.exit(1 if failures else 0)
