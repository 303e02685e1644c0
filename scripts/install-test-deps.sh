#!/usr/bin/env bash
# Installs what the test suite needs beyond Rust: Debian's Chromium and ChromeDriver for
# the widget's browser test (tests/widget_browser.rs). Idempotent: installs only what is
# missing, and never downloads a browser from anywhere but Debian's archive.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
if [ "${#missing[@]}" -eq 0 ]; then
    echo "test deps present: $(/usr/bin/chromium --version 2>/dev/null | head -n1)"
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
echo "installing ${missing[*]} from Debian"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
