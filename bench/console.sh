#!/usr/bin/env bash
# Page load of the lead's console with many decisions stored (issue 32: under 300 ms with
# 10,000). Runs the ignored browser test `console_page_load_with_many_decisions` in
# release: it seeds N decisions (default 10,000, a third with an outcome) through the API
# into a fresh store, opens each console page afresh five times in headless Chromium and
# prints, per page, the median time from navigation start to the page's data drawn (the
# Performance API's clock) and DOMContentLoaded. A benchmark, not a test: the figures go
# to bench/results/console-<date>.txt and, by hand, to docs/performance.md.
#   bench/console.sh [N_DECISIONS]
# Needs scripts/install-test-deps.sh (chromium, chromedriver). Uses CARGO_TARGET_DIR if set.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10000}"
KULANZ_CONSOLE_DECISIONS="$n" cargo test --release --locked --test console_browser \
  console_page_load_with_many_decisions -- --ignored --nocapture
out="bench/results/console-$(date -u +%Y%m%dT%H%MZ).txt"
{ echo "bench/console.sh $n on $(nproc) cores, $(date -u +%FT%TZ)"; cat target/console-load.txt; } > "$out"
cat "$out"
