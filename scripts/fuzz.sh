#!/usr/bin/env bash
# Fuzzes every intake adapter, the config loader and the silence matcher parser with
# cargo-fuzz (libFuzzer): builds once, then runs each target for SECONDS (default 60) from
# its seed corpus in fuzz/corpus/TARGET. Fails if any target crashed; the input
# that crashed it is kept in fuzz/artifacts/TARGET/ (replay it with
# `cargo fuzz run TARGET fuzz/artifacts/TARGET/crash-...`).
#
# The toolchain is stable: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its -Z flags. No
# sanitizer: the code is safe Rust, so the crashes worth finding are panics, overflows
# (debug assertions are on) and runaway memory, which libFuzzer catches by itself.
#
# Usage: scripts/fuzz.sh [SECONDS]; FUZZ_TARGET_DIR overrides where it builds.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:-60}"
# libFuzzer reads -max_total_time=0 as "no limit"; here 0 means no fuzzing.
if [ "$seconds" -le 0 ]; then
  echo "fuzz: skipped (0 s)"
  exit 0
fi
target_dir="${FUZZ_TARGET_DIR:-$PWD/target}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
export RUSTC_BOOTSTRAP=1
flags=(-s none --debug-assertions --target-dir "$target_dir")

started=$(date +%s)
cargo fuzz build "${flags[@]}"
echo "fuzz: built in $(($(date +%s) - started)) s"

# New inputs the fuzzer finds go to a scratch directory, so the corpus in the repository
# stays the few seeds it is.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# Each libFuzzer run uses one core: run FUZZ_JOBS of them at once (default: every core), so
# the time in CI is about targets x SECONDS / cores rather than targets x SECONDS.
jobs="${FUZZ_JOBS:-$(nproc)}"
targets=$(cargo fuzz list)

# One target: its log in $scratch/TARGET.log, "ok" or "failed" in $scratch/TARGET.status.
fuzz_one() {
  local target="$1"
  mkdir -p "$scratch/$target" "corpus/$target"
  # -rss_limit_mb: an input that makes a parser take half a gigabyte is a finding too.
  if cargo fuzz run "${flags[@]}" "$target" "$scratch/$target" "corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=512 -max_len=65536 -print_final_stats=1 \
    >"$scratch/$target.log" 2>&1; then
    echo ok >"$scratch/$target.status"
  else
    echo failed >"$scratch/$target.status"
  fi
}

echo "fuzz: $(echo "$targets" | wc -w) targets, ${seconds} s each, $jobs at a time"
running=0
for target in $targets; do
  fuzz_one "$target" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

failed=()
passed=0
for target in $targets; do
  if [ "$(cat "$scratch/$target.status" 2>/dev/null)" = ok ]; then
    passed=$((passed + 1))
    echo "fuzz: $target: $(grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$scratch/$target.log" | tr -s ' \n' ' ')"
  else
    tail -n 40 "$scratch/$target.log" >&2
    echo "fuzz: $target FAILED; the input is in fuzz/artifacts/$target/" >&2
    failed+=("$target")
  fi
done
echo "fuzz: ${seconds} s a target, $(($(date +%s) - started)) s in all"
[ ${#failed[@]} -eq 0 ] || echo "fuzz: crashed: ${failed[*]}" >&2
# The closing line CI reads.
echo "fuzz: $passed passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
