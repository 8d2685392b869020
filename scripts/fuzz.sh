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
failed=()
passed=0
for target in $(cargo fuzz list); do
  mkdir -p "$scratch/$target" "corpus/$target"
  echo "fuzz: $target for ${seconds} s"
  # -rss_limit_mb: an input that makes a parser take half a gigabyte is a finding too.
  log="$scratch/$target.log"
  if ! cargo fuzz run "${flags[@]}" "$target" "$scratch/$target" "corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=512 -max_len=65536 -print_final_stats=1 \
    >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "fuzz: $target FAILED; the input is in fuzz/artifacts/$target/" >&2
    failed+=("$target")
    continue
  fi
  passed=$((passed + 1))
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$log" | tr '\n' ' '
  echo
done
echo "fuzz: ${seconds} s a target, $(($(date +%s) - started)) s in all"
[ ${#failed[@]} -eq 0 ] || echo "fuzz: crashed: ${failed[*]}" >&2
# The closing line CI reads.
echo "fuzz: $passed passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
