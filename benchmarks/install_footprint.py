"""What an install costs: venv size, install time (warm pip cache), `main.py --help` and time to the first step.

  python3 benchmarks/install_footprint.py --requirements=requirements.txt --venv=/tmp/venv_after
  git worktree add /tmp/before_tf de783ef                      # the last commit with TensorFlow
  python3 benchmarks/install_footprint.py --requirements=/tmp/before_tf/requirements.txt --venv=/tmp/venv_before \
      --tree=/tmp/before_tf

Creates the venv afresh (the pip cache is warmed by a first, untimed install into a scratch venv unless
--no-warm), times `pip install -r`, sizes the venv, then times, from --tree (the code that goes with those
requirements), `main.py --help` (median of 3) and a one-step training run of configs/csn.py on the embedded
dataset (its store already built by an untimed run) up to the log line of step 1: imports, device set-up,
store opening, model init, compilation and the step itself. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_venv(venv: str, requirements: str) -> float:
  shutil.rmtree(venv, ignore_errors=True)
  subprocess.run([sys.executable, "-m", "venv", venv], check=True)
  pip = [os.path.join(venv, "bin", "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
  subprocess.run([*pip, "--upgrade", "pip"], check=True)
  t = time.perf_counter()
  subprocess.run([*pip, "-r", requirements], check=True)
  return time.perf_counter() - t


def du_mb(path: str) -> float:
  total = 0
  for dirpath, _, files in os.walk(path):
    for f in files:
      p = os.path.join(dirpath, f)
      if not os.path.islink(p):
        total += os.path.getsize(p)
  return total / 2**20


def first_step_seconds(python: str, workdir: str, tree: str) -> float:
  """Seconds from process start to the log line of step 1 (the run then finishes its evaluation, untimed)."""
  cmd = [python, "main.py", "--config=configs/csn.py", f"--workdir={workdir}", "--config.train.num_steps=1",
         "--config.log_every_steps=1", "--config.eval_every_steps=0", "--config.train.warmup_steps=0"]
  t = time.perf_counter()
  p = subprocess.Popen(cmd, cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
  seen = None
  for line in p.stdout:
    if seen is None and re.search(r"step 1/1 \|", line):
      seen = time.perf_counter() - t
  p.wait()
  if seen is None or p.returncode:
    raise RuntimeError(f"{' '.join(cmd)} did not reach step 1 (exit {p.returncode})")
  return seen


def main() -> None:
  ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  ap.add_argument("--requirements", required=True)
  ap.add_argument("--venv", required=True)
  ap.add_argument("--no-warm", action="store_true")
  ap.add_argument("--tree", default=ROOT, help="checkout whose main.py is timed")
  a = ap.parse_args()
  req = os.path.abspath(a.requirements)
  if not a.no_warm:
    make_venv(a.venv, req)  # fills the pip cache
  install_s = make_venv(a.venv, req)
  python = os.path.join(a.venv, "bin", "python")
  helps = []
  for _ in range(3):
    t = time.perf_counter()
    subprocess.run([python, "main.py", "--help"], cwd=a.tree, capture_output=True)  # absl exits 1 after --help
    helps.append(time.perf_counter() - t)
  with tempfile.TemporaryDirectory() as tmp:
    first_step_seconds(python, os.path.join(tmp, "warm"), a.tree)  # builds the store if needed, untimed
    steps = [first_step_seconds(python, os.path.join(tmp, f"run{i}"), a.tree) for i in range(3)]
  tf = subprocess.run([python, "-c", "import importlib.util as u; print(u.find_spec('tensorflow') is not None)"],
                      capture_output=True, text=True).stdout.strip()
  print(json.dumps({"requirements": a.requirements, "tensorflow_installed": tf == "True",
                    "install_s": round(install_s, 1), "venv_mb": round(du_mb(a.venv)),
                    "help_s": round(statistics.median(helps), 2), "first_step_s": round(statistics.median(steps), 1)}))


if __name__ == "__main__":
  main()
