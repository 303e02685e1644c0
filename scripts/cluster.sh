#!/usr/bin/env bash
# kulanz cluster mode on one machine: a 3-node NATS JetStream cluster and 3 kulanz
# replicas on loopback ports (docs/cluster.md explains the topology).
#
#   scripts/cluster.sh up              # start (or start again) everything; print URLs and a key
#   scripts/cluster.sh up --nats-only  # only the NATS cluster
#   scripts/cluster.sh status          # each NATS node's JetStream state, each replica's /readyz
#   scripts/cluster.sh down            # stop everything (data is kept; `up` starts it again)
#   scripts/cluster.sh clean           # down, then remove the run directory
#
# Every NATS node runs deploy/nats/nats-node.conf.template rendered for it (the same
# configuration the tests run and the docs describe), with the nats-server that
# scripts/install-test-deps.sh installs (scripts/nats-server-path.sh). The run directory,
# target/cluster/ (CLUSTER_DIR), holds for each node nats/nN.{conf,log,pid} and its
# JetStream store nats/nN/, and for each replica rN/{data/,log,pid}.
#
# The first `up` seeds the demo data once, through the log: replica r1 alone starts with
# --demo, and only while its data directory does not exist yet; the key it prints is kept
# in api-key. Later `up`s start every replica without --demo (a --demo start revokes the
# previous demo key) and print the kept key.
#
# Environment: CLUSTER_DIR; CLUSTER_NAME (kulanz); NATS_CLIENT_PORT (24222: nodes use it
# and the next two), NATS_ROUTE_PORT (26222), NATS_MONITOR_PORT (28222); KULANZ_PORT
# (28081: replicas use it and the next two); KULANZ_BIN (default: the release build,
# built when missing); KULANZ_ARGS (extra `serve` flags for every replica, e.g.
# "--rate-limit-per-sec 0"); READY_SECS (60).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
DIR=${CLUSTER_DIR:-$ROOT/target/cluster}
NAME=${CLUSTER_NAME:-kulanz}
NATS_CLIENT_PORT=${NATS_CLIENT_PORT:-24222}
NATS_ROUTE_PORT=${NATS_ROUTE_PORT:-26222}
NATS_MONITOR_PORT=${NATS_MONITOR_PORT:-28222}
KULANZ_PORT=${KULANZ_PORT:-28081}
KULANZ=${KULANZ_BIN:-$TARGET/release/kulanz}
READY_SECS=${READY_SECS:-60}
NODES=(1 2 3)
TEMPLATE=$ROOT/deploy/nats/nats-node.conf.template

nats_client_port() { echo $((NATS_CLIENT_PORT + $1 - 1)); }
nats_route_port() { echo $((NATS_ROUTE_PORT + $1 - 1)); }
nats_monitor_port() { echo $((NATS_MONITOR_PORT + $1 - 1)); }
kulanz_port() { echo $((KULANZ_PORT + $1 - 1)); }
nats_urls() {
  local urls=() i
  for i in "${NODES[@]}"; do urls+=("nats://127.0.0.1:$(nats_client_port "$i")"); done
  (IFS=,; echo "${urls[*]}")
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
# http_status URL -> the status code, 000 when nothing answers
http_status() { curl -s -o /dev/null -m 2 -w '%{http_code}' "$1" || true; }
# wait_200 URL WHAT PIDFILE LOG: poll until URL answers 200, the process dies, or READY_SECS pass
wait_200() {
  local url=$1 what=$2 pidfile=$3 log=$4 deadline=$((SECONDS + READY_SECS))
  until [ "$(http_status "$url")" = 200 ]; do
    if ! alive "$pidfile"; then
      echo "$what exited; the end of $log:" >&2; tail -n 20 "$log" >&2; return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "$what not ready after ${READY_SECS}s ($url: $(curl -s -m 2 "$url" || true)); the end of $log:" >&2
      tail -n 20 "$log" >&2; return 1
    fi
    sleep 0.1
  done
}
port_free() { ! (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }

# Renders the shipped template for node $1 (the same placeholders the Rust harness fills).
render_node() {
  local i=$1 routes=() j
  for j in "${NODES[@]}"; do routes+=("\"nats-route://127.0.0.1:$(nats_route_port "$j")\""); done
  local joined; joined=$(IFS=,; echo "${routes[*]}"); joined=${joined//,/, }
  sed -e "s|@SERVER_NAME@|n$i|g" -e "s|@CLUSTER_NAME@|$NAME|g" -e "s|@HOST@|127.0.0.1|g" \
      -e "s|@CLIENT_PORT@|$(nats_client_port "$i")|g" -e "s|@CLUSTER_PORT@|$(nats_route_port "$i")|g" \
      -e "s|@MONITOR_PORT@|$(nats_monitor_port "$i")|g" -e "s|@STORE_DIR@|$DIR/nats/n$i|g" \
      -e "s|@ROUTES@|$joined|g" "$TEMPLATE"
}

nats_up() {
  local bin i
  bin=$("$ROOT/scripts/nats-server-path.sh")
  mkdir -p "$DIR/nats"
  for i in "${NODES[@]}"; do
    local pidfile=$DIR/nats/n$i.pid
    if alive "$pidfile"; then echo "nats n$i already running (pid $(cat "$pidfile"))"; continue; fi
    for p in "$(nats_client_port "$i")" "$(nats_route_port "$i")" "$(nats_monitor_port "$i")"; do
      port_free "$p" || { echo "port $p is taken: set NATS_CLIENT_PORT/NATS_ROUTE_PORT/NATS_MONITOR_PORT" >&2; exit 1; }
    done
    render_node "$i" > "$DIR/nats/n$i.conf"
    "$bin" -c "$DIR/nats/n$i.conf" -t >/dev/null 2>&1 || { "$bin" -c "$DIR/nats/n$i.conf" -t; exit 1; }
    nohup "$bin" -c "$DIR/nats/n$i.conf" >>"$DIR/nats/n$i.log" 2>&1 </dev/null &
    echo $! > "$pidfile"
  done
  # Plain /healthz: routes up, in contact with the JetStream meta leader and current with
  # it, every stream replica on the node current.
  for i in "${NODES[@]}"; do
    wait_200 "http://127.0.0.1:$(nats_monitor_port "$i")/healthz" "nats n$i" "$DIR/nats/n$i.pid" "$DIR/nats/n$i.log"
  done
  echo "NATS cluster $NAME up: $(nats_urls) ($("$bin" --version))"
}

kulanz_up() {
  if ! [ -x "$KULANZ" ]; then
    if [ -n "${KULANZ_BIN:-}" ]; then echo "KULANZ_BIN=$KULANZ is not executable" >&2; exit 1; fi
    echo "building $KULANZ" >&2
    cargo build --release --locked --bin kulanz >&2
  fi
  if ! "$KULANZ" serve --help | grep -q -- '--cluster '; then
    echo "$KULANZ has no 'serve --cluster' (cluster mode, issue 28, is not in this build);" \
         "the NATS cluster is up, no replica started" >&2
    exit 2
  fi
  local r
  for r in "${NODES[@]}"; do
    kulanz_start "$r"
    # r1 first and alone: on the very first start it creates the stream and seeds the demo
    # data through it, before the others start applying the log.
    [ "$r" = 1 ] && kulanz_wait "$r"
  done
  for r in "${NODES[@]:1}"; do kulanz_wait "$r"; done
  if [ -f "$DIR/r1/demo-pending" ]; then
    # The banner names the key on the line after this one (as bench/http.sh reads it).
    grep -A1 'API key with every scope' "$DIR/r1/log" | tail -n 1 | tr -d ' ' > "$DIR/api-key"
    rm "$DIR/r1/demo-pending"
  fi
}

kulanz_start() {
  local r=$1 dir=$DIR/r$1 demo=()
  mkdir -p "$dir"
  if alive "$dir/pid"; then echo "replica r$r already running (pid $(cat "$dir/pid"))"; return; fi
  port_free "$(kulanz_port "$r")" || { echo "port $(kulanz_port "$r") is taken: set KULANZ_PORT" >&2; exit 1; }
  if [ "$r" = 1 ] && ! [ -d "$dir/data" ]; then demo=(--demo); touch "$dir/demo-pending"; fi
  # shellcheck disable=SC2086 # KULANZ_ARGS is a list of flags
  RUST_LOG=${RUST_LOG:-info} nohup "$KULANZ" serve "${demo[@]}" \
    --cluster "$(nats_urls)" --cluster-name "$NAME" --replica-id "r$r" \
    --listen "127.0.0.1:$(kulanz_port "$r")" --data-dir "$dir/data" \
    --policy-dir "$ROOT/policies" ${KULANZ_ARGS:-} >>"$dir/log" 2>&1 </dev/null &
  echo $! > "$dir/pid"
}

kulanz_wait() {
  wait_200 "http://127.0.0.1:$(kulanz_port "$1")/readyz" "replica r$1" "$DIR/r$1/pid" "$DIR/r$1/log"
}

# stop_pid PIDFILE WHAT: SIGTERM, up to 15 s for a clean exit, then SIGKILL
stop_pid() {
  local pidfile=$1 what=$2 pid
  alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then echo "$what did not stop in 15 s: SIGKILL" >&2; kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$pidfile"
  echo "stopped $what"
}

down() {
  local i
  for i in "${NODES[@]}"; do stop_pid "$DIR/r$i/pid" "replica r$i"; done
  for i in "${NODES[@]}"; do stop_pid "$DIR/nats/n$i.pid" "nats n$i"; done
}

# jsz_summary JSON: the meta leader, totals and each stream's leader and replicas
jsz_summary() {
  python3 - "$1" <<'PY'
import json, sys
try:
    d = json.loads(sys.argv[1])
except ValueError:
    print("    /jsz: no answer")
    sys.exit(0)
meta = d.get("meta_cluster", {})
print("    meta leader %s; streams %s, messages %s, bytes %s; sync_always %s" % (
    meta.get("leader", "-"), d.get("streams", 0), d.get("messages", 0), d.get("bytes", 0),
    d.get("config", {}).get("sync_always")))
for a in d.get("account_details", []):
    for s in a.get("stream_detail", []):
        c, st = s.get("cluster", {}), s.get("state", {})
        peers = ", ".join(r["name"] + ("" if r.get("current") else " (behind)")
                          for r in c.get("replicas", []))
        print("    stream %s: leader %s, peers seen from here [%s], messages %s, last seq %s" % (
            s["name"], c.get("leader", "-"), peers, st.get("messages"), st.get("last_seq")))
PY
}

status() {
  local i
  for i in "${NODES[@]}"; do
    local port; port=$(nats_monitor_port "$i")
    if alive "$DIR/nats/n$i.pid"; then
      printf 'nats n%s pid %s  client nats://127.0.0.1:%s  healthz %s\n' "$i" "$(cat "$DIR/nats/n$i.pid")" \
        "$(nats_client_port "$i")" "$(curl -s -m 2 "http://127.0.0.1:$port/healthz" || echo unreachable)"
      jsz_summary "$(curl -s -m 2 "http://127.0.0.1:$port/jsz?accounts=true&streams=true" || true)"
    else
      echo "nats n$i: not running"
    fi
  done
  for i in "${NODES[@]}"; do
    local url; url="http://127.0.0.1:$(kulanz_port "$i")"
    if alive "$DIR/r$i/pid"; then
      printf 'replica r%s pid %s  %s  /readyz %s %s\n' "$i" "$(cat "$DIR/r$i/pid")" "$url" \
        "$(http_status "$url/readyz")" "$(curl -s -m 2 "$url/readyz" || true)"
    else
      echo "replica r$i: not running"
    fi
  done
  [ -f "$DIR/api-key" ] && echo "API key (every scope): $(cat "$DIR/api-key")"
  return 0
}

case "${1:-}" in
  up)
    nats_up
    if [ "${2:-}" = "--nats-only" ]; then exit 0; fi
    kulanz_up
    echo
    for r in "${NODES[@]}"; do echo "replica r$r: http://127.0.0.1:$(kulanz_port "$r")"; done
    if [ -s "$DIR/api-key" ]; then
      echo "API key with every scope: $(cat "$DIR/api-key")"
    else
      echo "no demo key found in $DIR/r1/log" >&2
    fi
    echo "logs and data: $DIR"
    ;;
  down) down ;;
  status) status ;;
  clean) down; rm -rf "$DIR"; echo "removed $DIR" ;;
  *) echo "usage: $0 up [--nats-only] | down | status | clean" >&2; exit 64 ;;
esac
