#!/usr/bin/env bash
# Bulk import and memory benchmark: 1M customer records.
#
#   bench/import.sh            # N=1000000, REPS=3; results in bench/results/
#
# 1. generates N customer records as NDJSON (bench/gen_customers.py, deterministic),
# 2. `kulanz import customers FILE` into an empty data dir, REPS times: wall time and peak
#    RSS of each (`/usr/bin/time -v`), the median and range of the wall times, then the data
#    dir's size on disk,
# 3. starts `kulanz serve` on that data dir, reads 10 s of random customers over HTTP
#    (one Python client, random ids) and reports the server's resident memory (VmRSS, VmHWM).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
N=${N:-1000000}
REPS=${REPS:-3}
PORT=${PORT:-18081}
OUT=${OUT:-$ROOT/bench/results/import-$(date -u +%Y%m%dT%H%M%SZ).txt}
command -v /usr/bin/time >/dev/null || apt-get install -y time >&2
# KULANZ_BIN: use a build that already exists instead of building one.
if [ -z "${KULANZ_BIN:-}" ]; then cargo build --release --bin kulanz >&2; fi
KULANZ=${KULANZ_BIN:-$TARGET/release/kulanz}
TMP=$(mktemp -d)
SPID=
cleanup() { [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

python3 bench/gen_customers.py "$N" > "$TMP/customers.ndjson"
{
echo "# bench/import.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) checkout $(git rev-parse --short HEAD)$(git diff --quiet || echo +dirty)"
# The measured binary may come from another commit (KULANZ_BIN): name it by content and time.
echo "# kulanz binary: $KULANZ (sha256 $(sha256sum "$KULANZ" | cut -c1-12), built $(date -u -r "$KULANZ" +%Y-%m-%dT%H:%M:%SZ))"
echo "# machine: $(nproc) cores, $(free -m | awk '/Mem:/{print $2}') MB RAM; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "records: $N, file $(du -m "$TMP/customers.ndjson" | cut -f1) MB"
} | tee "$OUT"
sync
# REPS imports, each into an empty data dir (the last one is kept for the server below):
# one run on this shared machine ranges over more than a second, so the median and the
# range are what to compare.
WALLS=()
for i in $(seq 1 "$REPS"); do
  rm -rf "$TMP/data"
  /usr/bin/time -v "$KULANZ" import customers "$TMP/customers.ndjson" --data-dir "$TMP/data" \
    >"$TMP/import.out" 2>"$TMP/import.time" || { cat "$TMP/import.time" >&2; exit 1; }
  grep -E 'imported|Elapsed \(wall|Maximum resident|User time|System time' "$TMP/import.time" | sed "s/^\s*/import run $i: /" | tee -a "$OUT"
  WALLS+=("$(awk -F': ' '/Elapsed \(wall/{n=split($2,t,":"); s=0; for(j=1;j<=n;j++) s=s*60+t[j]; print s}' "$TMP/import.time")")
done
python3 -c 'import sys,statistics as s; v=[float(x) for x in sys.argv[1:]]; print(f"import wall time over {len(v)} runs: median {s.median(v):.2f} s (min {min(v):.2f}, max {max(v):.2f}); target < 5 s")' "${WALLS[@]}" | tee -a "$OUT"
echo "data dir on disk: $(du -sm "$TMP/data" | cut -f1) MB" | tee -a "$OUT"

"$KULANZ" serve --demo --listen "127.0.0.1:$PORT" --data-dir "$TMP/data" \
  --policy-dir "$ROOT/policies" --rate-limit-per-sec 0 --log-format json >"$TMP/serve.log" 2>&1 &
SPID=$!
for _ in $(seq 1 300); do grep -q 'API key with every scope' "$TMP/serve.log" 2>/dev/null && break; sleep 0.1; done
KEY=$(grep -A1 'API key with every scope' "$TMP/serve.log" | tail -1 | tr -d ' ')
rss() { awk '/VmRSS|VmHWM/{printf "%s %d MB  ", $1, $2/1024}' "/proc/$SPID/status"; }
echo "server after start: $(rss)" | tee -a "$OUT"
python3 - "$PORT" "$KEY" "$N" <<'PY' | tee -a "$OUT"
import random, sys, time, urllib.request
port, key, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
random.seed(7); done = 0; ok = 0; end = time.time() + 10
while time.time() < end:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/customers/c-bulk-{random.randrange(n):06d}",
                                 headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(req) as r: ok += r.status == 200
    except Exception: pass
    done += 1
print(f"random customer reads (one client, 10 s): {done}, {ok} found")
PY
echo "server after 10 s of random reads: $(rss)" | tee -a "$OUT"
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT"
echo "results: $OUT" >&2
