#!/usr/bin/env python3
"""tocsin vs Prometheus Alertmanager, side by side, in one run on this machine.

Run through bench/run.sh (which installs wrk and Alertmanager and builds tocsin); this script
does the measuring. Phases:

  throughput  wrk against a fresh instance of each server per run: BATCH alerts per request
              for every BATCH in BATCHES and every connection count in CONNS, REPEAT times,
              tocsin and Alertmanager interleaved so background load hits both alike.
  memory      a fresh instance of each loaded with MEM_ALERTS distinct alerts (MEM_BATCH per
              request); VmRSS of the server process, nothing subtracted; then the filtered
              first page over those alerts (tocsin: GET /api/v1/alerts?label=service=svc-1
              &limit=100; Alertmanager: GET /api/v2/alerts?filter=service="svc-1").
  profile     (tocsin only, when `perf` works) a further, unmeasured wrk run under
              `perf record`, summarised by thread and symbol.

Runs alternate the order of the servers (tocsin, AM; then AM, tocsin; ...), wait until other
processes are quiet, and are repeated when other processes took CPU during them.

Knobs (environment): DURATION=10s THREADS=2 CONNS="8 64" BATCHES="100 1" REPEAT=3
MEM_ALERTS=300000 MEM_BATCH=100 LOAD_CONC=8 QUERY_RUNS=5 QUERY_RUNS_AM=3 QUERY_RUNS_RARE_AM=1 QUERY_TIMEOUT=900
AM_RECEIVER=webhook|null PHASES="throughput memory profile" SERVERS="tocsin am"
TOCSIN_BIN AM_BIN AM_PORT=19193 SINK_PORT=19194 OUT=bench/out WORK=$OUT/work KEEP_DATA=0

Output: a table on stdout, and bench/out/results-<stamp>.json (+ latest.json, summary-<stamp>.md,
raw wrk and perf output under bench/out/<stamp>/).
"""

import datetime
import http.client
import http.server
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def env(name, default):
    v = os.environ.get(name)
    return default if v is None or v == "" else v


DURATION = env("DURATION", "10s")
THREADS = int(env("THREADS", "2"))
CONNS = [int(x) for x in env("CONNS", "8 64").split()]
BATCHES = [int(x) for x in env("BATCHES", "100 1").split()]
REPEAT = int(env("REPEAT", "3"))
MEM_ALERTS = int(env("MEM_ALERTS", "300000"))
MEM_BATCH = int(env("MEM_BATCH", "100"))
LOAD_CONC = int(env("LOAD_CONC", "8"))
QUERY_RUNS = int(env("QUERY_RUNS", "5"))
QUERY_RUNS_AM = int(env("QUERY_RUNS_AM", "3"))
QUERY_RUNS_RARE_AM = int(env("QUERY_RUNS_RARE_AM", "1"))
QUERY_TIMEOUT = float(env("QUERY_TIMEOUT", "900"))
CATCHUP_TIMEOUT = float(env("CATCHUP_TIMEOUT", "900"))
QUIET_CORES = float(env("QUIET_CORES", "0.3"))
QUIET_MAX = float(env("QUIET_MAX", "60"))
RETRIES = int(env("RETRIES", "2"))
AM_RECEIVER = env("AM_RECEIVER", "webhook")
PHASES = env("PHASES", "throughput memory profile").split()
SERVERS = env("SERVERS", "tocsin am").split()
TOCSIN_BIN = env("TOCSIN_BIN", "/work/target-bench/release/tocsin")
AM_BIN = env("AM_BIN", shutil.which("prometheus-alertmanager") or "prometheus-alertmanager")
AM_PORT = int(env("AM_PORT", "19193"))
SINK_PORT = int(env("SINK_PORT", "19194"))
OUT = os.path.abspath(env("OUT", os.path.join(HERE, "out")))
WORK = os.path.abspath(env("WORK", os.path.join(OUT, "work")))
KEEP_DATA = env("KEEP_DATA", "0") == "1"
TOKEN = "bench-admin-token-0123456789abcdef"
SERVICES = 50
CLK_TCK = os.sysconf("SC_CLK_TCK")
NAMES = {"tocsin": "tocsin", "am": "Alertmanager"}

STAMP = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
RAW = os.path.join(OUT, STAMP)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- HTTP


def request(base, method, path, body=None, headers=None, timeout=30.0):
    """Returns (status, body bytes, seconds)."""
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    t0 = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return r.status, data, time.perf_counter() - t0
    finally:
        conn.close()


def metrics(base):
    """Prometheus text format -> {"name{labels}": float}."""
    status, data, _ = request(base, "GET", "/metrics", timeout=30)
    out = {}
    if status != 200:
        return out
    for line in data.decode().splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, val = line.rpartition(" ")
        try:
            out[key] = float(val)
        except ValueError:
            pass
    return out


def wait_http(base, path, proc, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before it was ready")
        try:
            if request(base, "GET", path, timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{base}{path} not ready after {timeout}s")


# ---------------------------------------------------------------- /proc


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
                out[k] = int(v.split()[0])
    return out  # kB (Threads: count)


def _stat_times(path):
    with open(path) as f:
        s = f.read()
    comm = s[s.index("(") + 1 : s.rindex(")")]
    rest = s[s.rindex(")") + 2 :].split()
    return comm, int(rest[11]) + int(rest[12])  # utime + stime, clock ticks


def cpu_snapshot(pid):
    """Process CPU ticks (including exited threads) and ticks per live thread name."""
    snap = {"total": _stat_times(f"/proc/{pid}/stat")[1], "threads": {}, "tids": {}}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        tids = []
    for tid in tids:
        try:
            comm, t = _stat_times(f"/proc/{pid}/task/{tid}/stat")
        except (OSError, ValueError):
            continue
        snap["tids"][tid] = (comm, t)
    return snap


def cpu_delta(a, b, seconds):
    """Cores used over the interval, per thread name (threads alive at the end)."""
    groups, counts = {}, {}
    for tid, (comm, t) in b["tids"].items():
        t0 = a["tids"].get(tid, (comm, 0))[1]
        groups[comm] = groups.get(comm, 0) + (t - t0)
        counts[comm] = counts.get(comm, 0) + 1
    total = b["total"] - a["total"]
    accounted = sum(groups.values())
    if total > accounted:
        groups["(exited threads)"] = total - accounted
    return {
        "total_cores": round(total / CLK_TCK / seconds, 3),
        "threads": {
            k: {"cores": round(v / CLK_TCK / seconds, 3), "count": counts.get(k, 0)}
            for k, v in sorted(groups.items(), key=lambda kv: -kv[1])
        },
    }


def machine_snapshot():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v[:8]), idle


def machine_busy_cores(a, b):
    total, idle = b[0] - a[0], b[1] - a[1]
    return (os.cpu_count() or 1) * (total - idle) / total if total else 0.0


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def pid_cpu_seconds(pid):
    try:
        return _stat_times(f"/proc/{pid}/stat")[1] / CLK_TCK
    except OSError:
        return 0.0


# ---------------------------------------------------------------- servers


class Server:
    def __init__(self, kind, proc, base, data_dir):
        self.kind, self.proc, self.base, self.data_dir = kind, proc, base, data_dir

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not KEEP_DATA:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        os.sync()  # the next run should not pay for this one's writeback

    def disk_bytes(self):
        total = 0
        for dirpath, _, files in os.walk(self.data_dir):
            for f in files:
                try:
                    total += os.path.getsize(os.path.join(dirpath, f))
                except OSError:
                    pass
        return total


_instance = 0


def fresh_dir(kind):
    global _instance
    _instance += 1
    d = os.path.join(WORK, f"{kind}-{_instance}")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def start_tocsin(kind="tocsin", config=None, args=()):
    """`tocsin serve` in a fresh directory on a free port, with `config` (YAML text) if given
    and further `args`; returns once it is ready."""
    d = fresh_dir(kind)
    cmd = [TOCSIN_BIN, "serve", "--data", os.path.join(d, "data"), "--listen", "127.0.0.1:0"]
    if config is not None:
        cfg = os.path.join(d, "config.yaml")
        with open(cfg, "w") as f:
            f.write(config)
        cmd += ["--config", cfg]
    cmd += list(args)
    out = open(os.path.join(d, "stdout"), "w")
    err = open(os.path.join(d, "stderr"), "w")
    e = dict(os.environ, TOCSIN_ADMIN_TOKEN=TOKEN, TOCSIN_LOG=env("TOCSIN_LOG", "warn"))
    for k in ("TOCSIN_CONFIG", "TOCSIN_DATA", "TOCSIN_LISTEN"):
        e.pop(k, None)
    p = subprocess.Popen(cmd, stdout=out, stderr=err, env=e, stdin=subprocess.DEVNULL)
    base = None
    end = time.time() + 60
    while time.time() < end and base is None:
        if p.poll() is not None:
            raise RuntimeError(f"tocsin exited: {open(os.path.join(d, 'stderr')).read()}")
        m = re.search(r"tocsin listening on (http://\S+)", open(os.path.join(d, "stdout")).read())
        if m:
            base = m.group(1)
        else:
            time.sleep(0.02)
    if base is None:
        raise RuntimeError("tocsin did not print its address")
    wait_http(base, "/-/ready", p)
    return Server("tocsin", p, base, d)


def pager_config(port):
    """Config that pages one user, `oncall`, at once over a webhook to 127.0.0.1:`port`/page
    (see WebhookReceiver)."""
    return f"""
users:
  - {{id: oncall, contacts: [{{type: webhook, to: oncall}}]}}
teams: [{{id: default, members: [oncall], escalation_policy: page}}]
escalation_policies:
  - {{id: page, levels: [{{targets: [{{user: oncall}}]}}]}}
channels:
  - {{id: hook, type: webhook, url: "http://127.0.0.1:{port}/page"}}
"""


class WebhookReceiver(http.server.BaseHTTPRequestHandler):
    """Answers tocsin's webhook pages with 200 and hands each body to `received`, with the
    time it came (time.perf_counter())."""

    def do_POST(self):
        t = time.perf_counter()
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.received(body, t)

    def received(self, body, t):
        pass

    def log_message(self, *args):
        pass


def am_config(d):
    with open(os.path.join(HERE, "am.yml")) as f:
        text = f.read()
    if AM_RECEIVER == "null":
        text = re.sub(r"\n    webhook_configs:.*", "\n", text, flags=re.S)
    else:
        text = text.replace("@SINK_URL@", f"http://127.0.0.1:{SINK_PORT}/")
    path = os.path.join(d, "am.yml")
    with open(path, "w") as f:
        f.write(text)
    return path


def start_am():
    d = fresh_dir("am")
    storage = os.path.join(d, "data")
    os.makedirs(storage)
    p = subprocess.Popen(
        [AM_BIN, f"--config.file={am_config(d)}", f"--storage.path={storage}",
         f"--web.listen-address=127.0.0.1:{AM_PORT}", "--cluster.listen-address=",
         "--log.level=warn"],
        stdout=open(os.path.join(d, "stdout"), "w"),
        stderr=open(os.path.join(d, "stderr"), "w"), stdin=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{AM_PORT}"
    wait_http(base, "/-/ready", p)
    return Server("am", p, base, d)


def start(kind):
    s = start_tocsin() if kind == "tocsin" else start_am()
    time.sleep(1.0)  # let start-up work settle before measuring
    return s


class Sink:
    def __init__(self):
        self.proc = None
        if "am" in SERVERS and AM_RECEIVER != "null":
            self.proc = subprocess.Popen(
                [sys.executable, os.path.join(HERE, "sink.py"), str(SINK_PORT)],
                stdin=subprocess.DEVNULL)
            wait_http(f"http://127.0.0.1:{SINK_PORT}", "/", self.proc, timeout=10)

    def counts(self):
        if not self.proc:
            return {}
        return json.loads(request(f"http://127.0.0.1:{SINK_PORT}", "GET", "/")[1])

    def cpu(self):
        return pid_cpu_seconds(self.proc.pid) if self.proc else 0.0

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()


# ---------------------------------------------------------------- tocsin engine


def tocsin_progress(base):
    m = metrics(base)
    return {
        "log_lsn": int(m.get("tocsin_log_lsn", 0)),
        "applied_lsn": int(m.get("tocsin_engine_applied_lsn", 0)),
        "alerts": int(m.get("tocsin_alerts", 0)),
        "commits": int(m.get("tocsin_log_commit_duration_seconds_count", 0)),
        "commit_seconds": m.get("tocsin_log_commit_duration_seconds_sum", 0.0),
        "intake_requests": int(m.get("tocsin_intake_duration_seconds_count", 0)),
    }


def wait_engine(base, expect_alerts=None, timeout=CATCHUP_TIMEOUT):
    """Seconds until applied_lsn == log_lsn (and tocsin_alerts >= expect_alerts)."""
    t0 = time.perf_counter()
    while True:
        p = tocsin_progress(base)
        if p["applied_lsn"] >= p["log_lsn"] and (expect_alerts is None or p["alerts"] >= expect_alerts):
            return time.perf_counter() - t0, p
        if time.perf_counter() - t0 > timeout:
            return None, p
        time.sleep(0.05)


def am_active(base):
    return int(metrics(base).get('alertmanager_alerts{state="active"}', -1))


# ---------------------------------------------------------------- wrk


def run_wrk(server, batch, conns, tag):
    cmd = ["wrk", f"-t{THREADS}", f"-c{conns}", f"-d{DURATION}", "--timeout", "30s", "--latency",
           "-s", os.path.join(HERE, "alerts.lua"), server.base]
    e = dict(os.environ, BATCH=str(batch), SERVICES=str(SERVICES), ID_BASE="0")
    sink_before = SINK.counts() if server.kind == "am" else {}
    sink_cpu0 = SINK.cpu() if server.kind == "am" else 0.0
    cpu0, mach0, ch0 = cpu_snapshot(server.pid), machine_snapshot(), children_cpu()
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=e, capture_output=True, text=True)
    secs = time.perf_counter() - t0
    cpu1, mach1, ch1 = cpu_snapshot(server.pid), machine_snapshot(), children_cpu()
    with open(os.path.join(RAW, f"wrk-{tag}.txt"), "w") as f:
        f.write(" ".join(cmd) + f"\nBATCH={batch}\n\n" + r.stdout + r.stderr)
    m = re.search(r"^BENCH_JSON (.*)$", r.stdout, re.M)
    if r.returncode != 0 or not m:
        raise RuntimeError(f"wrk failed ({r.returncode}): {r.stdout}\n{r.stderr}")
    w = json.loads(m.group(1))
    dur = w["duration_us"] / 1e6
    errs = w["errors"]
    ok = w["requests"] - errs["status"]
    server_cpu = cpu_delta(cpu0, cpu1, secs)
    wrk_cores = (ch1 - ch0) / secs
    busy = machine_busy_cores(mach0, mach1)
    res = {
        "server": server.kind, "batch": batch, "conns": conns, "threads": THREADS,
        "duration_s": round(dur, 3),
        "requests": w["requests"], "ok_requests": ok,
        "errors": errs,
        "requests_per_s": round(ok / dur, 1),
        "alerts_per_s": round(ok * batch / dur, 1),
        "latency_ms": {
            "p50": w["latency_us"]["p"]["50"] / 1000, "p90": w["latency_us"]["p"]["90"] / 1000,
            "p99": w["latency_us"]["p"]["99"] / 1000, "p99.9": w["latency_us"]["p"]["99.9"] / 1000,
            "mean": round(w["latency_us"]["mean"] / 1000, 3), "max": w["latency_us"]["max"] / 1000,
        },
        "cpu": {
            "server_cores": server_cpu["total_cores"],
            "server_threads": server_cpu["threads"],
            "wrk_cores": round(wrk_cores, 3),
            "machine_busy_cores": round(busy, 3),
        },
        "rss_kb_end": proc_status(server.pid)["VmRSS"],
    }
    if server.kind == "am":
        sink_after = SINK.counts()
        sink_cores = (SINK.cpu() - sink_cpu0) / secs
        res["cpu"]["sink_cores"] = round(sink_cores, 3)
        res["sink"] = {k: sink_after.get(k, 0) - sink_before.get(k, 0) for k in sink_after}
        res["am_active_alerts"] = am_active(server.base)
        other = busy - server_cpu["total_cores"] - wrk_cores - sink_cores
    else:
        other = busy - server_cpu["total_cores"] - wrk_cores
    res["cpu"]["other_cores"] = round(max(other, 0.0), 3)
    return res


def wait_quiet():
    """Waits (at most QUIET_MAX s) until other processes use < QUIET_CORES; returns their use."""
    t0 = time.time()
    while True:
        a = machine_snapshot()
        time.sleep(1.0)
        busy = machine_busy_cores(a, machine_snapshot())
        if busy < QUIET_CORES or time.time() - t0 > QUIET_MAX:
            if busy >= QUIET_CORES:
                log(f"    machine still busy ({busy:.2f} cores) after {QUIET_MAX:.0f} s; measuring anyway")
            return round(busy, 3)


def measured_run(kind, batch, conns, tag):
    """One wrk run on a fresh instance; rerun (up to RETRIES) when other processes took CPU
    during it, keeping the attempt they disturbed least."""
    best = None
    for attempt in range(RETRIES + 1):
        busy_before = wait_quiet()
        s = start(kind)
        try:
            r = run_wrk(s, batch, conns, f"{tag}-a{attempt + 1}")
            r["busy_before_cores"] = busy_before
            if kind == "tocsin":
                at_end = tocsin_progress(s.base)
                caught, after = wait_engine(s.base)
                r["engine"] = {
                    "lag_entries_at_end": at_end["log_lsn"] - at_end["applied_lsn"],
                    "catch_up_s": None if caught is None else round(caught, 3),
                    "log_lsn": after["log_lsn"], "alerts": after["alerts"],
                    "commits": after["commits"],
                    "mean_commit_ms": round(1000 * after["commit_seconds"] / after["commits"], 3)
                    if after["commits"] else None,
                    # accepted alerts over the time until the engine had applied them all
                    "applied_alerts_per_s": None if caught is None
                    else round(r["ok_requests"] * batch / (r["duration_s"] + caught), 1),
                }
        finally:
            s.stop()
        r["attempt"] = attempt + 1
        if best is None or r["cpu"]["other_cores"] < best["cpu"]["other_cores"]:
            best = r
        if r["cpu"]["other_cores"] < QUIET_CORES:
            break
        log(f"    disturbed: other processes used {r['cpu']['other_cores']:.2f} cores"
            + ("; again" if attempt < RETRIES else "; keeping the least disturbed attempt"))
    return best


def throughput_phase(results):
    runs = results.setdefault("throughput", [])
    n = 0
    total = REPEAT * len(BATCHES) * len(CONNS) * len(SERVERS)
    for rep in range(REPEAT):
        for batch in BATCHES:
            for conns in CONNS:
                # ABBA order: whatever one server's run leaves behind (page cache, writeback)
                # precedes the other's run as often as its own.
                for kind in (SERVERS if rep % 2 == 0 else SERVERS[::-1]):
                    n += 1
                    tag = f"{kind}-b{batch}-c{conns}-r{rep + 1}"
                    log(f"[{n}/{total}] {tag} ...")
                    r = measured_run(kind, batch, conns, tag)
                    r["repeat"] = rep + 1
                    runs.append(r)
                    log(f"    {r['alerts_per_s']:>10.0f} alerts/s {r['requests_per_s']:>9.0f} req/s"
                        f"  p50 {r['latency_ms']['p50']:.2f} p99 {r['latency_ms']['p99']:.2f} ms"
                        f"  errors {r['errors']}  server {r['cpu']['server_cores']:.2f} cores,"
                        f" wrk {r['cpu']['wrk_cores']:.2f}, other {r['cpu']['other_cores']:.2f}"
                        + (f"  engine behind by {r['engine']['lag_entries_at_end']} log entries, caught up in"
                           f" {r['engine']['catch_up_s']} s" if kind == "tocsin" else ""))
                    save(results)


# ---------------------------------------------------------------- memory + query


def alert_json(n):
    sev = ("critical", "warning", "high", "info")[n % 4]
    return ('{"labels":{"alertname":"BenchCheck%d","service":"svc-%d","instance":"node-%d.bench:9100",'
            '"severity":"%s"},"annotations":{"summary":"bench check %d failing on node-%d"},'
            '"generatorURL":"http://prometheus.bench:9090/graph?g0.expr=bench_up%%3D%%3D0"}'
            % (n % 25, n % SERVICES, n, sev, n % 25, n))


def load(server, total, batch, conc):
    """POSTs `total` distinct alerts, `batch` per request, over `conc` connections."""
    nreq = (total + batch - 1) // batch
    nxt = [0]
    lock = threading.Lock()
    failures = []
    u = urllib.parse.urlsplit(server.base)

    def worker():
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= nreq or failures:
                break
            lo, hi = i * batch, min(total, (i + 1) * batch)
            body = "[" + ",".join(alert_json(n) for n in range(lo, hi)) + "]"
            for attempt in range(3):
                try:
                    conn.request("POST", "/api/v2/alerts", body=body,
                                 headers={"Content-Type": "application/json"})
                    r = conn.getresponse()
                    r.read()
                    if r.status != 200:
                        failures.append(f"request {i}: HTTP {r.status}")
                    break
                except (OSError, http.client.HTTPException) as e:
                    conn.close()
                    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
                    if attempt == 2:
                        failures.append(f"request {i}: {e}")
        conn.close()

    t0 = time.perf_counter()
    ts = [threading.Thread(target=worker) for _ in range(conc)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if failures:
        raise RuntimeError(f"loading {server.kind} failed: {failures[:5]}")
    return time.perf_counter() - t0, nreq


def median(xs):
    return statistics.median(xs) if xs else None


def query_phase(server, name, value, runs_tocsin, runs_am):
    """First page of alerts whose label `name` is `value`: tocsin's paged list against
    Alertmanager's whole filtered list (it has no pagination)."""
    if server.kind == "tocsin":
        path = "/api/v1/alerts?" + urllib.parse.urlencode({"label": f"{name}={value}", "limit": "100"})
        headers = {"Authorization": f"Bearer {TOKEN}"}
        runs = runs_tocsin
    else:
        path = "/api/v2/alerts?filter=" + urllib.parse.quote(f'{name}="{value}"')
        headers = {}
        runs = runs_am
    times, size, items = [], None, None
    for i in range(runs):
        status, data, secs = request(server.base, "GET", path, headers=headers, timeout=QUERY_TIMEOUT)
        if status != 200:
            raise RuntimeError(f"{server.kind} query: HTTP {status}: {data[:300]!r}")
        times.append(secs * 1000)
        size = len(data)
        doc = json.loads(data)
        items = len(doc["items"]) if isinstance(doc, dict) else len(doc)
        log(f"    {name}={value} {i + 1}/{runs}: {secs * 1000:.1f} ms, {items} alerts, {size} bytes")
    if not times:
        return {}
    return {"path": path, "runs_ms": [round(t, 2) for t in times], "median_ms": round(median(times), 2),
            "response_bytes": size, "alerts_returned": items}


def memory_phase(results):
    mem = results.setdefault("memory", {})
    for kind in SERVERS:
        wait_quiet()
        s = start(kind)
        try:
            time.sleep(1.0)
            base_st = proc_status(s.pid)
            log(f"[memory] {kind}: idle RSS {base_st['VmRSS'] / 1024:.1f} MiB; loading {MEM_ALERTS} alerts ...")
            cpu0, t_load = cpu_snapshot(s.pid), time.perf_counter()
            load_s, nreq = load(s, MEM_ALERTS, MEM_BATCH, LOAD_CONC)
            r = {"baseline": base_st, "alerts": MEM_ALERTS, "requests": nreq,
                 "load_s": round(load_s, 3), "load_alerts_per_s": round(MEM_ALERTS / load_s, 1)}
            if kind == "tocsin":
                caught, p = wait_engine(s.base, expect_alerts=MEM_ALERTS)
                if caught is None:
                    raise RuntimeError(f"tocsin engine did not catch up: {p}")
                r["engine_catch_up_s"] = round(caught, 3)
                r["known_alerts"] = p["alerts"]
                r["log_lsn"] = p["log_lsn"]
                log(f"    loaded in {load_s:.1f} s; engine caught up {caught:.1f} s later; alerts={p['alerts']}")
            else:
                t0 = time.perf_counter()
                n = -1
                while time.perf_counter() - t0 < 120:
                    n = am_active(s.base)
                    if n >= MEM_ALERTS:
                        break
                    time.sleep(0.2)
                r["known_alerts"] = n
                r["count_wait_s"] = round(time.perf_counter() - t0, 3)
                log(f"    loaded in {load_s:.1f} s; active alerts={n}")
            # CPU of the server from the first request until it held every alert
            r["load_cpu"] = cpu_delta(cpu0, cpu_snapshot(s.pid), time.perf_counter() - t_load)
            time.sleep(2.0)
            st = proc_status(s.pid)
            r["loaded"] = st
            r["rss_bytes_per_alert"] = round(st["VmRSS"] * 1024 / MEM_ALERTS, 1)
            r["rss_growth_bytes_per_alert"] = round((st["VmRSS"] - base_st["VmRSS"]) * 1024 / MEM_ALERTS, 1)
            log(f"    RSS {st['VmRSS'] / 1024:.1f} MiB = {r['rss_bytes_per_alert']:.0f} B/alert"
                f" (peak {st['VmHWM'] / 1024:.1f} MiB)")
            wait_quiet()
            r["query"] = query_phase(s, "service", "svc-1", QUERY_RUNS, QUERY_RUNS_AM)
            # A label value only one alert has: no early stop at a full page.
            r["query_rare"] = query_phase(s, "instance", f"node-{MEM_ALERTS // 2 + 7}.bench:9100",
                                          QUERY_RUNS, QUERY_RUNS_RARE_AM)
            r["after_query"] = proc_status(s.pid)
            if kind == "tocsin":
                r["data_dir_bytes"] = s.disk_bytes()
            mem[kind] = r
        finally:
            s.stop()
        save(results)


# ---------------------------------------------------------------- perf profile


def perf_works():
    if not shutil.which("perf"):
        return False
    r = subprocess.run(["perf", "record", "-F", "99", "-o", "/dev/null", "--", "true"],
                       capture_output=True, text=True)
    return r.returncode == 0


# Frames that say nothing about where tocsin spends its time (runtime, HTTP plumbing).
PLUMBING = re.compile(r"tokio::runtime|std::sys|start_thread|clone3|core::ops::function|hyper::|axum::|"
                      r"tower::|Harness|call_once|__rust_begin|catch_unwind|Pin<P>|hyper_util|PollFn|"
                      r"futures_util::future|entry_SYSCALL|thread_start")


def perf_report(data, *args):
    r = subprocess.run(["perf", "report", "-i", data, "--stdio", *args], capture_output=True, text=True)
    return r.stdout


def profile_phase(results):
    if "tocsin" not in SERVERS:
        return
    if not perf_works():
        log("[profile] perf not usable here; skipped")
        results["profile"] = {"skipped": "perf not usable"}
        return
    prof = results.setdefault("profile", {})
    for batch, conns in ((100, 64), (1, 64)):
        wait_quiet()
        s = start("tocsin")
        try:
            tag = f"b{batch}-c{conns}"
            data = os.path.join(RAW, f"perf-{tag}.data")
            log(f"[profile] tocsin {tag} under perf record (DWARF call graphs) ...")
            rec = subprocess.Popen(["perf", "record", "-F", env("PERF_FREQ", "199"), "--call-graph", "dwarf,32768",
                                    "-p", str(s.pid), "-o", data],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
            r = run_wrk(s, batch, conns, f"profile-{tag}")
            rec.send_signal(signal.SIGINT)
            rec.wait(timeout=120)
        finally:
            s.stop()
        rep = {}
        # self time per thread, and per thread and function
        for sort in ("comm", "comm,sym"):
            out = perf_report(data, "--no-children", "--sort", sort, "-g", "none", "--percent-limit", "0.5")
            rep["self " + sort] = [l.rstrip() for l in out.splitlines() if l.strip() and not l.startswith("#")][:50]
        # time including callees: which of tocsin's functions the time is spent under
        out = perf_report(data, "--children", "--no-inline", "--sort", "comm,sym", "-g", "none",
                          "--percent-limit", "1")
        lines = [l.rstrip()[:220] for l in out.splitlines()
                 if l.strip() and not l.startswith("#") and not PLUMBING.search(l)]
        rep["with callees"] = lines[:90]
        for k, v in rep.items():
            with open(os.path.join(RAW, f"perf-{tag}-{k.replace(' ', '-').replace(',', '-')}.txt"), "w") as f:
                f.write("\n".join(v) + "\n")
        if not KEEP_DATA:
            os.unlink(data)
        prof[tag] = {"wrk": {k: r[k] for k in ("alerts_per_s", "requests_per_s", "latency_ms")},
                     "cpu": r["cpu"], "report": rep}
        save(results)


# ---------------------------------------------------------------- summary


def machine_info():
    info = {"nproc": os.cpu_count(), "kernel": platform.release()}
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
            info["cpu_model"] = m.group(1).strip() if m else "?"
        with open("/proc/meminfo") as f:
            info["mem_total_gib"] = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        src = subprocess.run(["findmnt", "-n", "-o", "SOURCE,FSTYPE", "-T", WORK],
                             capture_output=True, text=True).stdout.split()
        info["disk"] = {"device": src[0], "fstype": src[1]}
        dev = os.path.basename(src[0])
        for k in ("rotational",):
            p = f"/sys/block/{dev}/queue/{k}"
            if os.path.exists(p):
                info["disk"][k] = int(open(p).read())
    except (OSError, IndexError):
        pass
    # fdatasync latency of a 4 KiB append on the disk the data dirs live on
    path = os.path.join(WORK, "fsync-probe")
    lat = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for _ in range(200):
            os.write(fd, b"x" * 4096)
            t0 = time.perf_counter()
            os.fdatasync(fd)
            lat.append((time.perf_counter() - t0) * 1000)
    finally:
        os.close(fd)
        os.unlink(path)
    lat.sort()
    info.setdefault("disk", {})["fdatasync_4k_ms"] = {"p50": round(lat[100], 3), "p99": round(lat[197], 3)}
    with open("/proc/loadavg") as f:
        info["loadavg_at_start"] = f.read().split()[:3]
    return info


def versions():
    v = {"tocsin_source": os.environ.get("TOCSIN_SOURCE", "?")}
    try:
        v["repo_git"] = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                                         capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    for name, cmd in (("alertmanager", [AM_BIN, "--version"]), ("wrk", ["wrk", "-v"])):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True)
            v[name] = (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            v[name] = "?"
    return v


def summarise(results):
    rows = {}
    for r in results.get("throughput", []):
        rows.setdefault((r["batch"], r["conns"], r["server"]), []).append(r)
    summary = {}
    for (batch, conns, kind), rs in rows.items():
        summary.setdefault(f"b{batch}-c{conns}", {})[kind] = {
            "runs": len(rs),
            "alerts_per_s": median([x["alerts_per_s"] for x in rs]),
            "alerts_per_s_runs": [x["alerts_per_s"] for x in rs],
            "requests_per_s": median([x["requests_per_s"] for x in rs]),
            "p50_ms": median([x["latency_ms"]["p50"] for x in rs]),
            "p90_ms": median([x["latency_ms"]["p90"] for x in rs]),
            "p99_ms": median([x["latency_ms"]["p99"] for x in rs]),
            "errors": sum(x["errors"]["status"] + x["errors"]["timeout"] + x["errors"]["connect"]
                          + x["errors"]["read"] + x["errors"]["write"] for x in rs),
            "server_cores": median([x["cpu"]["server_cores"] for x in rs]),
            "wrk_cores": median([x["cpu"]["wrk_cores"] for x in rs]),
            "other_cores": median([x["cpu"]["other_cores"] for x in rs]),
            "applied_alerts_per_s": median([x["engine"]["applied_alerts_per_s"] for x in rs
                                            if x.get("engine") and x["engine"]["applied_alerts_per_s"]]),
            "catch_up_s": median([x["engine"]["catch_up_s"] for x in rs
                                  if x.get("engine") and x["engine"]["catch_up_s"] is not None]),
        }
    results["summary"] = summary
    return summary


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_num(x, nd=0):
    if x is None:
        return "–"
    return f"{x:,.{nd}f}"


def fmt_ratio(x):
    if x is None:
        return "–"
    if x < 0.01:
        return f"{x:.4f}× (1/{1 / x:,.0f})"
    return f"{x:.2f}×" if x < 10 else f"{x:.1f}×"


def table(results):
    s = summarise(results)
    mem = results.get("memory", {})
    lines = ["| measure | tocsin | Alertmanager 0.25 | tocsin/AM | target | met? |",
             "|---|---:|---:|---:|---|---|"]

    def row(label, t, a, nd=0, target=None, check=None, rat=True, needs_peer=True):
        rv = ratio(t, a) if rat else None
        ok = "–" if check is None or t is None or (needs_peer and a is None) else ("yes" if check(t, a, rv) else "**no**")
        lines.append(f"| {label} | {fmt_num(t, nd)} | {fmt_num(a, nd)} | {fmt_ratio(rv) if rat else '–'} "
                     f"| {target or ''} | {ok} |")

    for batch in BATCHES if s else []:
        for conns in CONNS:
            k = f"b{batch}-c{conns}"
            t, a = s.get(k, {}).get("tocsin", {}), s.get(k, {}).get("am", {})
            if batch > 1:
                row(f"BATCH={batch}, {conns} conns: alerts/s", t.get("alerts_per_s"), a.get("alerts_per_s"),
                    target="≥ 10× AM", check=lambda t_, a_, r: r is not None and r >= 10)
                row(f"BATCH={batch}, {conns} conns: requests/s", t.get("requests_per_s"), a.get("requests_per_s"))
                row(f"BATCH={batch}, {conns} conns: alerts/s applied (run + engine catch-up)",
                    t.get("applied_alerts_per_s"), a.get("alerts_per_s"))
                row(f"BATCH={batch}, {conns} conns: tocsin engine catch-up after the run (s)",
                    t.get("catch_up_s"), None, nd=1, rat=False)
            else:
                row(f"BATCH={batch}, {conns} conns: requests/s", t.get("requests_per_s"), a.get("requests_per_s"),
                    target="≥ 3× AM", check=lambda t_, a_, r: r is not None and r >= 3)
            for p in ("p50", "p90", "p99"):
                row(f"BATCH={batch}, {conns} conns: latency {p} (ms)", t.get(f"{p}_ms"), a.get(f"{p}_ms"), nd=2)
    if mem:
        t, a = mem.get("tocsin", {}), mem.get("am", {})
        mib = lambda r, k: r[k]["VmRSS"] / 1024 if r.get(k) else None
        row("idle fresh instance RSS (MiB)", mib(t, "baseline"), mib(a, "baseline"), nd=1)
        row(f"RSS holding {MEM_ALERTS:,} alerts (MiB)", mib(t, "loaded"), mib(a, "loaded"), nd=1)
        row("RSS / alert (bytes, nothing subtracted)", t.get("rss_bytes_per_alert"), a.get("rss_bytes_per_alert"),
            target="≤ 1/10 of AM", check=lambda t_, a_, r: r is not None and r <= 0.1)
        row("(RSS − idle RSS) / alert (bytes)", t.get("rss_growth_bytes_per_alert"),
            a.get("rss_growth_bytes_per_alert"))
        row(f"time to load {MEM_ALERTS:,} alerts (s, {LOAD_CONC} conns)",
            (t.get("load_s") or 0) + (t.get("engine_catch_up_s") or 0) if t else None, a.get("load_s"), nd=1)
        tq, aq = t.get("query", {}), a.get("query", {})
        row("filtered first page, service=svc-1 (ms, median)", tq.get("median_ms"), aq.get("median_ms"), nd=1,
            target="< 100 ms", check=lambda t_, a_, r: t_ < 100, needs_peer=False)
        lines.append(f"| alerts returned / response bytes | {tq.get('alerts_returned', '–')} / "
                     f"{fmt_num(tq.get('response_bytes'))} | {aq.get('alerts_returned', '–')} / "
                     f"{fmt_num(aq.get('response_bytes'))} | | | |")
        tr, ar = t.get("query_rare", {}), a.get("query_rare", {})
        row("filter matching 1 alert, instance=… (ms, median)", tr.get("median_ms"), ar.get("median_ms"), nd=1)
    lines.append("| durable when the sender gets 200 | yes: event log fdatasync'ed | "
                 "no: alerts live in memory only (its snapshots hold silences and the notification log) | | | |")
    return "\n".join(lines)


def thread_table(results):
    """Median cores per tocsin thread name, per load."""
    groups, names = {}, {}
    for r in results.get("throughput", []):
        if r["server"] != "tocsin":
            continue
        groups.setdefault((r["batch"], r["conns"]), []).append(r)
        for k, v in r["cpu"]["server_threads"].items():
            names[k] = names.get(k, 0) + v["cores"]
    if not groups:
        return "(no throughput runs)"
    cols = [k for k, v in sorted(names.items(), key=lambda kv: -kv[1]) if v > 0.005]
    out = ["| load | tocsin total | " + " | ".join(cols) + " | wrk | other processes |",
           "|---|" + "---:|" * (len(cols) + 3)]
    for (batch, conns), rs in sorted(groups.items(), key=lambda kv: (-kv[0][0], kv[0][1])):
        def th(name):
            return median([x["cpu"]["server_threads"].get(name, {}).get("cores", 0.0) for x in rs])

        out.append(f"| BATCH={batch}, {conns} conns | {median([x['cpu']['server_cores'] for x in rs]):.2f} | "
                   + " | ".join(f"{th(n):.2f}" for n in cols)
                   + f" | {median([x['cpu']['wrk_cores'] for x in rs]):.2f} | "
                     f"{median([x['cpu']['other_cores'] for x in rs]):.2f} |")
    return "\n".join(out)


def save(results):
    os.makedirs(OUT, exist_ok=True)
    summarise(results)
    path = os.path.join(OUT, f"results-{STAMP}.json")
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
    shutil.copyfile(path, os.path.join(OUT, "latest.json"))


SINK = None


def main():
    global SINK
    os.makedirs(RAW, exist_ok=True)
    os.makedirs(WORK, exist_ok=True)
    if "tocsin" in SERVERS and not os.access(TOCSIN_BIN, os.X_OK):
        sys.exit(f"no tocsin binary at {TOCSIN_BIN} (set TOCSIN_BIN or run bench/run.sh)")
    results = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine_info(), "versions": versions(),
        "knobs": {"DURATION": DURATION, "THREADS": THREADS, "CONNS": CONNS, "BATCHES": BATCHES,
                  "REPEAT": REPEAT, "MEM_ALERTS": MEM_ALERTS, "MEM_BATCH": MEM_BATCH, "LOAD_CONC": LOAD_CONC,
                  "QUERY_RUNS": QUERY_RUNS, "QUERY_RUNS_AM": QUERY_RUNS_AM, "AM_RECEIVER": AM_RECEIVER,
                  "SERVERS": SERVERS, "PHASES": PHASES},
    }
    log(f"machine: {results['machine']}")
    log(f"versions: {results['versions']}")
    SINK = Sink()
    try:
        if "throughput" in PHASES:
            throughput_phase(results)
        if "memory" in PHASES:
            memory_phase(results)
        if "profile" in PHASES:
            profile_phase(results)
    finally:
        SINK.stop()
        save(results)
        if not KEEP_DATA:
            shutil.rmtree(WORK, ignore_errors=True)
    t = table(results)
    th = thread_table(results)
    text = (f"tocsin vs Alertmanager — {results['date']} — {results['machine'].get('nproc')} × "
            f"{results['machine'].get('cpu_model')}; wrk -t{THREADS} -d{DURATION}, medians of {REPEAT} "
            f"run(s), fresh instance per run; AM receiver: {AM_RECEIVER}\n\n{t}\n\n"
            f"tocsin CPU by thread (cores, medians):\n\n{th}\n")
    for tag, p in results.get("profile", {}).items():
        if not isinstance(p, dict) or "report" not in p:
            continue
        text += (f"\nperf profile, tocsin {tag} ({p['wrk']['alerts_per_s']:,.0f} alerts/s under perf): "
                 "share of samples by thread\n" + "\n".join(p["report"]["self comm"])
                 + "\n\nincluding callees (top of " + os.path.join(RAW, f"perf-{tag}-with-callees.txt") + ")\n"
                 + "\n".join(p["report"]["with callees"][:30]) + "\n")
    with open(os.path.join(OUT, f"summary-{STAMP}.md"), "w") as f:
        f.write(text)
    print(text)
    print(f"results: {os.path.join(OUT, f'results-{STAMP}.json')}  raw: {RAW}")


if __name__ == "__main__":
    main()
