#!/usr/bin/env bash
# Memory of the decision log's in-memory indexes: stores N decisions, each on its own
# ticket (customers c-0 .. c-59999, most unknown), through the real HTTP API, then reopens
# the data directory with `kulanz serve` and reports its resident memory next to that of
# an empty store.
#
#   bench/decision_memory.sh            # N=300000 (about a minute here)
#   N=100000 KULANZ_BIN=/tmp/kulanz bench/decision_memory.sh
#
# Four Python clients (standard library only) send the decisions; relaxed durability,
# because what is measured is memory, not speed.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-300000}
PORT=${PORT:-18610}
KULANZ=${KULANZ_BIN:-${CARGO_TARGET_DIR:-target}/release/kulanz}
[ -n "${KULANZ_BIN:-}" ] || cargo build --release --bin kulanz >&2
TMP=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT

serve() { # data dir, extra args...
  local dir=$1; shift
  RUST_LOG=warn "$KULANZ" serve --listen "127.0.0.1:$PORT" --data-dir "$dir" --policy-dir policies \
    --durability relaxed --rate-limit-per-sec 0 "$@" >"$TMP/serve.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 300); do (echo >/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && return 0; sleep 0.1; done
  echo "the server did not open port $PORT" >&2; cat "$TMP/serve.log" >&2; return 1
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=; }
rss() { grep VmRSS "/proc/$PID/status" | awk '{printf "%.1f", $2 / 1024}'; }

serve "$TMP/empty"
EMPTY=$(rss); stop

serve "$TMP/data" --demo
for _ in $(seq 1 50); do grep -q 'API key with every scope' "$TMP/serve.log" && break; sleep 0.1; done
KEY=$(grep -A1 'API key with every scope' "$TMP/serve.log" | tail -1 | tr -d ' ')
python3 - "$KEY" "$N" "$PORT" <<'PY'
import http.client, json, multiprocessing as mp, sys
key, n, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def run(w):
    c = http.client.HTTPConnection("127.0.0.1", port)
    h = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
    for i in range(w, n, 4):
        body = {"ticket_id": f"ZD-{i}", "customer_id": f"c-{i % 60000}",
                "agent": {"id": "a-17", "role": "agent"},
                "complaint": {"category": "cancellation_refund", "severity": "medium",
                              "channel": "social", "fault": "unclear",
                              "amount_at_stake": {"amount": "100.00", "currency": "EUR"}}}
        c.request("POST", "/v1/decisions", json.dumps(body), h)
        r = c.getresponse(); r.read()
        if r.status != 200:
            sys.exit(f"decision {i}: HTTP {r.status}")
with mp.Pool(4) as p:
    p.map(run, range(4))
PY
stop
serve "$TMP/data"
FULL=$(rss); stop
LOG=$(stat -c %s "$TMP/data/decisions.kdlog")
python3 -c "
n, e, f, log = $N, $EMPTY, $FULL, $LOG
print(f'decisions: {n}, log file {log / 1e6:.0f} MB ({log / n:.0f} bytes each)')
print(f'RSS after opening: empty store {e:.1f} MB, with the decisions {f:.1f} MB: {(f - e) * 1048576 / n:.0f} bytes per decision')"
