#!/usr/bin/env bash
# The test command: builds the environment if needed, lints, runs every test (slow ones included).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
