#!/usr/bin/env bash
# Page speed of the web console over a big store: time to first byte of the board and of a
# filtered alerts page with 100,000 alerts in about 10,000 incidents (the target: under
# 200 ms each).
#
#   bash bench/console.sh
#   RUNS=50 bash bench/console.sh
#   SKIP_BUILD=1 TOCSIN_BIN=target/release/tocsin bash bench/console.sh
#
# Builds tocsin in release mode, starts `tocsin serve` on a temporary data directory and a
# free loopback port, seeds ALERTS alerts through POST /api/v1/events: 50 catalog services
# times 200 alert names, so the default grouping (same service and name) opens 10,000
# incidents of 10 alerts each; a fifth of the summaries are Chinese, two in each incident.
# Once the engine has applied everything, requests each URL of URLS once cold and then RUNS
# times with curl, and prints per URL the cold request's time to first byte and the median,
# 95th percentile and maximum of the others, in milliseconds. The text filters match one
# alert in five (disk), one in 200 (DiskFull195: a long walk for a page) and Chinese text
# (磁盘). Stops the server and removes its data at the end.
#
# Knobs (environment): ALERTS=100000 RUNS=20 TOCSIN_BIN SKIP_BUILD=1 KEEP_DATA=1
#   CARGO_TARGET_DIR=/work/target-bench (where the release build goes, as bench/run.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

# What is measured. Paths under /ui/ are console pages and are requested with a session
# cookie (see console_cookie); the others are the JSON API, requested with the admin token.
URLS=(
  "/ui/incidents"
  "/ui/incidents?service=svc-7"
  "/ui/incidents?q=DiskFull195&fragment=1"
  "/ui/incidents/5000"
  "/ui/alerts"
  "/ui/alerts?service=svc-7"
  "/ui/alerts?q=disk"
  "/ui/alerts?q=%E7%A3%81%E7%9B%98"
  "/api/v1/incidents?state=triggered&limit=50"
  "/api/v1/incidents?limit=50"
  "/api/v1/alerts?service=svc-7&limit=50"
  "/api/v1/alerts?q=disk&limit=50"
  "/api/v1/alerts?q=DiskFull195&limit=50"
  "/api/v1/alerts?q=%E7%A3%81%E7%9B%98&limit=50"
)
ALERTS=${ALERTS:-100000}
RUNS=${RUNS:-20}
TOKEN=bench-console-admin-token-0123456789

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target-bench}"
BIN=${TOCSIN_BIN:-$CARGO_TARGET_DIR/release/tocsin}
[ -n "${SKIP_BUILD:-}" ] || cargo build --release --locked -q -p tocsin

work=$(mktemp -d)
pid=""
stop() {
  [ -z "$pid" ] || { kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; } || true
  if [ -n "${KEEP_DATA:-}" ]; then echo "bench: data kept in $work" >&2; else rm -rf "$work"; fi
}
trap stop EXIT

# The catalog: without it every service named by an event would fall to the default one.
{
  echo "services:"
  for s in $(seq 0 49); do echo "  - {id: svc-$s}"; done
} >"$work/config.yaml"
TOCSIN_ADMIN_TOKEN=$TOKEN TOCSIN_LOG=warn "$BIN" serve --data "$work/data" \
  --config "$work/config.yaml" --listen 127.0.0.1:0 >"$work/stdout" 2>"$work/stderr" &
pid=$!
for _ in $(seq 100); do
  base=$(sed -n 's/^tocsin listening on //p' "$work/stdout")
  [ -n "$base" ] && break
  sleep 0.1
done
[ -n "$base" ] || { echo "bench: tocsin did not start:" >&2; cat "$work/stderr" >&2; exit 1; }

# Batches of 10,000 events, the default most per request (intake.max_events_per_request),
# about 2.5 MB each, under the 5 MiB body limit.
python3 - "$ALERTS" "$work" <<'EOF'
import json, sys

alerts, work = int(sys.argv[1]), sys.argv[2]
kinds = [("DiskFull", "disk almost full on {}", "{} 磁盘空间不足"),
         ("HighLatency", "p99 latency above 500ms on {}", "{} 延迟过高"),
         ("CpuHigh", "CPU above 90% on {}", "{} CPU 使用率过高"),
         ("MemoryHigh", "memory above 90% on {}", "{} 内存不足"),
         ("ServiceDown", "service not answering on {}", "{} 服务无响应")]
batch = []
for i in range(alerts):
    group = i % 10_000                      # (service, name): 50 x 200 groups
    service, n = f"svc-{group % 50}", group // 50
    kind, en, zh = kinds[n % len(kinds)]
    host = f"{service}-host-{i // 10_000}"
    batch.append({
        "summary": (zh if (group + i // 10_000) % 5 == 0 else en).format(host),
        "severity": ("critical", "high", "warning", "info")[i % 4],
        "service": service,
        "dedup_key": f"a{i}",
        "labels": {"alertname": f"{kind}{n}", "host": host},
    })
    if len(batch) == 10_000 or i == alerts - 1:
        with open(f"{work}/batch-{i // 10_000:03}.json", "w") as f:
            json.dump(batch, f, ensure_ascii=False)
        batch = []
EOF
auth=(-H "Authorization: Bearer $TOKEN")
t0=$(date +%s%N)
for f in "$work"/batch-*.json; do
  curl -sS --fail-with-body -o /dev/null "${auth[@]}" -H 'Content-Type: application/json' \
    --data-binary @"$f" "$base/api/v1/events"
done
t1=$(date +%s%N)

# Intake answers once events are durable; the engine applies them a moment later.
metric() { curl -sS "${auth[@]}" "$base/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
caught_up() { awk -v a="$(metric tocsin_engine_applied_lsn)" -v l="$(metric tocsin_log_lsn)" \
  'BEGIN { exit !(a + 0 >= l + 0) }'; }
for _ in $(seq 1200); do caught_up && break; sleep 0.5; done
caught_up || { echo "bench: the engine did not catch up in 10 minutes" >&2; exit 1; }
t2=$(date +%s%N)
echo "seeded $(metric tocsin_alerts) alerts, $(metric 'tocsin_incidents{state="triggered"}')" \
  "incidents triggered: intake $(((t1 - t0) / 1000000)) ms, applied $(((t2 - t1) / 1000000)) ms after"

# The console's pages need a session: make an account through the API and sign in once.
console_cookie() {
  curl -sS -o /dev/null "${auth[@]}" -H 'Content-Type: application/json' \
    -d '{"id": "bench", "role": "viewer", "password": "bench-password-1"}' "$base/api/v1/logins"
  curl -sS -o /dev/null -c "$work/cookies" --data-urlencode "username=bench" \
    --data-urlencode "password=bench-password-1" "$base/ui/login"
  # A cookie line has seven tab-separated fields (an HttpOnly one starts with #HttpOnly_).
  awk -F'\t' 'NF == 7 { n++ } END { exit !n }' "$work/cookies" \
    || { echo "bench: /ui/login set no cookie" >&2; exit 1; }
}
for u in "${URLS[@]}"; do
  if [[ $u == /ui/* ]]; then console_cookie && break; fi
done

printf "\n%-46s %8s %8s %8s %8s  (ms to first byte; %s runs after the cold one)\n" \
  url cold median p95 max "$RUNS"
for u in "${URLS[@]}"; do
  if [[ $u == /ui/* ]]; then how=(-b "$work/cookies"); else how=("${auth[@]}"); fi
  times=$(for _ in $(seq $((RUNS + 1))); do
    curl -sS -o /dev/null -w '%{http_code} %{time_starttransfer}\n' "${how[@]}" "$base$u"
  done)
  if grep -qv '^200 ' <<<"$times"; then
    echo "bench: $u answered $(grep -v '^200 ' <<<"$times" | head -1 | cut -d' ' -f1)" >&2
    exit 1
  fi
  cold=$(head -1 <<<"$times" | awk '{ print $2 * 1000 }')
  tail -n +2 <<<"$times" | awk '{ print $2 * 1000 }' | sort -n | awk -v u="$u" -v cold="$cold" '
    { t[NR] = $1 }
    END {
      p95 = int(0.95 * NR + 0.999)  # nearest rank
      median = (t[int((NR + 1) / 2)] + t[int(NR / 2) + 1]) / 2
      printf "%-46s %8.1f %8.1f %8.1f %8.1f\n", u, cold, median, t[p95], t[NR]
    }'
done
