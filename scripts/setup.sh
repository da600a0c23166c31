#!/usr/bin/env bash
# Make .venv with a torch/torchvision pair that lies on this machine's disk, then
# install style_core into it. Usage: scripts/setup.sh [EXTRAS]   (default: offline,examples)
#
# torch must be installed before the package: otherwise pip resolves `torch` on its own
# and may pull a multi-GB build from the network. Only a pair whose wheels pip finds on
# local disk (file:// URLs) is installed, and only one that imports together
# (torchvision.ops.nms works) is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
extras=${1:-offline,examples}
venv=${STYLE_CORE_VENV:-.venv}
py=${PYTHON:-python3}

[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
vpy="$venv/bin/python"
pip=("$vpy" -m pip --disable-pip-version-check)

pair_works() { "$vpy" -c "import torch, torchvision.ops; torchvision.ops.nms" >/dev/null 2>&1; }

pair_is_local() {  # true when pip would take every wheel of "$@" from local disk
    local report
    report=$(mktemp)
    "${pip[@]}" install --dry-run --quiet --no-deps --ignore-installed --report "$report" "$@" \
        >/dev/null 2>&1 || { rm -f "$report"; return 1; }
    "$vpy" - "$report" <<'PY'
import json, sys
items = json.load(open(sys.argv[1]))["install"]
sys.exit(0 if items and all(i["download_info"]["url"].startswith("file:") for i in items) else 1)
PY
    local rc=$?
    rm -f "$report"
    return $rc
}

if ! pair_works; then
    debian=$(cut -d. -f1 /etc/debian_version 2>/dev/null || echo 0)
    cuda_pair="torch==2.14.1 torchvision==0.29.1"   # Debian 12 image: CUDA build, runs on CPU
    cpu_pair="torch==2.13.0+cpu torchvision==0.28.0+cpu"  # Debian 13 image
    if [ "$debian" -ge 13 ]; then pairs=("$cpu_pair" "$cuda_pair"); else pairs=("$cuda_pair" "$cpu_pair"); fi
    for pair in "${pairs[@]}"; do
        # shellcheck disable=SC2086
        if pair_is_local $pair; then
            echo "setup: installing $pair from local disk"
            # shellcheck disable=SC2086
            "${pip[@]}" install --quiet $pair
            pair_works && break
            echo "setup: $pair does not import together here; trying the next pair" >&2
        fi
    done
    pair_works || { echo "setup: no matching torch/torchvision pair on local disk" >&2; exit 1; }
fi
"${pip[@]}" install --quiet -e ".[${extras}]"
"$vpy" -c "import torch, torchvision; print('setup: torch', torch.__version__, 'torchvision', torchvision.__version__)"
