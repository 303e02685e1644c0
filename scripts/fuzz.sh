#!/usr/bin/env bash
# Long hostile-input run: every target of tests/fuzz.rs with PROPTEST_CASES cases each
# (default 20000), in a release build. A failure prints the minimal input and is saved
# in tests/fuzz.proptest-regressions, which later runs replay first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PROPTEST_CASES="${PROPTEST_CASES:-20000}"
exec cargo test --release --locked --test fuzz -- --test-threads "${FUZZ_THREADS:-2}"
