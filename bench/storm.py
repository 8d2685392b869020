#!/usr/bin/env python3
"""An alert storm through the real HTTP endpoints, at full speed. Run through bench/run.sh
with PHASES=storm (which builds tocsin in release mode):

  PHASES=storm bash bench/run.sh

Generates the `storm` scenario (`tocsin simulate write`: core switches taking hundreds of
hosts down, Prometheus, Zabbix, Nagios and Open-Falcon all reporting) into a temporary
directory, starts tocsin with that topology as its catalog (`serve --topology`),
one integration per tool, and an escalation policy that pages one user over a webhook to a
receiver in this script, so notifications are really sent. Then every event goes through
the endpoint its tool uses (Prometheus `POST /api/v2/alerts`, Zabbix and Nagios `POST
/hooks/KEY`, Open-Falcon `GET /hooks/KEY?...`) from CLIENTS processes at once; each alert's
events go through one client, so they arrive in order. The stream's 3.5 hours arrive in
seconds: the whole of it is one flood, which is what storm mode is for.

Reports intake events/s (first request to last answer), the time until the engine has
applied everything, tocsin's peak RSS (VmHWM), alerts, incidents, storms detected, the
webhook requests the receiver got (by message kind) and the outbox rows by kind and state.

Knobs (environment): SEED=1 PROFILE=storm (any `tocsin simulate` profile) CLIENTS=8
TOCSIN_BIN OUT=bench/out EXTRA_CONFIG="" (YAML added to the config, e.g.
'storms: {enabled: false}' to see what would be paged without storm mode, or
'correlation: {enabled: false}' for one incident per alert group)
"""

import collections
import http.client
import http.server
import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench as b  # noqa: E402  (shares the machine helpers and knobs)

SEED = b.env("SEED", "1")
PROFILE = b.env("PROFILE", "storm")
CLIENTS = int(b.env("CLIENTS", "8"))
EXTRA_CONFIG = b.env("EXTRA_CONFIG", "")
KINDS = {"prometheus": "alertmanager", "zabbix": "zabbix", "nagios": "nagios",
         "open-falcon": "open-falcon"}


def key(integration):
    return f"bench-storm-{integration}-0123456789abcdef"


class Receiver(b.WebhookReceiver):
    """Counts webhook requests by message kind, and the incidents they name."""
    lock = threading.Lock()
    requests = collections.Counter()
    incidents = collections.Counter()

    def received(self, body, t):
        try:
            msg = json.loads(body)
            kind, n = msg.get("kind", "?"), len(msg.get("incidents") or [])
        except ValueError:
            kind, n = "?", 0
        with Receiver.lock:
            Receiver.requests[kind] += 1
            Receiver.incidents[kind] += n


def config(port):
    lines = ["integrations:"]
    for name, kind in KINDS.items():
        # The benchmark measures intake, not the rate limit.
        lines.append(f"  - {{name: {name}, kind: {kind}, key: {key(name)}, "
                     "rate_limit: {per_second: 1000000000, burst: 1000000000}}")
    return "\n".join(lines) + b.pager_config(port) + EXTRA_CONFIG + "\n"


def start(port, topology):
    return b.start_tocsin("storm", config(port), ["--topology", topology])


def identity(integration, payload):
    """What one alert is to its tool (its adapter's dedup key), so its events stay in one
    client."""
    if integration == "prometheus":
        return json.dumps(payload[0]["labels"], sort_keys=True)
    if integration == "zabbix":
        return payload["event_id"]
    if integration == "nagios":
        return payload["HOSTNAME"] + "!" + payload.get("SERVICEDESC", "")
    return "|".join(payload.get(k, "") for k in ("endpoint", "metric", "tags", "stra_id"))


def request_of(integration, payload):
    """(method, path, body, headers) as the tool sends it."""
    if integration == "prometheus":
        return ("POST", "/api/v2/alerts", json.dumps(payload),
                {"Content-Type": "application/json", "Authorization": f"Bearer {key(integration)}"})
    path = f"/hooks/{key(integration)}"
    if integration == "open-falcon":
        return "GET", path + "?" + urllib.parse.urlencode(payload), None, {}
    return "POST", path, json.dumps(payload), {"Content-Type": "application/json"}


def shards(events_path):
    out = [[] for _ in range(CLIENTS)]
    n = 0
    with open(events_path) as f:
        for line in f:
            e = json.loads(line)
            who = zlib.crc32(identity(e["integration"], e["payload"]).encode()) % CLIENTS
            out[who].append(request_of(e["integration"], e["payload"]))
            n += 1
    return out, n


def client(base, requests, results):
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    statuses = collections.Counter()
    for method, path, body, headers in requests:
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        r.read()
        statuses[r.status] += 1
    results.put((dict(statuses), time.perf_counter()))


def push(base, parts):
    """Sends every shard from its own process at once; (seconds, statuses)."""
    results = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=client, args=(base, p, results)) for p in parts]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    statuses, last = collections.Counter(), t0
    for _ in procs:
        s, t = results.get()
        statuses.update(s)
        last = max(last, t)
    for p in procs:
        p.join()
    return last - t0, statuses


def settle_notifications(timeout=120):
    """Waits until the receiver has had nothing new for 3 s."""
    end = time.time() + timeout
    last, since = -1, time.time()
    while time.time() < end:
        with Receiver.lock:
            n = sum(Receiver.requests.values())
        if n != last:
            last, since = n, time.time()
        elif time.time() - since >= 3:
            return
        time.sleep(0.2)


def outbox(db):
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT kind, state, COUNT(*) FROM notifications GROUP BY 1, 2")
        return {f"{k}/{s}": n for k, s, n in rows}
    finally:
        conn.close()


def main():
    os.makedirs(b.OUT, exist_ok=True)
    os.makedirs(b.WORK, exist_ok=True)
    gen = tempfile.mkdtemp(prefix="tocsin-storm-")
    subprocess.run([b.TOCSIN_BIN, "simulate", "write", "--profile", PROFILE, "--seed", SEED,
                    "--out", gen], check=True, stdout=subprocess.DEVNULL)
    parts, n_events = shards(os.path.join(gen, "events.jsonl"))
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    b.wait_quiet()
    s = start(receiver.server_address[1], os.path.join(gen, "topology.json"))
    try:
        t0 = time.perf_counter()
        secs, statuses = push(s.base, parts)
        applied, progress = b.wait_engine(s.base)
        total = time.perf_counter() - t0
        settle_notifications()
        m = b.metrics(s.base)
        auth = {"Authorization": f"Bearer {b.TOKEN}"}
        storms = json.loads(b.request(s.base, "GET", "/api/v1/storms", headers=auth)[1])["items"]
        rss = b.proc_status(s.pid)
        # The outbox is read from the store once the server has stopped (it has no API of
        # its own); stop() then removes the data unless KEEP_DATA=1.
        s.proc.terminate()
        s.proc.wait(timeout=30)
        box = outbox(os.path.join(s.data_dir, "data", "tocsin.db"))
    finally:
        s.stop()
        receiver.shutdown()
        if not b.KEEP_DATA:
            import shutil
            shutil.rmtree(gen, ignore_errors=True)
    refused = {k: v for k, v in statuses.items() if not 200 <= int(k) < 300}
    incidents = sum(v for k, v in m.items() if k.startswith("tocsin_incidents{"))
    result = {
        "profile": PROFILE, "seed": SEED, "extra_config": EXTRA_CONFIG, "events": n_events,
        "clients": CLIENTS,
        "refused": refused, "intake_seconds": round(secs, 2),
        "events_per_s": round(n_events / secs), "applied_seconds": round(total, 2),
        "applied_events_per_s": round(n_events / total) if applied is not None else None,
        "peak_rss_mb": round(rss["VmHWM"] / 1024, 1), "alerts": int(m.get("tocsin_alerts", 0)),
        "incidents": int(incidents),
        "storms": [{k: x[k] for k in ("id", "scope", "service", "alerts", "incidents",
                                      "summaries", "peak_rate", "baseline_rate")}
                   for x in reversed(storms)],
        "webhook_requests": dict(Receiver.requests),
        "webhook_incidents": dict(Receiver.incidents), "outbox": box,
        "applied_lsn": progress["applied_lsn"], "machine": b.machine_info(),
    }
    with open(os.path.join(b.OUT, f"storm-{b.STAMP}.json"), "w") as f:
        json.dump(result, f, indent=1)
    config_text = EXTRA_CONFIG.replace("\n", "; ") or "default config"
    print(f"Storm bench: tocsin simulate {PROFILE} seed {SEED}, {config_text}, {n_events} "
          f"events over {CLIENTS} clients ({refused or 'none'} refused)\n"
          f"intake {result['events_per_s']} events/s ({secs:.2f} s); all applied after "
          f"{total:.2f} s ({result['applied_events_per_s']} events/s); peak RSS "
          f"{result['peak_rss_mb']} MB\n"
          f"{result['alerts']} alerts, {result['incidents']} incidents, {len(storms)} storms "
          f"detected: " + ", ".join(f"{x['scope']} {x['service'] or ''} ({x['alerts']} alerts, "
                                    f"{x['incidents']} incidents, {x['summaries']} summaries)"
                                    for x in result["storms"]) + "\n"
          f"webhook requests by kind {result['webhook_requests']} naming incidents "
          f"{result['webhook_incidents']}; outbox {box}")


if __name__ == "__main__":
    main()
