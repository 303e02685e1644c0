#!/usr/bin/env bash
# Scale benchmark of the value models: import N generated orders (default 1,000,000),
# fit BG/NBD + Gamma-Gamma, and report wall time and peak RSS of each step
# (/usr/bin/time -v). A benchmark, not a test: run it by hand and copy the figures into
# docs/performance.md.
#   bench/value_scale.sh [N_ORDERS]
# Needs python3 (the generator) and GNU time. Uses CARGO_TARGET_DIR if set.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/kulanz"

python3 bench/gen_orders.py "$n" 7 > "$work/orders.csv"
echo "orders: $n ($(du -h "$work/orders.csv" | cut -f1) of CSV)"

measure() { # label, command...
  local label="$1"; shift
  /usr/bin/time -v "$@" > "$work/$label.out" 2> "$work/$label.time" || {
    cat "$work/$label.time"; exit 1; }
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$work/$label.time" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$work/$label.time" | awk '{print $NF}')
  printf '%-8s wall %s  peak RSS %s MiB\n' "$label" "$wall" "$((rss / 1024))"
}

measure import "$bin" import orders "$work/orders.csv" --data-dir "$work/data"
grep -E '"(imported|rejected)"' "$work/import.out" | tr -d ' ,' | paste -sd' '
measure reimport "$bin" import orders "$work/orders.csv" --data-dir "$work/data"
grep -E '"duplicates"' "$work/reimport.out" | tr -d ' ,'
measure fit "$bin" value fit --observation-end 2026-07-01 --data-dir "$work/data"
grep -E '"(customers|iterations|seconds|r|alpha|a|b|p|q|v)"' "$work/fit.out" | tr -d ' ,' | paste -sd' '
echo "store on disk: $(du -sh "$work/data" | cut -f1)"
