#!/usr/bin/env bash
# Run a command where GIMP 3 is: on the host when it has GIMP 3, otherwise inside the Debian 13
# tree that scripts/provision-gimp.sh built, through unshare + chroot.
#
#   scripts/gimp-run.sh gimp-console-3.0 -i -n --batch-interpreter=python-fu-eval -b - --quit < x.py
#
# Either way the command starts in the current folder with a clean PATH (so a plug-in's
# `#!/usr/bin/env python3` finds GIMP's Python with gi, not an activated virtualenv) and without
# PYTHONPATH/PYTHONHOME/VIRTUAL_ENV. In the tree, the repository, /tmp, the current folder and the
# Python environment that has style_core (STYLE_CORE_PYTHON, default .venv/bin/python: its
# sys.prefix and sys.base_prefix) are bound at the same absolute paths, so paths and the
# plug-in's recorded Python mean the same inside and out. STYLE_CORE_GIMP_BIND adds more
# folders (colon-separated). The mounts vanish when the command exits, even on failure.
set -euo pipefail

[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARG ...]" >&2; exit 2; }

repo=$(cd "$(dirname "$0")/.." && pwd -P)
root=${STYLE_CORE_GIMP3_ROOT:-/var/cache/style-core-gimp3/trixie}
clean_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
unset_env=(-u PYTHONPATH -u PYTHONHOME -u VIRTUAL_ENV -u LD_LIBRARY_PATH -u XDG_RUNTIME_DIR
    -u DBUS_SESSION_BUS_ADDRESS)

if command -v gimp-console-3.0 >/dev/null 2>&1; then
    exec env "${unset_env[@]}" PATH="$clean_path" "$@"
fi

if [ ! -x "$root/usr/bin/gimp-console-3.0" ]; then
    echo "gimp-run: no GIMP 3 on this host and no tree in $root; run scripts/provision-gimp.sh" >&2
    exit 69
fi

python=${STYLE_CORE_PYTHON:-$repo/.venv/bin/python}
binds=("$repo" /tmp "$PWD")
if [ -x "$python" ]; then
    # The venv and the interpreter it was made from (sys.base_prefix), e.g. a pyenv build.
    mapfile -t prefixes < <("$python" -c 'import sys; print(sys.prefix); print(sys.base_prefix)')
    binds+=("${prefixes[@]}")
fi
if [ -n "${STYLE_CORE_GIMP_BIND:-}" ]; then
    IFS=: read -r -a extra <<<"$STYLE_CORE_GIMP_BIND"
    binds+=("${extra[@]}")
fi

# Keep each folder once, parents before children; skip those inside one already bound.
mapfile -t binds < <(printf '%s\n' "${binds[@]}" | xargs -d '\n' realpath -e 2>/dev/null |
    awk '{ print length($0) "\t" $0 }' | sort -n | cut -f2- |
    awk '{ for (i = 1; i <= n; i++) if ($0 == kept[i] || index($0, kept[i] "/") == 1 || kept[i] == "/") next;
           kept[++n] = $0; print }')

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo --preserve-env "$@"; fi; }

# shellcheck disable=SC2016
as_root unshare --mount --propagation private -- bash -c '
    set -e
    root=$1 cwd=$2 clean_path=$3 nbinds=$4
    shift 4
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    mount --rbind /sys "$root/sys"
    for ((i = 0; i < nbinds; i++)); do
        mkdir -p "$root$1"
        mount --bind "$1" "$root$1"
        shift
    done
    exec chroot "$root" /usr/bin/env -C "$cwd" \
        -u PYTHONPATH -u PYTHONHOME -u VIRTUAL_ENV -u LD_LIBRARY_PATH -u XDG_RUNTIME_DIR \
        -u DBUS_SESSION_BUS_ADDRESS PATH="$clean_path" "$@"
' gimp-run "$root" "$PWD" "$clean_path" "${#binds[@]}" "${binds[@]}" "$@"
