#!/usr/bin/env bash
# Grouping quality of `tocsin replay` (rules and topology alone) on stormsim streams, scored
# by `stormsim.py score`, beside its two baselines. Prints one line per stream and the means.
#
#   bash bench/quality.sh                       # mixed and storm, seeds 1-5
#   PROFILES="large" SEEDS="1 2" bash bench/quality.sh
#   CATALOG=bench/catalogs/heldout-zh.json SEEDS="1 2 3" bash bench/quality.sh
#   CONFIG=my.yaml bash bench/quality.sh        # replay against your own config
set -euo pipefail
cd "$(dirname "$0")/.."
SCEN=${TOCSIN_SCENARIOS:-../shared/scenarios}
PROFILES=${PROFILES:-"mixed storm"}
SEEDS=${SEEDS:-"1 2 3 4 5"}
cargo build --release -q -p tocsin
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf "%-14s %8s %8s %10s %10s %9s %8s\n" stream B3-F1 refire incidents true groupby window
for p in $PROFILES; do
  for s in $SEEDS; do
    d="$work/$p-$s"
    python3 "$SCEN/stormsim.py" generate --profile "$p" --seed "$s" --out "$d" \
      ${CATALOG:+--catalog "$CATALOG"} >/dev/null
    "${CARGO_TARGET_DIR:-target}"/release/tocsin replay --events "$d/events.jsonl" --topology "$d/topology.json" \
      ${CONFIG:+--config "$CONFIG"} --out "$d/assign.jsonl" >"$d/summary.txt"
    python3 "$SCEN/stormsim.py" score --truth "$d/truth.jsonl" --assign "$d/assign.jsonl" |
      awk -v name="$p-$s" '
        { split($4, b, "/") }
        /^system/ { f1 = b[3]; refire = $9; inc = $11; tru = $13; sub(/\)/, "", tru) }
        /^baseline_groupby/ { gb = b[3] }
        /^baseline_window/ { w = b[3] }
        END { printf "%-14s %8s %8s %10s %10s %9s %8s\n", name, f1, refire, inc, tru, gb, w }'
  done
done | tee "$work/table.txt"
awk 'NR > 0 { f += $2; g += $6; w += $7; n++ } END { printf "%-14s %8.3f %8s %10s %10s %9.3f %8.3f\n", "mean", f / n, "", "", "", g / n, w / n }' "$work/table.txt"
