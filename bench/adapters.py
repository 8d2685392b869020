#!/usr/bin/env python3
"""Intake speed through each inbound adapter, against tocsin's core intake, in one run.

Run through bench/run.sh with PHASES=adapters (which builds tocsin in release mode):

  PHASES=adapters bash bench/run.sh

For every integration kind, wrk sends that tool's own wire format (bench/adapters.lua) to a
fresh tocsin instance whose config declares one integration of each kind: tools that send
one alert per request (Zabbix, Nagios, Open-Falcon, PagerDuty) one per request, the others
ADAPTER_BATCH alerts per request. The core intake, `POST /api/v2/alerts` with the same
number of alerts per request, is measured in the same run, interleaved, as the baseline;
the ratio is alerts/s through the adapter over alerts/s through the core intake.

Knobs (environment): DURATION=10s THREADS=2 ADAPTER_CONNS=8 ADAPTER_BATCH=100 REPEAT=3
KINDS="..." (default: all) TOCSIN_BIN OUT=bench/out
"""

import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench as b  # noqa: E402  (shares the machine helpers and knobs)

CONNS = int(b.env("ADAPTER_CONNS", "8"))
BATCH = int(b.env("ADAPTER_BATCH", "100"))
# One alert per request: what these tools send.
SINGLE = {"zabbix", "nagios", "open-falcon", "pagerduty"}
ALL_KINDS = ["tocsin", "alertmanager-webhook", "grafana", "nightingale", "cloudevents",
             "webhook", "zabbix", "nagios", "open-falcon", "pagerduty"]
KINDS = b.env("KINDS", " ".join(ALL_KINDS)).split()


def key(kind):
    return f"bench-{kind}-0123456789abcdef"


def config():
    lines = ["integrations:"]
    for kind in ALL_KINDS + ["alertmanager"]:
        lines.append(f"  - name: bench-{kind}")
        lines.append(f"    kind: {kind}")
        lines.append(f"    key: {key(kind)}")
        # The benchmark measures intake, not the rate limit.
        lines.append("    rate_limit: {per_second: 1000000000, burst: 1000000000}")
        if kind == "webhook":
            lines.append('    mapping: {summary: "{{ title }}", dedup_key: "{{ id }}", '
                         'severity: "{{ level }}", host: "{{ host }}"}')
    return "\n".join(lines) + "\n"


def start():
    return b.start_tocsin("adapters", config())


def path_of(kind):
    if kind == "pagerduty":
        return "/v2/enqueue"
    if kind == "alertmanager":
        return "/api/v2/alerts"
    return f"/hooks/{key(kind)}"


def wrk(server, kind, batch, tag):
    lua = os.path.join(HERE, "adapters.lua")
    cmd = ["wrk", f"-t{b.THREADS}", f"-c{CONNS}", f"-d{b.DURATION}", "--timeout", "30s",
           "--latency", "-s", lua, server.base]
    e = dict(os.environ, KIND=kind, PATH_=path_of(kind), BATCH=str(batch), KEY=key(kind))
    if kind == "alertmanager":
        # The core intake, sent as the integration so the two differ only in the adapter.
        e["KIND"] = "alertmanager"
    cpu0 = b.cpu_snapshot(server.pid)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=e, capture_output=True, text=True)
    secs = time.perf_counter() - t0
    cpu = b.cpu_delta(cpu0, b.cpu_snapshot(server.pid), secs)
    with open(os.path.join(b.RAW, f"adapters-{tag}.txt"), "w") as f:
        f.write(" ".join(cmd) + f"\nKIND={kind} BATCH={batch}\n\n" + r.stdout + r.stderr)
    line = [x for x in r.stdout.splitlines() if x.startswith("BENCH_JSON ")]
    if r.returncode != 0 or not line:
        raise RuntimeError(f"wrk failed ({r.returncode}): {r.stdout}\n{r.stderr}")
    w = json.loads(line[0][len("BENCH_JSON "):])
    dur = w["duration_us"] / 1e6
    ok = w["requests"] - w["errors"]["status"]
    return {
        "kind": kind, "batch": batch, "conns": CONNS, "requests": w["requests"],
        "errors": w["errors"], "alerts_per_s": round(ok * batch / dur, 1),
        "requests_per_s": round(ok / dur, 1),
        "p50_ms": w["latency_us"]["p"]["50"] / 1000, "p99_ms": w["latency_us"]["p"]["99"] / 1000,
        "server_cores": cpu["total_cores"],
    }


def check_one(server, kind, batch):
    """One request by hand first: a payload the adapter refuses would measure only 400s."""
    e = dict(os.environ, KIND=kind, PATH_=path_of(kind), BATCH=str(batch), KEY=key(kind))
    r = subprocess.run(["wrk", "-t1", "-c1", "-d1s", "-s", os.path.join(HERE, "adapters.lua"),
                        server.base], env=e, capture_output=True, text=True)
    line = [x for x in r.stdout.splitlines() if x.startswith("BENCH_JSON ")]
    w = json.loads(line[0][len("BENCH_JSON "):]) if line else None
    if not w or w["errors"]["status"] or w["requests"] == 0:
        raise RuntimeError(f"{kind}: the adapter refuses the benchmark's payload: {r.stdout}{r.stderr}")


def measured(kind, batch, tag):
    b.wait_quiet()
    s = start()
    try:
        check_one(s, kind, batch)
        return wrk(s, kind, batch, tag)
    finally:
        s.stop()


def main():
    os.makedirs(b.RAW, exist_ok=True)
    os.makedirs(b.WORK, exist_ok=True)
    runs, failed = [], {}
    for rep in range(b.REPEAT):
        for kind in KINDS:
            batch = 1 if kind in SINGLE else BATCH
            pair = [kind, "alertmanager"] if rep % 2 == 0 else ["alertmanager", kind]
            for k in pair:
                tag = f"{k}-for-{kind}-b{batch}-r{rep + 1}"
                if kind in failed:
                    continue
                try:
                    r = measured(k, batch, tag)
                except RuntimeError as e:
                    failed[kind] = str(e)
                    b.log(f"  {tag}: {e}")
                    continue
                r["for"], r["repeat"] = kind, rep + 1
                runs.append(r)
                b.log(f"  {tag}: {r['alerts_per_s']:>10.0f} alerts/s  p50 {r['p50_ms']:.2f} ms"
                      f"  p99 {r['p99_ms']:.2f} ms  errors {r['errors']}")
    rows = []
    for kind in KINDS:
        if kind in failed:
            rows.append(f"| {kind} | – | – | – | – | failed: {failed[kind][:80]} |")
            continue
        mine = [r for r in runs if r["kind"] == kind and r["for"] == kind]
        base = [r for r in runs if r["kind"] == "alertmanager" and r["for"] == kind]
        if not mine or not base:
            continue
        a = statistics.median(r["alerts_per_s"] for r in mine)
        c = statistics.median(r["alerts_per_s"] for r in base)
        p50 = statistics.median(r["p50_ms"] for r in mine)
        rows.append(f"| {kind} | {mine[0]['batch']} | {a:,.0f} | {c:,.0f} | {a / c:.2f} | p50 {p50:.2f} ms |")
    text = (f"Intake through each adapter vs the core intake (POST /api/v2/alerts, same alerts per "
            f"request), wrk -t{b.THREADS} -c{CONNS} -d{b.DURATION}, medians of {b.REPEAT}, fresh "
            f"instance per run\n\n| adapter | alerts/request | adapter alerts/s | core alerts/s | "
            f"ratio | latency |\n|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
    os.makedirs(b.OUT, exist_ok=True)
    with open(os.path.join(b.OUT, f"adapters-{b.STAMP}.json"), "w") as f:
        json.dump({"runs": runs, "failed": failed, "machine": b.machine_info()}, f, indent=1)
    with open(os.path.join(b.OUT, f"adapters-{b.STAMP}.md"), "w") as f:
        f.write(text)
    print(text)
    if not b.KEEP_DATA:
        import shutil
        shutil.rmtree(b.WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
