#!/usr/bin/env bash
# HTTP load benchmark: kulanz `POST /v1/decisions` against a bare axum JSON echo, in the
# same run on the same machine, with `--durability strict` and `--durability relaxed`.
#
#   bench/http.sh                 # 3 repetitions of 8 s each; results in bench/results/
#   REPS=1 SECONDS_PER_RUN=5 CONNS=32 bench/http.sh
#
# For each target: max throughput (closed loop, CONNS connections), then p50/p99 at 80%
# of that throughput (open loop, `oha -q`). The load generator `oha` (crates.io) is
# installed into target/tools by this script when missing. Release builds of kulanz and
# of `examples/echo.rs` (same axum/tokio/serde_json) are built first. The load generator
# shares the machine with the server: on a small VM it takes a good part of the CPU, for
# the echo baseline and for kulanz alike, which is why only ratios are compared. It also
# prints each server's CPU time per request in the saturation runs (from /proc/PID/stat),
# which the load generator's share does not move.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
TOOLS=${KULANZ_TOOLS:-$ROOT/target/tools}
REPS=${REPS:-3}
SECS=${SECONDS_PER_RUN:-8}
CONNS=${CONNS:-32}
OUT=${OUT:-$ROOT/bench/results/http-$(date -u +%Y%m%dT%H%M%SZ).txt}
KPORT=${KPORT:-18080}
EPORT=${EPORT:-19090}

OHA=$TOOLS/bin/oha
if ! [ -x "$OHA" ]; then
  if command -v oha >/dev/null; then OHA=$(command -v oha); else
    echo "installing oha into $TOOLS" >&2
    cargo install oha --locked --root "$TOOLS" >&2
  fi
fi
# KULANZ_BIN: measure another build (e.g. the one before an optimisation) against the echo;
# then nothing is built if the echo exists. POLICY_DIR: the policies it serves (default this
# checkout's policies/); an older build may not read today's policy, so give it its own.
KULANZ=${KULANZ_BIN:-$TARGET/release/kulanz}
POLICY_DIR=${POLICY_DIR:-$ROOT/policies}
ECHO=$TARGET/release/examples/echo
if [ -z "${KULANZ_BIN:-}" ] || ! [ -x "$ECHO" ]; then
  cargo build --release --bin kulanz --example echo >&2
fi

TMP=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT

wait_port() { for _ in $(seq 1 100); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 did not open" >&2; return 1; }

# A 1 KB JSON body for the echo; S1's request for kulanz.
python3 - "$TMP/echo.json" <<'PY'
import json, sys
body = {"ticket_id": "ZD-48213", "customer_id": "c-10442", "items": []}
while len(json.dumps(body)) < 1000:
    body["items"].append({"sku": f"sku-{len(body['items'])}", "qty": 1, "price": "10.00"})
open(sys.argv[1], "w").write(json.dumps(body))  # just over 1,000 bytes
PY
S1='{"ticket_id":"ZD-48213","customer_id":"c-10442","agent":{"id":"a-17","role":"agent"},"complaint":{"category":"cancellation_refund","severity":"medium","channel":"social","fault":"unclear","amount_at_stake":{"amount":"100.00","currency":"EUR"}}}'
printf '%s' "$S1" > "$TMP/s1.json"

# oha's JSON summary -> "rps p50_ms p99_ms ok_share requests"
cat > "$TMP/summary.py" <<'PY'
import json, sys
d = json.load(sys.stdin); s = d["summary"]; p = d["latencyPercentiles"]
codes = d.get("statusCodeDistribution", {})
ok = sum(v for k, v in codes.items() if k.startswith("2")); n = sum(codes.values()) or 1
ms = lambda x: float("nan") if x is None else x * 1000
print(f"{s['requestsPerSec'] or 0:.0f} {ms(p['p50']):.3f} {ms(p['p99']):.3f} {ok / n:.4f} {n}")
if n <= 1:
    print(f"oha: {d.get('errorDistribution')}", file=sys.stderr)
PY
summary() { python3 "$TMP/summary.py"; }
# A run whose answers are not all 2xx measured errors (a wrong key, a store failure, a
# broken build), not decisions: stop instead of printing a ratio built on them.
check_ok() { # name result
  python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 0.999 else 1)" "$(echo "$2" | cut -d' ' -f4)" && return 0
  echo "$1: only a share of $(echo "$2" | cut -d' ' -f4) of the answers were 2xx; not a measurement. Server log:" >&2
  tail -5 "$TMP"/*.log >&2
  exit 1
}
# load URL BODYFILE [extra oha args...]
load() {
  local url=$1 body=$2; shift 2
  "$OHA" --no-tui --output-format json -z "${SECS}s" -c "$CONNS" -m POST \
    -H 'Content-Type: application/json' "${AUTH[@]}" -D "$body" "$@" "$url" | summary
}

median() { python3 -c 'import sys,statistics as s; v=[float(x) for x in sys.argv[1:]]; print(f"{s.median(v):.3f} (min {min(v):.3f}, max {max(v):.3f})")' "$@"; }

start_echo() { "$ECHO" "127.0.0.1:$EPORT" >"$TMP/echo.log" 2>&1 & PIDS+=($!); wait_port "$EPORT"; }
start_kulanz() {
  local dur=$1 dir=$TMP/data-$1
  RUST_LOG=${RUST_LOG:-info} "$KULANZ" serve --demo --listen "127.0.0.1:$KPORT" --data-dir "$dir" \
    --policy-dir "$POLICY_DIR" --durability "$dur" --rate-limit-per-sec 0 --log-format json >"$TMP/kulanz-$dur.log" 2>&1 &
  KPID=$!; PIDS+=($KPID)
  wait_port "$KPORT"
  for _ in $(seq 1 50); do grep -q 'API key with every scope' "$TMP/kulanz-$dur.log" && break; sleep 0.1; done
  KEY=$(grep -A1 'API key with every scope' "$TMP/kulanz-$dur.log" | tail -1 | tr -d ' ')
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
# CPU time (user + system) of process $1 so far, in clock ticks.
TICK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

{
echo "# bench/http.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) checkout $(git rev-parse --short HEAD)$(git diff --quiet || echo +dirty)"
# The measured binary may come from another commit (KULANZ_BIN): name it by content and time.
echo "# kulanz binary: $KULANZ (sha256 $(sha256sum "$KULANZ" | cut -c1-12), built $(date -u -r "$KULANZ" +%Y-%m-%dT%H:%M:%SZ))"
echo "# policy dir: $POLICY_DIR; echo binary: $ECHO (sha256 $(sha256sum "$ECHO" | cut -c1-12))"
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $REPS x ${SECS}s per measurement, $CONNS connections, oha $("$OHA" --version | awk '{print $2}')"
} | tee "$OUT"

declare -A RPS P50 P99 CPU
# Besides throughput, the server's own CPU time per request in the saturation runs: it
# does not depend on how much of the two cores the load generator takes, so it is the
# steadier figure on a shared machine.
run_target() { # name url body pid
  local name=$1 url=$2 body=$3 pid=$4 rps=() p50=() p99=() cpu=() r c0 c1
  for i in $(seq 1 "$REPS"); do
    c0=$(cpu_ticks "$pid")
    r=$(load "$url" "$body"); check_ok "$name" "$r"; rps+=("$(echo "$r" | cut -d' ' -f1)")
    c1=$(cpu_ticks "$pid")
    cpu+=("$(python3 -c "print(($c1 - $c0) * 1e6 / $TICK / max(1, $(echo "$r" | cut -d' ' -f5)))")")
    echo "$name saturation run $i: rps p50_ms p99_ms ok_share requests = $r; server CPU per request ${cpu[-1]%.*} us" | tee -a "$OUT"
  done
  CPU[$name]=$(median "${cpu[@]}" | cut -d' ' -f1)
  RPS[$name]=$(median "${rps[@]}" | cut -d' ' -f1)
  local rate; rate=$(python3 -c "print(int(${RPS[$name]}*0.8))")
  for i in $(seq 1 "$REPS"); do
    r=$(load "$url" "$body" -q "$rate"); check_ok "$name" "$r"; p50+=("$(echo "$r" | cut -d' ' -f2)"); p99+=("$(echo "$r" | cut -d' ' -f3)")
    echo "$name at 80% ($rate/s) run $i: rps p50_ms p99_ms ok_share requests = $r" | tee -a "$OUT"
  done
  echo "$name: saturation $(median "${rps[@]}") req/s; at 80%: p50 $(median "${p50[@]}") ms, p99 $(median "${p99[@]}") ms; server CPU per request $(median "${cpu[@]}") us" | tee -a "$OUT"
  RPS[$name]=$(median "${rps[@]}" | cut -d' ' -f1)
}

AUTH=()
start_echo; EPID=${PIDS[-1]}
run_target echo "http://127.0.0.1:$EPORT/echo" "$TMP/echo.json" "$EPID"
stop "$EPID"
for dur in strict relaxed; do
  start_kulanz "$dur"
  AUTH=(-H "Authorization: Bearer $KEY")
  run_target "kulanz-$dur" "http://127.0.0.1:$KPORT/v1/decisions" "$TMP/s1.json" "$KPID"
  stop "$KPID"
done
python3 -c "
e=${RPS[echo]}; s=${RPS[kulanz-strict]}; r=${RPS[kulanz-relaxed]}
print(f'ratio strict/echo {s/e:.2f} (target >= 0.60); relaxed/echo {r/e:.2f} (target >= 0.75)')
ce=${CPU[echo]}; cs=${CPU[kulanz-strict]}; cr=${CPU[kulanz-relaxed]}
print(f'server CPU per request: echo {ce:.1f} us, strict {cs:.1f} us, relaxed {cr:.1f} us; echo/kulanz {ce/cs:.2f} strict, {ce/cr:.2f} relaxed')" | tee -a "$OUT"
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT"
echo "results: $OUT" >&2
