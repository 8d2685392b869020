#!/usr/bin/env python3
"""Instructions per alert on the intake path, counted by callgrind instead of timed.

On a shared machine a wall-clock run says more about the neighbours than about tocsin; an
instruction count is repeatable to a fraction of a percent. This starts `tocsin serve` under
`valgrind --tool=callgrind --separate-threads=yes`, sends WARMUP requests, zeroes the
counters, sends REQUESTS requests of BATCH alerts each to `POST /api/v2/alerts` (the alerts
of bench/alerts.lua, one keep-alive connection, one request at a time), dumps the counters
and prints the instructions of each thread, per alert.

The engine thread (it applies the log to SQLite after the answer, at its own pace) is shown
but left out of the intake figure: how much of its backlog it gets through during the window
depends on timing, not on the intake path.

    python3 bench/instructions.py [TOCSIN_BIN]

Environment: BATCH=100 REQUESTS=200 WARMUP=30 OUT=/tmp/tocsin-callgrind
"""

import glob
import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

BATCH = int(os.environ.get("BATCH", "100"))
REQUESTS = int(os.environ.get("REQUESTS", "200"))
WARMUP = int(os.environ.get("WARMUP", "30"))
OUT = os.environ.get("OUT", "/tmp/tocsin-callgrind")
SEVERITIES = ["critical", "warning", "high", "info"]


def alert(n):
    """The same alert as bench/alerts.lua's `alert(n)`."""
    return (
        '{"labels":{"alertname":"BenchCheck%d","service":"svc-%d","instance":"node-%d.bench:9100",'
        '"severity":"%s"},"annotations":{"summary":"bench check %d failing on node-%d"},'
        '"generatorURL":"http://prometheus.bench:9090/graph?g0.expr=bench_up%%3D%%3D0"}'
        % (n % 25, n % 50, n, SEVERITIES[n % 4], n % 25, n)
    )


def body(req):
    base = req * BATCH
    return ("[" + ",".join(alert(base + i + 1) for i in range(BATCH)) + "]").encode()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, proc, timeout=300):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/-/ready")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("server not ready")


def send(conn, bodies):
    for b in bodies:
        conn.request("POST", "/api/v2/alerts", body=b, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            raise RuntimeError(f"status {r.status}")


def thread_costs(prefix):
    """{file: (instructions, is_engine)} of the dump's per-thread files."""
    out = {}
    for f in sorted(glob.glob(prefix + "*")):
        total, engine = None, False
        with open(f) as fh:
            for line in fh:
                if line.startswith("summary:") or line.startswith("totals:"):
                    total = int(line.split()[1])
                elif line.startswith("fn=tocsin_engine::"):
                    engine = True
        if total:
            out[f] = (total, engine)
    return out


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/tocsin"
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    data = tempfile.mkdtemp(prefix="tocsin-instr-")
    port = free_port()
    out_file = os.path.join(OUT, "cg.%p")
    cmd = [
        "valgrind", "--tool=callgrind", "--separate-threads=yes",
        "--compress-strings=no", "--compress-pos=no",
        f"--callgrind-out-file={out_file}",
        binary, "serve", "--data", os.path.join(data, "d"), "--listen", f"127.0.0.1:{port}",
    ]
    env = dict(os.environ, TOCSIN_LOG="warn")
    log = open(os.path.join(OUT, "server.log"), "w")
    p = subprocess.Popen(cmd, stdout=log, stderr=log, env=env, stdin=subprocess.DEVNULL)
    try:
        wait_ready(port, p)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        send(conn, [body(i) for i in range(WARMUP)])
        bodies = [body(WARMUP + i) for i in range(REQUESTS)]
        subprocess.run(["callgrind_control", "-z", str(p.pid)], check=True, capture_output=True)
        send(conn, bodies)
        subprocess.run(["callgrind_control", "-d", "measured", str(p.pid)], check=True,
                       capture_output=True)
        conn.close()
    finally:
        p.terminate()
        p.wait()
        shutil.rmtree(data, ignore_errors=True)
    alerts = REQUESTS * BATCH
    costs = thread_costs(os.path.join(OUT, f"cg.{p.pid}.1"))
    intake = 0
    for f, (total, engine) in costs.items():
        if not engine:
            intake += total
        tag = "engine, left out" if engine else "intake"
        print(f"{os.path.basename(f):24} {total / alerts:10.0f} instructions/alert ({tag})")
    print(f"intake: {intake / alerts:.0f} instructions/alert over {alerts} alerts "
          f"({REQUESTS} requests of {BATCH})")


if __name__ == "__main__":
    main()
