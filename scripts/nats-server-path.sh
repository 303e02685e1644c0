#!/usr/bin/env bash
# Prints the path of the nats-server that the tests, scripts/cluster.sh and
# bench/cluster.sh run: $KULANZ_NATS_SERVER when set, else the one that
# scripts/install-test-deps.sh installs into target/nats-venv. Exits 1, naming the install
# script, when that binary is missing. Never falls back to a nats-server on PATH (Debian's
# 2.9 is too old for the durability this project relies on).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="${KULANZ_NATS_SERVER:-$root/target/nats-venv/bin/nats-server}"
if [ ! -x "$bin" ]; then
    echo "nats-server not found at $bin: run scripts/install-test-deps.sh" >&2
    exit 1
fi
echo "$bin"
