#!/usr/bin/env bash
# Cluster-mode benchmark: `POST /v1/decisions` against 3 kulanz replicas on a 3-node NATS
# JetStream cluster (scripts/cluster.sh, the shipped NATS configuration) and against one
# embedded single node (`--durability strict`), in the same run on the same machine.
#
#   bench/cluster.sh                   # results in bench/results/cluster-<timestamp>.txt
#   REPS=1 SECONDS_PER_RUN=5 bench/cluster.sh
#
# Measured, for the single node and for the cluster:
# - saturation: closed loop, CONNS connections (the cluster: CONNS/3 on each replica, one
#   oha per replica at once; decisions/s is their sum);
# - p50/p99 at RATE decisions/s (1,000; the cluster: RATE/3 on each replica) and at 80%
#   of saturation, open loop (`oha -q`). The cluster's percentiles are over every request
#   of the three load generators together (from oha's per-request CSV);
# - failover (cluster only): a constant FAILOVER_RATE run of FAILOVER_SECS; KILL_AT
#   seconds in, the NATS node leading the log stream's RAFT group (from /jsz) gets
#   SIGKILL. Reported: requests answered non-2xx or not at all, the window from the first
#   failed request to the end of the last one, and requests slower than 1 s. The node is
#   started again afterwards (scripts/cluster.sh up --nats-only).
#
# The load generator `oha` is installed into target/tools when missing, as bench/http.sh
# does; it shares the machine (and its cores) with 3 NATS nodes and 3 replicas, so the
# cluster's absolute numbers here are a floor for the same software on separate hosts.
#
# Environment: REPS (3), SECONDS_PER_RUN (8), CONNS (30), RATE (1000), FAILOVER_RATE
# (1000), FAILOVER_SECS (30), KILL_AT (10), STREAM (the log stream's name; default the
# stream with the most messages that is not a KV bucket or object store), KULANZ_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
TOOLS=${KULANZ_TOOLS:-$ROOT/target/tools}
REPS=${REPS:-3}
SECS=${SECONDS_PER_RUN:-8}
CONNS=${CONNS:-30}
RATE=${RATE:-1000}
FAILOVER_RATE=${FAILOVER_RATE:-1000}
FAILOVER_SECS=${FAILOVER_SECS:-30}
KILL_AT=${KILL_AT:-10}
OUT=${OUT:-$ROOT/bench/results/cluster-$(date -u +%Y%m%dT%H%M%SZ).txt}
SPORT=${SPORT:-38090}

OHA=$TOOLS/bin/oha
if ! [ -x "$OHA" ]; then
  if command -v oha >/dev/null; then OHA=$(command -v oha); else
    echo "installing oha into $TOOLS" >&2
    cargo install oha --locked --root "$TOOLS" >&2
  fi
fi
KULANZ=${KULANZ_BIN:-$TARGET/release/kulanz}
if [ -z "${KULANZ_BIN:-}" ]; then cargo build --release --locked --bin kulanz >&2; fi
if ! "$KULANZ" serve --help | grep -q -- '--cluster '; then
  echo "$KULANZ has no 'serve --cluster' (cluster mode, issue 28): nothing to measure" >&2
  exit 2
fi
NATS=$("$ROOT/scripts/nats-server-path.sh")

TMP=$(mktemp -d)
# The cluster for this run: its own directory and ports, so a `scripts/cluster.sh up`
# cluster can keep running beside it.
export CLUSTER_DIR=$TMP/cluster NATS_CLIENT_PORT=${NATS_CLIENT_PORT:-34222} \
  NATS_ROUTE_PORT=${NATS_ROUTE_PORT:-36222} NATS_MONITOR_PORT=${NATS_MONITOR_PORT:-38222} \
  KULANZ_PORT=${KULANZ_PORT:-38081} KULANZ_BIN=$KULANZ \
  KULANZ_ARGS="--rate-limit-per-sec 0 --log-format json"
SPID=""
cleanup() {
  [ -n "$SPID" ] && { kill "$SPID" 2>/dev/null || true; wait "$SPID" 2>/dev/null || true; }
  "$ROOT/scripts/cluster.sh" down >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT
REPLICAS=()
for r in 0 1 2; do REPLICAS+=("http://127.0.0.1:$((KULANZ_PORT + r))"); done
SINGLE="http://127.0.0.1:$SPORT"

S1='{"ticket_id":"ZD-48213","customer_id":"c-10442","agent":{"id":"a-17","role":"agent"},"complaint":{"category":"cancellation_refund","severity":"medium","channel":"social","fault":"unclear","amount_at_stake":{"amount":"100.00","currency":"EUR"}}}'
printf '%s' "$S1" > "$TMP/s1.json"

# stats.py KIND FILES...: one line "rps p50_ms p99_ms ok_share requests" over every file
# together. KIND json: oha JSON summaries (saturation: rps summed, percentiles the worst);
# KIND csv SECS RATE: oha per-request CSVs of an open-loop run of SECS at RATE in total,
# exact percentiles over all of them, and how many answers short of SECS x RATE it came.
cat > "$TMP/stats.py" <<'PY'
import csv, json, sys
kind = sys.argv[1]
if kind == "json":
    rps = ok = n = 0; p50 = p99 = 0.0
    for f in sys.argv[2:]:
        d = json.load(open(f)); s = d["summary"]; p = d["latencyPercentiles"]
        codes = d.get("statusCodeDistribution", {})
        # Requests still in flight when the run's time is up are aborted: not failures.
        errs = {k: v for k, v in d.get("errorDistribution", {}).items() if "deadline" not in k}
        rps += s["requestsPerSec"] or 0
        ok += sum(v for k, v in codes.items() if k.startswith("2"))
        n += sum(codes.values()) + sum(errs.values())
        p50 = max(p50, (p["p50"] or 0) * 1000); p99 = max(p99, (p["p99"] or 0) * 1000)
    print(f"{rps:.0f} {p50:.3f} {p99:.3f} {ok / max(n, 1):.4f} {n}")
else:
    secs, rate = float(sys.argv[2]), float(sys.argv[3])
    lat = []; ok = 0
    for f in sys.argv[4:]:
        for row in csv.DictReader(open(f)):
            lat.append(float(row["request-duration"]) * 1000)
            ok += row["status"].startswith("2")
    lat.sort(); n = len(lat)
    pct = lambda q: lat[min(n - 1, int(q * n))] if lat else float("nan")
    # A sixth field: answers short of SECS x RATE (the generator could not keep the rate,
    # or requests got no answer at all: oha's CSV lists answers only).
    print(f"{n / secs:.0f} {pct(0.50):.3f} {pct(0.99):.3f} {ok / max(n, 1):.4f} {n} {max(0, round(secs * rate) - n)}")
PY
# failover.py KILL_OFFSET_S SECS RATE FILES...: failed requests, the failure window, slow ones
cat > "$TMP/failover.py" <<'PY'
import csv, sys
kill = float(sys.argv[1]); rows = []
for f in sys.argv[4:]:
    rows += [(float(r["request-start"]), float(r["request-duration"]), r["status"]) for r in csv.DictReader(open(f))]
failed = [r for r in rows if not r[2].startswith("2")]
slow = [r for r in rows if r[2].startswith("2") and r[1] > 1.0]
secs, rate = float(sys.argv[2]), float(sys.argv[3])
print(f"failover: {len(rows)} answers ({max(0, round(secs * rate) - len(rows))} short of {secs:.0f} s x {rate:.0f}/s: "
      f"unanswered or not sent), {len(failed)} non-2xx, {len(slow)} 2xx slower than 1 s; stream leader killed at {kill:.2f} s")
if failed:
    first = min(r[0] for r in failed); last = max(r[0] + r[1] for r in failed)
    codes = sorted({r[2] for r in failed})
    print(f"failover: failed requests from {first - kill:+.2f} s to {last - kill:+.2f} s after the kill: window {last - first:.2f} s (codes {', '.join(codes)})")
if slow:
    print(f"failover: slowest 2xx {max(r[1] for r in slow):.2f} s, started {min(r[0] for r in slow) - kill:+.2f} s to {max(r[0] for r in slow) - kill:+.2f} s after the kill")
PY

ok_or_stop() { # name result
  python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 0.999 else 1)" "$(echo "$2" | cut -d' ' -f4)" && return 0
  echo "$1: only a share of $(echo "$2" | cut -d' ' -f4) of the answers were 2xx; not a measurement" >&2
  tail -n 5 "$CLUSTER_DIR"/r*/log "$TMP/single.log" >&2 || true
  exit 1
}
# oha_run URL CONNS OUTFILE FORMAT [extra oha args]
oha_run() {
  local url=$1 conns=$2 out=$3 fmt=$4; shift 4
  "$OHA" --no-tui --output-format "$fmt" -z "${SECS}s" -c "$conns" -m POST -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $KEY" -D "$TMP/s1.json" "$@" "$url/v1/decisions" > "$out"
}
# saturation TARGET -> "rps p50 p99 ok n"; TARGET single or cluster
saturation() {
  local files=() i
  if [ "$1" = single ]; then
    KEY=$SKEY oha_run "$SINGLE" "$CONNS" "$TMP/sat-0.json" json; files=("$TMP/sat-0.json")
  else
    local pids=()
    for i in 0 1 2; do KEY=$CKEY oha_run "${REPLICAS[$i]}" $((CONNS / 3)) "$TMP/sat-$i.json" json & pids+=($!); done
    wait "${pids[@]}"; files=("$TMP"/sat-{0,1,2}.json)
  fi
  python3 "$TMP/stats.py" json "${files[@]}"
}
# at_rate TARGET RATE -> "rps p50 p99 ok n" (open loop, RATE in total)
at_rate() {
  local rate=$2 i
  rm -f "$TMP"/rate-*.csv
  if [ "$1" = single ]; then
    KEY=$SKEY oha_run "$SINGLE" "$CONNS" "$TMP/rate-0.csv" csv -q "$rate"
  else
    local pids=()
    for i in 0 1 2; do
      # RATE/3 each; the first takes the remainder.
      local q=$((rate / 3)); [ "$i" = 0 ] && q=$((rate - 2 * (rate / 3)))
      KEY=$CKEY oha_run "${REPLICAS[$i]}" $((CONNS / 3)) "$TMP/rate-$i.csv" csv -q "$q" &
      pids+=($!)
    done
    wait "${pids[@]}"
  fi
  python3 "$TMP/stats.py" csv "$SECS" "$rate" "$TMP"/rate-*.csv
}
median() { python3 -c 'import sys,statistics as s; v=[float(x) for x in sys.argv[1:]]; print(f"{s.median(v):.3f}")' "$@"; }

# The log stream and its leader, from a running node's /jsz.
stream_leader() { # -> "STREAM LEADER_NAME"
  local i
  for i in 0 1 2; do
    curl -s -m 2 "http://127.0.0.1:$((NATS_MONITOR_PORT + i))/jsz?accounts=true&streams=true" | python3 -c '
import json, os, sys
try: d = json.load(sys.stdin)
except ValueError: sys.exit(1)
want = os.environ.get("STREAM")
streams = [s for a in d.get("account_details", []) for s in a.get("stream_detail", [])]
if want: streams = [s for s in streams if s["name"] == want]
else: streams = [s for s in streams if not s["name"].startswith(("KV_", "OBJ_"))]
streams.sort(key=lambda s: -s.get("state", {}).get("messages", 0))
if not streams or not streams[0].get("cluster", {}).get("leader"): sys.exit(1)
print(streams[0]["name"], streams[0]["cluster"]["leader"])' && return 0
  done
  return 1
}

echo "starting the cluster" >&2
"$ROOT/scripts/cluster.sh" up >&2
CKEY=$(cat "$CLUSTER_DIR/api-key")
RUST_LOG=info "$KULANZ" serve --demo --listen "127.0.0.1:$SPORT" --data-dir "$TMP/single-data" \
  --policy-dir "$ROOT/policies" --durability strict --rate-limit-per-sec 0 --log-format json >"$TMP/single.log" 2>&1 &
SPID=$!
for _ in $(seq 1 600); do [ "$(curl -s -o /dev/null -m 1 -w '%{http_code}' "$SINGLE/readyz")" = 200 ] && break; sleep 0.1; done
for _ in $(seq 1 50); do grep -q 'API key with every scope' "$TMP/single.log" && break; sleep 0.1; done
SKEY=$(grep -A1 'API key with every scope' "$TMP/single.log" | tail -n 1 | tr -d ' ')

{
echo "# bench/cluster.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) checkout $(git rev-parse --short HEAD)$(git diff --quiet || echo +dirty)"
echo "# kulanz binary: $KULANZ (sha256 $(sha256sum "$KULANZ" | cut -c1-12), built $(date -u -r "$KULANZ" +%Y-%m-%dT%H:%M:%SZ)); $("$NATS" --version); config deploy/nats/nats-node.conf.template (sync_interval always)"
echo "# cluster: 3 NATS nodes + 3 replicas on loopback; single: one embedded node, --durability strict"
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $REPS x ${SECS}s per measurement, $CONNS connections in total, oha $("$OHA" --version | awk '{print $2}')"
} | tee "$OUT"

declare -A SAT
for target in single cluster; do
  rps=()
  for i in $(seq 1 "$REPS"); do
    r=$(saturation "$target"); ok_or_stop "$target" "$r"; rps+=("$(echo "$r" | cut -d' ' -f1)")
    echo "$target saturation run $i: rps p50_ms p99_ms ok_share requests = $r" | tee -a "$OUT"
  done
  SAT[$target]=$(median "${rps[@]}")
  for rate in "$RATE" "$(python3 -c "print(int(${SAT[$target]} * 0.8))")"; do
    p50=(); p99=()
    for i in $(seq 1 "$REPS"); do
      r=$(at_rate "$target" "$rate"); ok_or_stop "$target" "$r"
      p50+=("$(echo "$r" | cut -d' ' -f2)"); p99+=("$(echo "$r" | cut -d' ' -f3)")
      echo "$target at $rate/s run $i: rps p50_ms p99_ms ok_share answers short = $r" | tee -a "$OUT"
    done
    echo "$target at $rate/s: p50 $(median "${p50[@]}") ms, p99 $(median "${p99[@]}") ms" | tee -a "$OUT"
  done
  echo "$target: saturation ${SAT[$target]} decisions/s (median of $REPS)" | tee -a "$OUT"
done
python3 -c "print(f'cluster/single at saturation: {${SAT[cluster]} / ${SAT[single]}:.2f}')" | tee -a "$OUT"

# Failover: constant rate on the three replicas; SIGKILL the log stream's NATS leader.
read -r stream leader < <(stream_leader) || { echo "no stream leader found in /jsz" >&2; exit 1; }
echo "failover: stream $stream, leader $leader; $FAILOVER_RATE/s for ${FAILOVER_SECS}s, SIGKILL at ${KILL_AT}s" | tee -a "$OUT"
rm -f "$TMP"/fo-*.csv
start=$(date +%s.%N)
pids=()  # the load generators only: a bare `wait` would wait for the single node too
for i in 0 1 2; do
  q=$((FAILOVER_RATE / 3)); [ "$i" = 0 ] && q=$((FAILOVER_RATE - 2 * (FAILOVER_RATE / 3)))
  KEY=$CKEY SECS=$FAILOVER_SECS oha_run "${REPLICAS[$i]}" $((CONNS / 3)) "$TMP/fo-$i.csv" csv -q "$q" -t 10s &
  pids+=($!)
done
sleep "$KILL_AT"  # the moment of the fault is the experiment's, not a wait for readiness
# shellcheck disable=SC2046
kill -KILL $(cat "$CLUSTER_DIR/nats/${leader}.pid")
killed=$(date +%s.%N)
wait "${pids[@]}"
python3 "$TMP/failover.py" "$(python3 -c "print($killed - $start)")" "$FAILOVER_SECS" "$FAILOVER_RATE" "$TMP"/fo-*.csv | tee -a "$OUT"
read -r _ new_leader < <(stream_leader) || new_leader="-"
echo "failover: new leader $new_leader" | tee -a "$OUT"
"$ROOT/scripts/cluster.sh" up --nats-only >&2
"$ROOT/scripts/cluster.sh" status >> "$OUT"
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT"
echo "results: $OUT" >&2
