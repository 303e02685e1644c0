#!/usr/bin/env bash
# Schemathesis against the running service: builds kulanz, starts `kulanz serve --demo`
# over a temporary data directory on a free port, and runs every check of `st run`, in
# every phase, on every operation of /openapi.json with the demo key. Exits non-zero on any
# failure. .ci/run runs it.
#
#   scripts/schemathesis.sh                    # 50 examples per operation
#   MAX_EXAMPLES=500 scripts/schemathesis.sh   # a longer run
#
# Two files go with it:
# - scripts/schemathesis_hooks.py makes generated valid data follow the rules the document
#   cannot state (the active policy's vocabulary and currency, fields that must agree, one
#   Idempotency-Key per request), and sends NDJSON bodies as their text;
# - scripts/schemathesis.toml lets two operations answer 422 to valid data, each for a
#   reason no schema can state (a policy document's semantic checks; a value fit that the
#   stored orders cannot support).
#
# Schemathesis is installed with pip into a virtualenv under target/ (SCHEMATHESIS_VENV to
# use another). Extra arguments are passed to `st run`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target="${CARGO_TARGET_DIR:-$root/target}"
venv="${SCHEMATHESIS_VENV:-$root/target/schemathesis-venv}"
version="${SCHEMATHESIS_VERSION:-4.32.5}"

if [ ! -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "schemathesis==$version"
fi

cargo build --locked --quiet
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

RUST_LOG="${RUST_LOG:-warn}" "$target/debug/kulanz" serve --demo --data-dir "$work/data" \
  --policy-dir "$root/policies" --listen 127.0.0.1:0 --rate-limit-per-sec 0 >"$work/stdout" 2>"$work/stderr" &
server_pid=$!

base="" key=""
for _ in $(seq 1 300); do
  base=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/stdout" | head -n1 || true)
  key=$(grep -oE 'kz_[0-9a-f]{64}' "$work/stdout" | head -n1 || true)
  if [ -n "$base" ] && [ -n "$key" ]; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then cat "$work/stderr" >&2; exit 1; fi
  sleep 0.1
done
if [ -z "$base" ] || [ -z "$key" ]; then echo "error: the demo server printed no address or key" >&2; exit 1; fi

SCHEMATHESIS_HOOKS="$root/scripts/schemathesis_hooks.py" \
"$venv/bin/st" --config-file "$root/scripts/schemathesis.toml" run "$base/openapi.json" \
  --header "Authorization: Bearer $key" \
  --checks all \
  --max-examples "${MAX_EXAMPLES:-50}" \
  --seed "${SCHEMATHESIS_SEED:-1}" \
  --no-color \
  "$@"
