#!/usr/bin/env bash
# Creates ./.venv with the pinned packages. Idempotent: pip runs only when a
# requirements file changed since the last successful install.
#   bash scripts/setup.sh          # runtime packages
#   bash scripts/setup.sh --dev    # plus the test tools
set -euo pipefail
cd "$(dirname "$0")/.."
files=(requirements.txt)
[ "${1:-}" = "--dev" ] && files+=(requirements-dev.txt)
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=".venv/.installed-$(cat "${files[@]}" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "${files[@]/#/-r}"
  touch "$stamp"
fi
