#!/usr/bin/env bash
# Runs every test of tocsin: formatting, lints, unit tests, black-box tests against a spawned
# server (schemathesis among them), the crash test, and a bounded fuzz run. Installs what the
# tests need first, so it works on a fresh machine (Debian with the Rust toolchain).
set -euo pipefail
cd "$(dirname "$0")/.."

# The real tools the end-to-end tests drive, from Debian's packages: Prometheus and
# Alertmanager (with amtool), Nagios 4, Zabbix's script engine (zabbix_js, shipped in
# zabbix-server-pgsql; no Zabbix server is started), and headless Chromium with its
# WebDriver for the web console's tests.
need_apt=()
command -v curl >/dev/null || need_apt+=(curl)
# openssl makes the CA and certificate of the CLI's https test.
command -v openssl >/dev/null || need_apt+=(openssl)
command -v prometheus >/dev/null || need_apt+=(prometheus)
command -v amtool >/dev/null || need_apt+=(prometheus-alertmanager)
[ -x /usr/sbin/nagios4 ] || need_apt+=(nagios4)
command -v zabbix_js >/dev/null || need_apt+=(zabbix-server-pgsql)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -x /usr/bin/chromedriver ] || need_apt+=(chromium-driver)
# A Chinese font, so that Chinese text in the browser tests' screenshots is not boxes.
[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || need_apt+=(fonts-wqy-zenhei)
if [ ${#need_apt[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi
# Python oracles of the schedule property tests and the iCalendar parser that checks the
# feeds (python-dateutil, icalendar); zoneinfo reads the system's tzdata.
[ -e /usr/share/zoneinfo/America/New_York ] || need_tzdata=1
if [ "${need_tzdata:-0}" = 1 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq tzdata
fi
python3 -c "import dateutil, icalendar" 2>/dev/null \
  || python3 -m pip install -q python-dateutil icalendar
python3 -c "import aiosmtpd" 2>/dev/null || python3 -m pip install -q aiosmtpd
# schemathesis drives tests/schema.rs against the live server's OpenAPI document; pinned,
# since a new release may check more and fail a run that nothing in tocsin changed.
schemathesis_version=4.32.5
schemathesis --version 2>/dev/null | grep -qF "$schemathesis_version" \
  || python3 -m pip install -q "schemathesis==$schemathesis_version"
# cargo-fuzz for scripts/fuzz.sh, from crates.io.
command -v cargo-fuzz >/dev/null || cargo install -q cargo-fuzz --locked --version 0.13.2

# A PostgreSQL server for the PostgreSQL store's tests (this machine's, or a private one).
source scripts/postgres-for-tests.sh

# With the tools installed, an end-to-end test that cannot find one fails instead of
# skipping.
export TOCSIN_E2E_REQUIRED=1

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked "$@"
# The engine's suite again with its store on PostgreSQL (tests/common/store.rs): built
# already, so this only runs it.
TOCSIN_TEST_STORE=postgres cargo test -p tocsin-engine --locked "$@"
# Every intake parser, the config loader and the matcher parser under libFuzzer, each for
# FUZZ_SECONDS, one target a core at a time (about 2 minutes for the 14 targets at 15 s on
# two cores, plus a build of about 1.5 minutes).
scripts/fuzz.sh "${FUZZ_SECONDS:-15}"
