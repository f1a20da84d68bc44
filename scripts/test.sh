#!/usr/bin/env bash
# The test command: builds the environment if needed, lints, runs every test (slow ones included) in parallel.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
# the browser test drives Debian's Chromium (Playwright's and Selenium's own browser downloads need the internet)
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
fi
.venv/bin/ruff check .
# one worker per core (PYTEST_WORKERS to change), each handed the next test when it is free; the longest
# tests are collected first (tests/conftest.py), so no core idles at the end
exec .venv/bin/python -m pytest -n "${PYTEST_WORKERS:-auto}" --dist load "$@"
