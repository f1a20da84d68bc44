#!/usr/bin/env bash
# The GPU check, from a bare GPU machine to figures (see benchmarks/device_check.py for what it measures).
#
#   here:  .venv/bin/python benchmarks/device_wheels.py          # the wheels the GPU image lacks, into .whl/
#   there: run(carry=[".whl"], timeout_s=540, command="bash benchmarks/device_check.sh --out=$OUT")
#   CI:    bash benchmarks/device_check.sh --out=DIR --smoke     # tiny sizes on the CPU (tests/benchmarks/test_device_check.py)
#
# Installs .whl/*.whl (if present) into a private target dir, then runs every stage within --budget seconds
# (default 480: the 8 minutes a GPU check may take, the machine's start excluded), writing DIR/device_check.json
# after each stage and DIR/device_check.md at the end. Exits 0 with what it measured if time runs short.
# VIDJAX_SKIP_WHEELS=1 skips the install (the test suite sets it: the wheels are built for the GPU image).
set -uo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-}
if [ -z "$python" ]; then
  if [ -x .venv/bin/python ]; then python=.venv/bin/python; else python=python3; fi
fi
if [ -z "${VIDJAX_SKIP_WHEELS:-}" ] && compgen -G ".whl/*.whl" > /dev/null; then
  SECONDS=0
  site=${TMPDIR:-/tmp}/vidjax_site
  "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" .whl/*.whl \
    || { echo "device_check: installing .whl/ failed" >&2; exit 1; }
  export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
  export VIDJAX_WHEELS_INSTALL_S=$SECONDS  # whole seconds
fi
export PYTHONUNBUFFERED=1
exec "$python" benchmarks/device_check.py "$@"
