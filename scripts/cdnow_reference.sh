#!/usr/bin/env bash
# Regenerate tests/fixtures/cdnow_{summary.csv,reference.json,orders.csv,holdout_reference.json}
# with the Python `lifetimes` library, installed in a throwaway virtualenv. Needs python3 and network access to PyPI.
# Only needed when the reference must be regenerated: `cargo test` reads the committed files.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${VENV:-$(mktemp -d)/venv}"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet "lifetimes==0.11.3"
"$venv/bin/python" scripts/cdnow_reference.py tests/fixtures
"$venv/bin/python" scripts/cdnow_holdout_reference.py tests/fixtures
