#!/usr/bin/env python3
"""Paging latency: from a committed event to the channel's request, while a steady load of
other events arrives. Run through bench/run.sh with PHASES=paging (which builds tocsin in
release mode):

  PHASES=paging bash bench/run.sh

tocsin runs with a config whose escalation policy pages one user over a webhook channel with
no wait. A local receiver (in this script) notes when each page arrives. In the background,
BG_RATE events a second (Alertmanager API v2, 100 per request, each a new alert of an
already-open incident group, so they load intake and the engine without paging) arrive;
meanwhile SAMPLES probe events, each opening a new incident, are sent one at a time. The
latency of a probe is from its 2xx (the event is committed: in the log and synced) to its
page reaching the receiver. Prints p50, p90, p99 and max.

Knobs (environment): BG_RATE=5000 SAMPLES=300 PROBE_GAP_MS=50 TOCSIN_BIN OUT=bench/out
"""

import http.client
import http.server
import json
import os
import statistics
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench as b  # noqa: E402  (shares the machine helpers and knobs)

BG_RATE = int(b.env("BG_RATE", "5000"))
SAMPLES = int(b.env("SAMPLES", "300"))
PROBE_GAP_MS = int(b.env("PROBE_GAP_MS", "50"))
KEY = "bench-paging-key-0123456789abcdef"

arrivals = {}
arrivals_lock = threading.Lock()


class Receiver(b.WebhookReceiver):
    def received(self, body, t):
        try:
            for inc in json.loads(body)["incidents"]:
                with arrivals_lock:
                    arrivals.setdefault(inc["title"], t)
        except (ValueError, KeyError):
            pass


def config(port):
    return b.pager_config(port) + f"""integrations:
  - {{name: bench, kind: alertmanager, key: {KEY}, rate_limit: {{per_second: 1000000, burst: 1000000}}}}
"""


def start(port):
    return b.start_tocsin("paging", config(port))


def background(base, stop, sent):
    """BG_RATE events a second, 100 per request, into a handful of incident groups."""
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"}
    per_request = 100
    interval = per_request / BG_RATE
    n = 0
    next_at = time.perf_counter()
    while not stop.is_set():
        alerts = [{"labels": {"alertname": f"Background{i % 5}", "instance": f"bg-{n + i}"}}
                  for i in range(per_request)]
        n += per_request
        conn.request("POST", "/api/v2/alerts", body=json.dumps(alerts), headers=headers)
        conn.getresponse().read()
        sent[0] += per_request
        next_at += interval
        delay = next_at - time.perf_counter()
        if delay > 0:
            time.sleep(delay)


def main():
    os.makedirs(b.RAW, exist_ok=True)
    os.makedirs(b.WORK, exist_ok=True)
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    port = receiver.server_address[1]
    b.wait_quiet()
    s = start(port)
    stop, sent = threading.Event(), [0]
    bg = threading.Thread(target=background, args=(s.base, stop, sent), daemon=True)
    try:
        bg.start()
        time.sleep(2.0)  # the background load settles first
        u = urllib.parse.urlsplit(s.base)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"}
        committed = {}
        t_start = time.perf_counter()
        for i in range(SAMPLES):
            title = f"probe {i}"
            body = json.dumps([{"labels": {"alertname": f"Probe{i}"},
                                "annotations": {"summary": title}}])
            conn.request("POST", "/api/v2/alerts", body=body, headers=headers)
            r = conn.getresponse()
            r.read()
            committed[title] = time.perf_counter()
            if r.status != 200:
                raise RuntimeError(f"probe refused: {r.status}")
            time.sleep(PROBE_GAP_MS / 1000)
        elapsed = time.perf_counter() - t_start
        deadline = time.time() + 30
        while time.time() < deadline:
            with arrivals_lock:
                if all(t in arrivals for t in committed):
                    break
            time.sleep(0.05)
        bg_rate = sent[0] / (time.perf_counter() - t_start + 2.0)
    finally:
        stop.set()
        s.stop()
        receiver.shutdown()
    with arrivals_lock:
        lat = sorted((arrivals[t] - c) * 1000 for t, c in committed.items() if t in arrivals)
    missing = len(committed) - len(lat)

    def pct(q):
        return lat[min(len(lat) - 1, int(q / 100 * len(lat)))]

    result = {
        "samples": len(lat), "missing": missing, "background_events_per_s": round(bg_rate),
        "p50_ms": round(pct(50), 2), "p90_ms": round(pct(90), 2), "p99_ms": round(pct(99), 2),
        "max_ms": round(lat[-1], 2), "mean_ms": round(statistics.mean(lat), 2),
        "probe_seconds": round(elapsed, 1), "machine": b.machine_info(),
    }
    with open(os.path.join(b.OUT, f"paging-{b.STAMP}.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(f"Paging latency, committed event -> webhook request, {len(lat)} probes "
          f"({missing} missing), background {result['background_events_per_s']} events/s:\n"
          f"p50 {result['p50_ms']} ms, p90 {result['p90_ms']} ms, p99 {result['p99_ms']} ms, "
          f"max {result['max_ms']} ms")


if __name__ == "__main__":
    main()
