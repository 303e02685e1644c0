#!/usr/bin/env bash
# Instructions per decision of the engine, counted by callgrind: unlike decisions/s this
# does not move with the load of a shared machine, so two builds can be compared exactly.
#
#   bench/engine_instructions.sh [POLICY_FILE]      # default: the shipped policy
#
# Runs `kulanz bench engine --decisions N` twice under callgrind (N = 2,048 and 10,240)
# and divides the difference in instructions by the difference in decisions, so start-up
# (policy load, scenario parsing) cancels out. Installs valgrind (Debian) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${KULANZ_BIN:-${CARGO_TARGET_DIR:-target}/release/kulanz}
SCEN=${SCENARIOS:-bench/scenarios.ndjson}
if ! command -v valgrind >/dev/null; then
  echo "installing valgrind" >&2
  { apt-get update && apt-get install -y valgrind; } >&2
fi
[ -x "$BIN" ] || cargo build --release --locked
args=(bench engine --scenarios "$SCEN")
[ $# -ge 1 ] && args+=(--policy "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
count() {
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$1" "$BIN" "${args[@]}" \
    --decisions "$1" >/dev/null 2>"$tmp/log.$1"
  grep -o 'Collected : [0-9]*' "$tmp/log.$1" | grep -o '[0-9]*$'
}
small=2048
large=10240
a=$(count $small)
b=$(count $large)
echo "binary: $BIN"
echo "policy: ${1:-shipped}"
echo "instructions per decision: $(( (b - a) / (large - small) ))"
