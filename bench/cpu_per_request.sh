#!/usr/bin/env bash
# One closed-loop saturation run against `kulanz serve --demo`: requests/s, p99, the share
# of 2xx answers and the server's CPU time per request (user + system, /proc/PID/stat).
# Quicker than bench/http.sh for comparing two builds: alternate them, several pairs.
#
#   bench/cpu_per_request.sh BINARY [strict|relaxed] [SECONDS]
#   for i in 1 2 3; do for b in old new; do bench/cpu_per_request.sh /tmp/kulanz-$b relaxed; done; done
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:?usage: bench/cpu_per_request.sh BINARY [strict|relaxed] [SECONDS]}
DUR=${2:-strict}
SECS=${3:-6}
PORT=${PORT:-18095}
OHA=${OHA:-target/tools/bin/oha}
[ -x "$OHA" ] || { echo "no oha at $OHA: run bench/http.sh once (it installs it)" >&2; exit 1; }
TMP=$(mktemp -d)
SP=
cleanup() { [ -n "$SP" ] && kill "$SP" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
"$BIN" serve --demo --listen "127.0.0.1:$PORT" --data-dir "$TMP/data" --policy-dir policies \
  --durability "$DUR" --rate-limit-per-sec 0 --log-format json >"$TMP/serve.log" 2>&1 &
SP=$!
for _ in $(seq 1 100); do grep -q 'API key with every scope' "$TMP/serve.log" 2>/dev/null && break; sleep 0.1; done
KEY=$(grep -A1 'API key with every scope' "$TMP/serve.log" | tail -1 | tr -d ' ')
printf '%s' '{"ticket_id":"ZD-48213","customer_id":"c-10442","agent":{"id":"a-17","role":"agent"},"complaint":{"category":"cancellation_refund","severity":"medium","channel":"social","fault":"unclear","amount_at_stake":{"amount":"100.00","currency":"EUR"}}}' >"$TMP/s1.json"
load() {
  "$OHA" --no-tui --output-format json -z "$1" -c 32 -m POST -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $KEY" -D "$TMP/s1.json" "http://127.0.0.1:$PORT/v1/decisions"
}
load 2s >/dev/null # warm-up
c0=$(awk '{print $14 + $15}' "/proc/$SP/stat")
load "${SECS}s" >"$TMP/oha.json"
c1=$(awk '{print $14 + $15}' "/proc/$SP/stat")
python3 - "$TMP/oha.json" "$c0" "$c1" "$(getconf CLK_TCK)" "$(basename "$BIN")" "$DUR" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); c0, c1, tick = map(float, sys.argv[2:5])
codes = d["statusCodeDistribution"]; n = sum(codes.values()) or 1
ok = sum(v for k, v in codes.items() if k.startswith("2")) / n
print(f"{sys.argv[5]} {sys.argv[6]}: {d['summary']['requestsPerSec']:.0f} req/s, "
      f"p99 {d['latencyPercentiles']['p99'] * 1000:.2f} ms, 2xx share {ok:.4f}, "
      f"server CPU per request {(c1 - c0) * 1e6 / tick / n:.1f} us")
if ok < 0.999:
    sys.exit("not a measurement: answers other than 2xx")
PY
