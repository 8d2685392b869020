#!/usr/bin/env bash
# Memory of correlation over a long replay: peak RSS of `tocsin replay` on the `tocsin
# simulate` `large` stream (72 h) and on that stream played COPIES times back to back (times shifted,
# Zabbix and Nagios problem ids renumbered: 3 copies = 9 days), then the learner's sizes
# against MAX_KINDS and MAX_PAIRS over ten days of firings with new kinds all the time
# (`cargo bench -p tocsin-core --bench correlation`, memory part).
#
#   bash bench/correlation_memory.sh
#   SEED=2 COPIES=5 bash bench/correlation_memory.sh
#   SKIP_BUILD=1 TOCSIN_BIN=target/release/tocsin bash bench/correlation_memory.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SEED=${SEED:-1}
COPIES=${COPIES:-3}
BIN=${TOCSIN_BIN:-"${CARGO_TARGET_DIR:-target}"/release/tocsin}
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -q -p tocsin
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$BIN" simulate write --profile large --seed "$SEED" --out "$work/one" >/dev/null
python3 - "$work/one/events.jsonl" "$work/long.jsonl" "$COPIES" <<'EOF'
import json, sys
from datetime import datetime, timedelta, timezone

src, dst, copies = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = [json.loads(l) for l in open(src)]
iso = lambda s: datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
first, last = iso(lines[0]["at"]), iso(lines[-1]["at"])
span = (last - first) + timedelta(hours=1)

def shift_iso(s, d):
    return (iso(s) + d).strftime("%Y-%m-%dT%H:%M:%SZ")

def shift_fmt(s, d, fmt):
    if not s:
        return s
    return (datetime.strptime(s, fmt) + d).strftime(fmt)

seq = 0
with open(dst, "w") as out:
    for c in range(copies):
        d = span * c
        for e in lines:
            e = json.loads(json.dumps(e))
            seq += 1
            e["seq"] = seq
            e["at"] = shift_iso(e["at"], d)
            p = e["payload"]
            if e["integration"] == "prometheus":
                for a in p:
                    for k in ("startsAt", "endsAt"):
                        if a.get(k):
                            a[k] = shift_iso(a[k].replace(".000", ""), d)
            elif e["integration"] == "zabbix":
                p["event_id"] = str(int(p["event_id"]) + c * 100_000_000)
                for k in ("event_timestamp", "event_recovery_timestamp"):
                    if p.get(k):
                        p[k] = str(int(p[k]) + int(d.total_seconds()))
            elif e["integration"] == "nagios":
                for k in ("SERVICEPROBLEMID", "LASTSERVICEPROBLEMID",
                          "HOSTPROBLEMID", "LASTHOSTPROBLEMID"):
                    if p.get(k) not in (None, "", "0"):
                        p[k] = str(int(p[k]) + c * 100_000_000)
                if p.get("TIMET"):
                    p["TIMET"] = str(int(p["TIMET"]) + int(d.total_seconds()))
            elif e["integration"] == "open-falcon":
                if p.get("time"):
                    p["time"] = shift_fmt(p["time"], d, "%Y-%m-%d %H:%M:%S")
            out.write(json.dumps(e, ensure_ascii=False) + "\n")
EOF

printf 'correlation: {enabled: false}\n' >"$work/off.yaml"
run() { # name events [config]
  /usr/bin/time -v "$BIN" replay --events "$2" --topology "$work/one/topology.json" ${3:+-c "$3"} \
    --out "$work/$1.assign" >"$work/$1.summary" 2>"$work/$1.time"
  local rss wall events hours
  rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$work/$1.time")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' "$work/$1.time")
  events=$(wc -l <"$2")
  hours=$(python3 -c "import json,sys
from datetime import datetime as D
f=lambda l: D.strptime(json.loads(l)['at'],'%Y-%m-%dT%H:%M:%SZ')
ls=open(sys.argv[1]).readlines(); print(round((f(ls[-1])-f(ls[0])).total_seconds()/3600))" "$2")
  printf "%-22s %9s %6s h %12s MiB %10s   %s\n" "$1" "$events" "$hours" "$rss" "$wall" \
    "$(head -c 150 "$work/$1.summary" | tr '\n' ' ')"
}
printf "%-22s %9s %8s %16s %10s   %s\n" stream events span "peak RSS" wall "replay summary"
run "large-$SEED" "$work/one/events.jsonl"
run "large-$SEED x$COPIES" "$work/long.jsonl"
# The same without correlation: what of the growth is correlation's.
run "large-$SEED corr. off" "$work/one/events.jsonl" "$work/off.yaml"
run "large-$SEED x$COPIES corr. off" "$work/long.jsonl" "$work/off.yaml"

CORRELATION_BENCH=memory cargo bench -q -p tocsin-core --bench correlation 2>/dev/null
