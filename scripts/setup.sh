#!/usr/bin/env bash
# Make a venv with torch, then install style_core into it.
# Usage: scripts/setup.sh [EXTRAS]   (default: offline, the weights that need no network; "" installs no extras)
#
# torch goes in first, on its own, so that the package's own `torch>=2.1` is already met
# and pip does not pick a build by itself (on Linux, PyPI's torch is a CUDA build of several GB):
#   1. a torch that already imports in the venv is kept;
#   2. else a torch wheel on this machine's disk (in a find-links folder or a file:// index
#      of pip's configuration) is installed from there: a CPU build (+cpu) first when the
#      machine has no NVIDIA GPU, else the newest that installs;
#   3. else torch comes from the package index pip is configured with (PyPI, or whatever
#      PIP_INDEX_URL / pip.conf name), and the script says so.
# STYLE_CORE_VENV (default .venv) and PYTHON (default python3) choose the venv and its Python.
set -euo pipefail
cd "$(dirname "$0")/.."
extras=${1-offline}
venv=${STYLE_CORE_VENV:-.venv}
py=${PYTHON:-python3}

say() { echo "setup: $*"; }

[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
vpy="$venv/bin/python"
pip=("$vpy" -m pip --disable-pip-version-check)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

torch_works() { "$vpy" -c "import torch" >/dev/null 2>&1; }

# pip restricted to this machine's disk: no configuration files, no PIP_* sources, only the
# find-links folders and file:// indexes that pip's configuration names (see local_sources).
local_pip() {
    env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL -u PIP_NO_INDEX PIP_CONFIG_FILE=/dev/null \
        "${pip[@]}" "$@"
}

# The pip options naming the local sources in pip's configuration, one a line; none if there are none.
local_sources() {
    "${pip[@]}" config list 2>/dev/null | "$vpy" -c '
import os, sys
links, indexes = [], []
for line in sys.stdin:
    key, _, value = line.strip().partition("=")
    option = key.rsplit(".", 1)[-1]
    for item in value.strip().strip("\x27\"").split():
        if not (item.startswith("file:") or os.path.isdir(item)):
            continue
        if option == "find-links" and item not in links:
            links.append(item)
        elif option in ("index-url", "extra-index-url") and item.startswith("file:") and item not in indexes:
            indexes.append(item)
if links or indexes:
    print("\n".join(f"--find-links={item}" for item in links))
    print(f"--index-url={indexes[0]}" if indexes else "--no-index")
    print("\n".join(f"--extra-index-url={item}" for item in indexes[1:]))
' | sed '/^$/d'
}

has_nvidia_gpu() { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; }

# The torch versions on local disk, in the order to try them (a CPU build first without a GPU).
local_torch_versions() {
    local prefer_cpu=0
    has_nvidia_gpu || prefer_cpu=1
    local_pip index versions torch "${sources[@]}" 2>/dev/null | "$vpy" -c '
import sys
versions = []
for line in sys.stdin:
    if line.strip().startswith("Available versions:"):
        versions = [v.strip() for v in line.split(":", 1)[1].split(",") if v.strip()]
if sys.argv[1] == "1":
    versions.sort(key=lambda v: "+cpu" not in v)  # stable: newest first within each group
print("\n".join(versions))
' "$prefer_cpu"
}

# Where the torch wheel of a requirement lies on this machine's disk (a dry run's --report), or fail.
local_wheel_url() {
    local_pip install --dry-run --quiet --no-deps --ignore-installed --report "$scratch/dry.json" \
        "${sources[@]}" "$1" >/dev/null 2>&1 || return 1
    "$vpy" -c 'import json, sys; print(json.load(open(sys.argv[1]))["install"][0]["download_info"]["url"])' \
        "$scratch/dry.json"
}

# Install "$@" (pip arguments), then say which torch went in and where it came from.
install_torch() {
    "${pip[@]}" install --report "$scratch/installed.json" "$@" || return 1
    "$vpy" - "$scratch/installed.json" <<'PY'
import json, sys
for item in json.load(open(sys.argv[1]))["install"]:
    if item["metadata"]["name"].lower() == "torch":
        print(f"setup: installed torch {item['metadata']['version']} from {item['download_info']['url']}")
PY
    torch_works
}

if torch_works; then
    say "keeping the torch already in $venv"
else
    sources=()
    while IFS= read -r option; do sources+=("$option"); done < <(local_sources)
    if [ "${#sources[@]}" -gt 0 ]; then
        while read -r version; do
            [ -n "$version" ] || continue
            url=$(local_wheel_url "torch==$version") || continue
            say "installing torch $version from this machine's disk"
            install_torch --quiet "torch @ $url" && break
            say "torch $version from disk does not install or import here; trying the next" >&2
        done < <(local_torch_versions)
    fi
    if ! torch_works; then
        index=$("${pip[@]}" config get global.index-url 2>/dev/null || true)
        say "no usable torch wheel on this machine's disk; installing torch from the package index" \
            "(${PIP_INDEX_URL:-${index:-https://pypi.org/simple}}); this downloads it, up to a few GB"
        install_torch torch || { say "torch could not be installed from the package index" >&2; exit 1; }
    fi
fi
"${pip[@]}" install --quiet -e ".${extras:+[$extras]}"
"$vpy" -c "import style_core, torch; print('setup: style_core is installed in $venv, with torch', torch.__version__)"
