#!/usr/bin/env bash
# Grouping quality of `tocsin replay` (rules and topology alone) on `tocsin simulate`
# streams, scored by `replay --truth` beside its baseline (grouping by alert name and
# service within five minutes). Prints one line per stream and the means.
#
#   bash bench/quality.sh                       # mixed and storm, seeds 1-5
#   PROFILES="large" SEEDS="1 2" bash bench/quality.sh
#   VOCABULARY=bench/vocabularies/heldout-zh.json SEEDS="1 2 3" bash bench/quality.sh
#   CONFIG=my.yaml bash bench/quality.sh        # replay against your own config
#   SKIP_BUILD=1 TOCSIN_BIN=target/debug/tocsin bash bench/quality.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILES=${PROFILES:-"mixed storm"}
SEEDS=${SEEDS:-"1 2 3 4 5"}
BIN=${TOCSIN_BIN:-"${CARGO_TARGET_DIR:-target}"/release/tocsin}
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -q -p tocsin
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf "%-14s %8s %8s %10s %10s %9s\n" stream B3-F1 refire incidents true groupby
for p in $PROFILES; do
  for s in $SEEDS; do
    d="$work/$p-$s"
    "$BIN" simulate write --profile "$p" --seed "$s" --out "$d" \
      ${VOCABULARY:+--vocabulary "$VOCABULARY"} >/dev/null
    "$BIN" replay --events "$d/events.jsonl" --topology "$d/topology.json" \
      ${CONFIG:+--config "$CONFIG"} --out "$d/assign.jsonl" --truth "$d/truth.jsonl" |
      awk -v name="$p-$s" '
        # scored against …: N alerts in T true incidents
        /^scored against / { tru = $(NF - 2) }
        # "  tocsin: B-cubed precision P, recall R, F1 F; re-fires kept K; I incidents"
        /^  tocsin:/ { f1 = $8; refire = $11; inc = $12; sub(/;/, "", f1); sub(/;/, "", refire) }
        /^  by name and service/ { gb = $13; sub(/;/, "", gb) }
        END { printf "%-14s %8s %8s %10s %10s %9s\n", name, f1, refire, inc, tru, gb }'
  done
done | tee "$work/table.txt"
awk '{ f += $2; g += $6; n++ } END { printf "%-14s %8.3f %8s %10s %10s %9.3f\n", "mean", f / n, "", "", "", g / n }' "$work/table.txt"
