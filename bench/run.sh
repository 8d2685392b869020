#!/usr/bin/env bash
# tocsin's benchmark against Prometheus Alertmanager 0.25, in one run on this machine:
#
#   bash bench/run.sh
#
# Installs what is missing (wrk, prometheus-alertmanager, python3; as root, Debian), builds
# tocsin in release mode, then runs bench/bench.py: wrk throughput at BATCH=100 and BATCH=1 on
# 8 and 64 connections, memory holding 300,000 alerts, the filtered first page over them, and
# a perf profile of tocsin under load. Prints a side-by-side table; writes
# bench/out/results-<stamp>.json (and latest.json, summary-<stamp>.md, raw output).
#
# Knobs (environment), with defaults:
#   DURATION=10s THREADS=2 CONNS="8 64" BATCHES="100 1" REPEAT=3
#   MEM_ALERTS=300000 MEM_BATCH=100 LOAD_CONC=8 QUERY_RUNS=5 QUERY_RUNS_AM=3 QUERY_RUNS_RARE_AM=1
#   AM_RECEIVER=webhook (or null: Alertmanager notifies nobody)
#   PHASES="throughput memory profile" SERVERS="tocsin am"
#   QUIET_CORES=0.3 QUIET_MAX=60 RETRIES=2: before each run wait (at most QUIET_MAX s) until
#     other processes use < QUIET_CORES cores; rerun a run they disturbed (keep the least
#     disturbed attempt). PERF_FREQ=199 (profile sampling rate).
#   TOCSIN_REV=<commit> (build that commit, not the working tree), SKIP_BUILD=1,
#   CARGO_TARGET_DIR=/work/target-bench (where the release build goes),
#   TOCSIN_BIN, AM_BIN, AM_PORT=19193, SINK_PORT=19194, OUT=bench/out, KEEP_DATA=1
# Quick smoke run: DURATION=3s REPEAT=1 MEM_ALERTS=20000 bash bench/run.sh
# Intake through each inbound adapter against the core intake (bench/adapters.py):
#   PHASES=adapters bash bench/run.sh   (knobs ADAPTER_CONNS=8 ADAPTER_BATCH=100 KINDS="...")
# Paging latency, committed event to the channel's request under background load:
#   PHASES=paging bash bench/run.sh     (knobs BG_RATE=5000 SAMPLES=300)
# An alert storm (`tocsin simulate`'s storm profile) through the real endpoints at full speed
# (bench/storm.py): PHASES=storm bash bench/run.sh   (knobs SEED=1 PROFILE=storm CLIENTS=8)
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v prometheus-alertmanager >/dev/null || [ -n "${AM_BIN:-}" ] || need+=(prometheus-alertmanager)
command -v python3 >/dev/null || need+=(python3)
command -v findmnt >/dev/null || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "bench: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 \
      || { apt-get update -qq && apt-get install -y -qq "${need[@]}"; }
  else
    echo "bench: missing ${need[*]}; install them (sudo apt-get install ${need[*]}) or run as root" >&2
    exit 1
  fi
fi
# The Debian package may start a system Alertmanager on :9093; ours runs on its own port and
# storage, so it does not matter, but it does take CPU: say so.
if pgrep -x prometheus-alertmanager >/dev/null 2>&1 || pgrep -x alertmanager >/dev/null 2>&1; then
  echo "bench: note: an Alertmanager is already running on this machine (it competes for CPU)" >&2
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target-bench}"
src=.
if [ -n "${TOCSIN_REV:-}" ]; then
  # Build a committed revision, untouched by uncommitted edits in the working tree.
  sha=$(git rev-parse --verify "${TOCSIN_REV}^{commit}")
  src="$CARGO_TARGET_DIR/bench-src/${sha:0:12}"  # outside the repo, so no tool sees a second copy
  if [ ! -f "$src/Cargo.toml" ]; then
    rm -rf "$src" && mkdir -p "$src"
    git archive "$sha" | tar -x -C "$src"
  fi
  export TOCSIN_SOURCE="git ${sha:0:12}"
else
  export TOCSIN_SOURCE="working tree $(git describe --always --dirty 2>/dev/null || echo '?')"
fi
if [ "${SKIP_BUILD:-0}" != 1 ] && [ -z "${TOCSIN_BIN:-}" ]; then
  echo "bench: building tocsin (release) from $TOCSIN_SOURCE in $CARGO_TARGET_DIR" >&2
  # Cargo decides freshness by file times, not by where the sources are: when this target dir
  # last built another tree, clean the workspace's own crates so they are built from this one.
  here=$(cd "$src" && pwd)
  stamp="$CARGO_TARGET_DIR/bench-last-source"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" != "$here" ]; then
    pkgs=$(cd "$src" && cargo metadata --no-deps --format-version 1 \
      | python3 -c 'import json,sys; print(" ".join("-p " + p["name"] for p in json.load(sys.stdin)["packages"]))')
    (cd "$src" && cargo clean --release $pkgs >&2)
  fi
  (cd "$src" && cargo build --release --locked -p tocsin >&2)
  mkdir -p "$CARGO_TARGET_DIR" && echo "$here" > "$stamp"
fi
export TOCSIN_BIN="${TOCSIN_BIN:-$CARGO_TARGET_DIR/release/tocsin}"

if [ "${PHASES:-}" = adapters ]; then
  exec python3 bench/adapters.py
fi
if [ "${PHASES:-}" = paging ]; then
  exec python3 bench/paging.py
fi
if [ "${PHASES:-}" = storm ]; then
  exec python3 bench/storm.py
fi
exec python3 bench/bench.py
