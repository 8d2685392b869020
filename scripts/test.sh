#!/usr/bin/env bash
# Runs every test of tocsin: formatting, lints, unit tests, black-box tests against a spawned
# server, and the crash test. Installs what the tests need first, so it works on a fresh
# machine (Debian with the Rust toolchain).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v curl >/dev/null || need_apt+=(curl)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq "${need_apt[@]}"; else sudo apt-get install -y "${need_apt[@]}"; fi
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked "$@"
