#!/usr/bin/env bash
# The test command: builds the environment if needed, lints, runs every test (slow ones included) in parallel.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
.venv/bin/ruff check .
# one worker per core (PYTEST_WORKERS to change), each handed the next test when it is free; the longest
# tests are collected first (tests/conftest.py), so no core idles at the end
exec .venv/bin/python -m pytest -n "${PYTEST_WORKERS:-auto}" --dist load "$@"
