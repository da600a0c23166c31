#!/usr/bin/env bash
# Make sure Debian's Chromium is at /usr/bin/chromium for the browser tests (Playwright drives
# it; no Playwright browser is ever downloaded). Idempotent: does nothing when it is there.
# Usage: scripts/provision-browser.sh   (run as root, or with sudo available)
set -euo pipefail

CHROMIUM=/usr/bin/chromium
[ -x "$CHROMIUM" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo -n)
else
    echo "provision-browser: $CHROMIUM is missing and this user can't install it (no root, no sudo)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "provision-browser: installing Debian's chromium (apt-get)" >&2
${as_root[@]+"${as_root[@]}"} apt-get update -qq >/dev/null
${as_root[@]+"${as_root[@]}"} apt-get install -y -qq --no-install-recommends chromium >/dev/null
[ -x "$CHROMIUM" ] || { echo "provision-browser: apt-get ran but $CHROMIUM is still missing" >&2; exit 1; }
echo "provision-browser: $("$CHROMIUM" --version 2>/dev/null)" >&2
