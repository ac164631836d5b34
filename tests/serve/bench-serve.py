#!/usr/bin/env python3
"""Response times of the feed server under a bounded load on loopback.

Runs a scenario into a database (or takes one), serves it with
`fleet-twin-cli serve`, and sends RATE requests per second for SECONDS
seconds, open loop (each request leaves at its planned time, whatever the
ones before it do), alternating MDS /trips pages of random hours with
/metrics scrapes. Prints median and p99 per endpoint. Build with
--buildtype=release for figures worth quoting.

usage: bench-serve.py FLEET_TWIN_CLI [--db RUN.db | --days N] [--rate 100] [--seconds 30]
"""
import argparse, http.client, json, os, random, re, statistics, subprocess, sys, tempfile, threading, time

ap = argparse.ArgumentParser()
ap.add_argument("cli")
ap.add_argument("--db")
ap.add_argument("--days", type=float, default=7)
ap.add_argument("--rate", type=float, default=100)
ap.add_argument("--seconds", type=float, default=30)
ap.add_argument("--limit", type=int, default=1000)
a = ap.parse_args()
src = os.environ.get("FT_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
TOKEN = "bench-0123456789abcdef-token"


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


with tempfile.TemporaryDirectory() as tmp:
    db = a.db
    if db is None:
        db = os.path.join(tmp, "run.db")
        t0 = time.time()
        subprocess.run([a.cli, "run", os.path.join(src, "scenarios", "demo-city-phase1.scenario"),
                        "--days", str(a.days), "-q", "--out", db], check=True, stdout=subprocess.DEVNULL)
        print(f"simulated {a.days:g} days of Demo City into {db} in {time.time() - t0:.1f} s")
    tokens = os.path.join(tmp, "tokens")
    with open(tokens, "w") as f:
        f.write(f"bench {TOKEN}\n")
    t0 = time.time()
    p = subprocess.Popen([a.cli, "serve", db, "--listen", "127.0.0.1:0", "--tokens", tokens],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    m = re.search(r"http://127\.0\.0\.1:(\d+)", p.stdout.readline())
    port = int(m.group(1))
    print(f"server up (store indexed) in {time.time() - t0:.2f} s")

    def get(path):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("GET", path, headers={"Authorization": f"Bearer {TOKEN}"})
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, body

    st, body = get("/health")
    health = json.loads(body)
    # hours with trips: from the first event to the newest
    first_hour = (health["newest_event_ms"] // 3600000) * 3600000
    hours = []
    for back in range(0, int(a.days * 24) + 1):
        h = first_hour - back * 3600000
        st, body = get(time.strftime("/trips?end_time=%Y-%m-%dT%H", time.gmtime(h / 1000)) + "&limit=1")
        if st == 200:
            hours.append(h)
    n_trips = []
    for h in hours[:24]:
        st, body = get(time.strftime("/trips?end_time=%Y-%m-%dT%H", time.gmtime(h / 1000)) + "&limit=5000")
        n_trips.append(len(json.loads(body)["trips"]))
    print(f"{len(hours)} hours served; trips per hour (a sample of 24): median {statistics.median(n_trips):.0f}, "
          f"max {max(n_trips)}")

    lat = {"/trips": [], "/metrics": []}
    errors = []
    lock = threading.Lock()
    rng = random.Random(7)
    plan = []
    n = int(a.rate * a.seconds)
    for i in range(n):
        if i % 2 == 0:
            h = rng.choice(hours)
            path = time.strftime("/trips?end_time=%Y-%m-%dT%H", time.gmtime(h / 1000)) + f"&limit={a.limit}"
            plan.append(("/trips", path))
        else:
            plan.append(("/metrics", "/metrics"))

    def fire(kind, path):
        t = time.perf_counter()
        try:
            st, body = get(path)
        except OSError as e:
            st, body = str(e), b""
        d = time.perf_counter() - t
        with lock:
            if st == 200:
                lat[kind].append(d * 1000)
            else:
                errors.append((path, st))

    start = time.perf_counter() + 0.2
    threads = []
    for i, (kind, path) in enumerate(plan):
        delay = start + i / a.rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        th = threading.Thread(target=fire, args=(kind, path))
        th.start()
        threads.append(th)
    for th in threads:
        th.join()
    wall = time.perf_counter() - start
    p.terminate()
    p.wait(30)
    print(f"{n} requests in {wall:.1f} s ({n / wall:.0f}/s offered {a.rate:g}/s), {len(errors)} errors")
    for kind, v in lat.items():
        if v:
            print(f"  {kind:9s} n={len(v):5d}  median {statistics.median(v):7.2f} ms  p99 {pct(v, 99):7.2f} ms  "
                  f"max {max(v):7.2f} ms")
    target = pct(lat["/trips"], 99) < 50 if lat["/trips"] else False
    print(f"MDS trips p99 under 50 ms: {'yes' if target else 'NO'}")
    sys.exit(0 if target and not errors else 1)
