#!/usr/bin/env bash
# What a compaction (docs/operations.md, "Erasure requests") costs on a store of N customers.
#
#   bench/compact.sh              # N=100000 ERASE=100 REPS=3; results in bench/results/
#   N=0 bench/compact.sh          # the demo store (`serve --demo`, ~500 customers)
#
# 1. imports N customer records (bench/gen_customers.py) into an empty data dir (N=0: seeds
#    the demo), starts `kulanz serve`, erases ERASE customers with DELETE, stops it (SIGTERM),
# 2. runs `kulanz store compact` REPS times (the first makes the erasures final; the others
#    cost the same, every live entry is copied each time): wall time and peak RSS, median,
# 3. erases one more customer, then times a start (to /healthz answering) that compacts
#    because of it, and one that does not.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
N=${N:-100000}
ERASE=${ERASE:-100}
REPS=${REPS:-3}
PORT=${PORT:-18082}
OUT=${OUT:-$ROOT/bench/results/compact-$(date -u +%Y%m%dT%H%M%SZ).txt}
command -v /usr/bin/time >/dev/null || apt-get install -y time >&2
if [ -z "${KULANZ_BIN:-}" ]; then cargo build --release --bin kulanz >&2; fi
KULANZ=${KULANZ_BIN:-$TARGET/release/kulanz}
TMP=$(mktemp -d)
SPID=
cleanup() { [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

serve() {
  "$KULANZ" serve --listen "127.0.0.1:$PORT" --data-dir "$TMP/data" --policy-dir "$ROOT/policies" \
    --rate-limit-per-sec 0 --log-format json "$@" >"$TMP/serve.out" 2>"$TMP/serve.log" &
  SPID=$!
  for _ in $(seq 1 1200); do
    curl -fs -o /dev/null "http://127.0.0.1:$PORT/healthz" && return 0
    kill -0 "$SPID" 2>/dev/null || { cat "$TMP/serve.log" >&2; exit 1; }
    sleep 0.05
  done
  echo "server did not come up" >&2; exit 1
}
stop() { kill -TERM "$SPID"; while kill -0 "$SPID" 2>/dev/null; do sleep 0.05; done; SPID=; }
erase() {
  curl -s -o /dev/null -w "%{http_code}\n" -X DELETE "http://127.0.0.1:$PORT/v1/customers/$1" \
    -H "Authorization: Bearer $KEY"
}

{
echo "# bench/compact.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) checkout $(git rev-parse --short HEAD)$(git diff --quiet || echo +dirty)"
echo "# kulanz binary: $KULANZ (sha256 $(sha256sum "$KULANZ" | cut -c1-12), built $(date -u -r "$KULANZ" +%Y-%m-%dT%H:%M:%SZ))"
echo "# machine: $(nproc) cores, $(free -m | awk '/Mem:/{print $2}') MB RAM; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT"
if [ "$N" = 0 ]; then
  serve --demo
  KEY=$(grep -A1 'API key with every scope' "$TMP/serve.out" | tail -1 | tr -d ' ')
  IDS=$(python3 -c 'import json,sys; print("\n".join(list(json.load(open(sys.argv[1])))[:int(sys.argv[2])]))' \
    "$ROOT/src/demo_customers.json" "$ERASE")
else
  python3 bench/gen_customers.py "$N" >"$TMP/customers.ndjson"
  "$KULANZ" import customers "$TMP/customers.ndjson" --data-dir "$TMP/data" >/dev/null 2>&1
  rm "$TMP/customers.ndjson"
  KEY=$("$KULANZ" keys add --name bench --scopes admin,ingest --data-dir "$TMP/data" 2>/dev/null | tail -1)
  serve
  IDS=$(for i in $(seq 0 $((ERASE - 1))); do printf "c-bulk-%06d\n" $(((i * 7919) % N)); done)
fi
echo "customers: $([ "$N" = 0 ] && echo demo || echo "$N"), erased: $(for id in $IDS; do erase "$id"; done | grep -c 204)" | tee -a "$OUT"
stop
echo "data dir before: $(du -sk "$TMP/data" | cut -f1) KB on disk" | tee -a "$OUT"
WALLS=()
for i in $(seq 1 "$REPS"); do
  sync
  /usr/bin/time -f "wall %e s, max RSS %M KB" "$KULANZ" store compact --data-dir "$TMP/data" 2>"$TMP/compact.err"
  sed "s/^/compact run $i: /" "$TMP/compact.err" | tee -a "$OUT"
  WALLS+=("$(awk '/^wall/{print $2}' "$TMP/compact.err")")
done
python3 -c 'import sys,statistics as s; v=[float(x) for x in sys.argv[1:]]; print(f"store compact wall time over {len(v)} runs: median {s.median(v):.2f} s (min {min(v):.2f}, max {max(v):.2f})")' "${WALLS[@]}" | tee -a "$OUT"
echo "data dir after: $(du -sk "$TMP/data" | cut -f1) KB on disk" | tee -a "$OUT"

# One more erasure (a customer put back first), then a start that compacts, and one that does not.
serve
FIRST=$(echo "$IDS" | head -1)
curl -s -o /dev/null -X PUT "http://127.0.0.1:$PORT/v1/customers/$FIRST" -H "Authorization: Bearer $KEY" \
  -H 'content-type: application/json' -d '{"currency":"EUR","lifetime_revenue":{"amount":"1.00","currency":"EUR"}}'
erase "$FIRST" >/dev/null
stop
for label in "with a compaction (1 erasure pending)" "without (none pending)"; do
  T0=$(date +%s.%N); serve; T1=$(date +%s.%N)
  python3 -c "import sys; print(f'start to /healthz {sys.argv[3]}: {float(sys.argv[2]) - float(sys.argv[1]):.2f} s')" "$T0" "$T1" "$label" | tee -a "$OUT"
  grep -o '"message":"store compacted[^}]*' "$TMP/serve.log" | sed 's/^/  log: /' | tee -a "$OUT" || true
  stop
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT"
echo "results: $OUT" >&2
