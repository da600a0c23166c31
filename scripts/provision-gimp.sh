#!/usr/bin/env bash
# Make GIMP 3 (gimp-console-3.0 with Python plug-ins) available to scripts/gimp-run.sh.
#
#   scripts/provision-gimp.sh          idempotent: fast when GIMP 3 is already there
#
# Decided by version, not by release name: when apt's candidate for `gimp` is >= 3 (Debian 13
# and later), GIMP is installed on the host. Otherwise (Debian 12) a Debian 13 tree with GIMP 3
# is built once by mmdebstrap into $STYLE_CORE_GIMP3_ROOT (default
# /var/cache/style-core-gimp3/trixie), built into ROOT.partial and renamed when complete, and
# reused afterwards; scripts/gimp-run.sh runs commands in it through unshare + chroot. The
# host's own apt sources and libc are never touched.
set -euo pipefail

root=${STYLE_CORE_GIMP3_ROOT:-/var/cache/style-core-gimp3/trixie}
suite=${STYLE_CORE_GIMP3_SUITE:-trixie}
packages=gimp,python3-gi,gir1.2-gimp-3.0

say() { echo "provision-gimp: $*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

host_has_gimp3() {
    command -v gimp-console-3.0 >/dev/null 2>&1 &&
        env -i PATH=/usr/local/bin:/usr/bin:/bin python3 -c \
            "import gi; gi.require_version('Gimp', '3.0'); from gi.repository import Gimp" \
            >/dev/null 2>&1
}

candidate_major() {  # major version of apt's candidate for gimp, 0 when there is none
    local version
    version=$(LC_ALL=C apt-cache policy gimp 2>/dev/null | awk '/Candidate:/ {print $2}')
    version=${version#*:}  # drop an epoch
    case $version in [0-9]*) echo "${version%%[!0-9]*}" ;; *) echo 0 ;; esac
}

if host_has_gimp3; then
    say "GIMP 3 is installed on this host: $(command -v gimp-console-3.0)"
    exit 0
fi

if [ -x "$root/usr/bin/gimp-console-3.0" ]; then
    say "reusing the Debian 13 tree with GIMP 3 in $root"
    exit 0
fi

if [ "$(candidate_major)" -lt 3 ]; then
    as_root apt-get update -qq || true
fi

if [ "$(candidate_major)" -ge 3 ]; then
    say "installing GIMP 3 from this host's apt sources"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        gimp python3-gi gir1.2-gimp-3.0
    host_has_gimp3 || { say "gimp was installed but gimp-console-3.0 or its Python is missing"; exit 1; }
    exit 0
fi

say "apt offers only GIMP $(candidate_major) here; building a Debian 13 tree with GIMP 3 in $root"
if ! command -v mmdebstrap >/dev/null 2>&1; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mmdebstrap
fi
as_root mkdir -p "$(dirname "$root")"
as_root rm -rf "$root.partial"
as_root mmdebstrap --quiet --variant=apt --include="$packages" "$suite" "$root.partial"
[ -x "$root.partial/usr/bin/gimp-console-3.0" ] || { say "the tree has no gimp-console-3.0"; exit 1; }
as_root mv "$root.partial" "$root"
say "built $root ($(du -sh "$root" 2>/dev/null | cut -f1))"
