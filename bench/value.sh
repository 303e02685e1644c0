#!/usr/bin/env bash
# Value-model fit times: lifetimes against kulanz on the same CDNOW calibration summaries
# in one run, then kulanz alone on a synthetic set of N customers (default 1,000,000).
# Each fit is timed alone: summaries are built before the clock starts, and kulanz's
# report gives its fits apart from loading summaries and refreshing predictions
# (`seconds_bgnbd`, `seconds_gamma_gamma`; `seconds_store` is the refresh). A benchmark,
# not a test: run it by hand, copy the figures into docs/performance.md, keep the output in
# bench/results/.
#   bench/value.sh [N_CUSTOMERS] [REPS]        e.g. bench/value.sh 1000000 5 | tee bench/results/value-$(date -u +%Y%m%dT%H%M%SZ).txt
# Needs python3 with venv and network access to PyPI (lifetimes goes into
# target/lifetimes-venv once), GNU time. Uses CARGO_TARGET_DIR if set; KULANZ_BIN skips
# the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
reps="${2:-5}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ -z "${KULANZ_BIN:-}" ]; then
  cargo build --release --quiet
fi
bin="${KULANZ_BIN:-${CARGO_TARGET_DIR:-target}/release/kulanz}"
venv=target/lifetimes-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "lifetimes==0.11.3"
fi

echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo '+dirty')"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "python: $("$venv/bin/python" -c 'import sys, numpy, scipy, pandas, lifetimes; print(sys.version.split()[0], "numpy", numpy.__version__, "scipy", scipy.__version__, "pandas", pandas.__version__, "lifetimes", lifetimes.__version__)')"
echo

echo "== CDNOW, 2,357 customers, calibration to 1997-09-30, $reps runs each (seconds)"
"$venv/bin/python" bench/value_lifetimes.py tests/fixtures/cdnow_orders.csv "$reps" > "$work/lifetimes.json"
"$bin" import orders tests/fixtures/cdnow_orders.csv --order-column none --at-column date \
  --default-currency USD --data-dir "$work/cdnow" > /dev/null 2>&1
for i in $(seq "$reps"); do
  "$bin" value fit --observation-end 1997-09-30 --data-dir "$work/cdnow" > "$work/kulanz-$i.json"
done
python3 - "$work" "$reps" <<'PY'
import json, statistics, sys
work, reps = sys.argv[1], int(sys.argv[2])
lt = json.load(open(f"{work}/lifetimes.json"))
ku = [json.load(open(f"{work}/kulanz-{i}.json")) for i in range(1, reps + 1)]
print(f"{'model':12} {'lifetimes median (min-max)':>30} {'kulanz median (min-max)':>30} {'ratio':>7}")
for model, key in (("BG/NBD", "bgnbd"), ("Gamma-Gamma", "gamma_gamma")):
    k = [r[f"seconds_{key}"] for r in ku]
    l = lt[key]
    print(f"{model:12} {l['median']:>12.4f} ({l['min']:.4f}-{l['max']:.4f}) "
          f"{statistics.median(k):>12.4f} ({min(k):.4f}-{max(k):.4f}) "
          f"{l['median'] / statistics.median(k):>6.1f}x")
print("parameters: lifetimes", {k: round(v, 4) for m in ("bgnbd", "gamma_gamma") for k, v in lt[m]["params"].items()})
print("            kulanz   ", {k: round(v, 4) for m in ("bgnbd", "gamma_gamma") for k, v in ku[0][m].items()})
print(f"kulanz whole fit call (reading and recounting summaries, storing, refreshing 2,357 predictions): "
      f"median {statistics.median(r['seconds'] for r in ku):.3f} s")
PY
echo

echo "== kulanz alone: $n synthetic customers (bench/gen_orders.py, 78 weeks)"
python3 bench/gen_orders.py "$n" 7 customers > "$work/orders.csv"
echo "orders: $(($(wc -l < "$work/orders.csv") - 1)) ($(du -h "$work/orders.csv" | cut -f1) of CSV)"
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
measure fit "$bin" value fit --observation-end 2026-07-01 --data-dir "$work/data"
python3 - "$work/fit.out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"customers {r['bgnbd_fit']['customers']}, repeat customers {r['gamma_gamma_fit']['customers']}")
print(f"seconds: whole call {r['seconds']:.2f} = load {r['seconds_load']:.2f} + BG/NBD {r['seconds_bgnbd']:.2f} "
      f"+ Gamma-Gamma {r['seconds_gamma_gamma']:.2f} + store and refresh every prediction {r['seconds_store']:.2f}")
print("parameters", {k: round(v, 4) for m in ("bgnbd", "gamma_gamma") for k, v in r[m].items()})
PY
echo "store on disk: $(du -sh "$work/data" | cut -f1)"
