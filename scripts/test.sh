#!/usr/bin/env bash
# Install everything the tests need (a venv with torch, Chromium, GIMP 3) and run them all:
# lint, format check, then pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export GRADIO_ANALYTICS_ENABLED=False HF_HUB_DISABLE_TELEMETRY=1
bash scripts/setup.sh test
bash scripts/provision-browser.sh
bash scripts/provision-gimp.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
