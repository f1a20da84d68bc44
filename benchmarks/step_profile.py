"""Where a speed-race model's compiled step spends its time on this CPU, layer by layer, from XLA's own trace.

  .venv/bin/python benchmarks/step_profile.py --model csn --mode train [--top 25]

Builds the same step as benchmarks/speed_race.py (same model, input 4 x 16 x 112 x 112 x 3, AdamW train step or
inference), runs it twice under `jax.profiler.trace`, and sums XLA:CPU's per-thunk times (each fusion, dot or
copy the compiled program runs) by the Flax module that emitted it (from the HLO's op_name metadata) and by
pass (forward, or backward = "transpose(jvp(...))"). Then lists the most expensive thunks with their shapes.
This is how issue 18 found, for example, that a BatchNorm gradient was being written transposed for the next
kernel gradient's matmul. Times are per step (the mean of the two traced runs); the trace itself adds little.
XLA's own convolutions (Eigen) run asynchronously: their trace events cover only the launch. So the wall time
per step is printed too; where it is well above the thunks' total, XLA's convs are the difference (the CSN's
inference with the stem as XLA's conv over space-to-depth input, since replaced: 15 ms of thunks in 87 ms per
step).
"""

from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import os
import re
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

MODULE = re.compile(r"(stem|layer|conv|bn|stage|block|head|lstm|backbone|proj|downsample|fc)")


def _thunk_times(trace_dir: str, runs: int) -> collections.Counter:
  path = sorted(glob.glob(os.path.join(trace_dir, "**", "*.trace.json.gz"), recursive=True))[-1]
  with gzip.open(path) as f:
    events = json.load(f)
  events = events["traceEvents"] if isinstance(events, dict) else events
  times = collections.Counter()
  for e in events:
    if e.get("ph") == "X":
      times[e["name"]] += e.get("dur", 0) / 1e3 / runs  # us -> ms per step
  return times


def _hlo_ops(hlo_text: str) -> dict[str, tuple[str, str]]:
  """instruction name -> (shape, op_name metadata), for the instructions the thunks are named after."""
  ops = {}
  for line in hlo_text.splitlines():
    m = re.match(r"\s*(?:ROOT )?%(\S+) = (\S+) \w+\(", line)
    if m:
      op = re.search(r'op_name="([^"]*)"', line)
      ops.setdefault(m.group(1), (m.group(2), op.group(1) if op else ""))
  return ops


def _module_and_pass(op_name: str) -> tuple[str, str]:
  passname = "backward" if "transpose(" in op_name else "forward"
  parts = re.sub(r"[\w.-]+\(|\)", "", op_name).split("/")[1:]
  module = "/".join(p for p in parts if MODULE.match(p)) or (parts[0] if parts else "?")
  return module, passname


def main() -> None:
  import speed_race

  ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  ap.add_argument("--model", choices=speed_race.MODELS, required=True)
  ap.add_argument("--mode", choices=("train", "infer"), default="train")
  ap.add_argument("--top", type=int, default=25)
  a = ap.parse_args()
  from vidjax import host_memory

  host_memory.keep_freed_memory()  # as the race's workers: before JAX's CPU backend starts
  import jax

  compiled, run, _ = speed_race.jax_step(a.model, a.mode, (4, 16, 112, 112, 3))
  run()
  run()
  trace_dir = tempfile.mkdtemp(prefix="vidjax_profile_")
  try:
    with jax.profiler.trace(trace_dir, create_perfetto_trace=True):
      start = time.perf_counter()
      run()
      run()
      wall_ms = (time.perf_counter() - start) / 2 * 1e3
    times = _thunk_times(trace_dir, runs=2)
  finally:
    shutil.rmtree(trace_dir, ignore_errors=True)
  ops = _hlo_ops(compiled.as_text())
  known = {k: v for k, v in times.items() if k in ops}
  by_module = collections.Counter()
  for k, t in known.items():
    by_module[_module_and_pass(ops[k][1])] += t
  print(f"{a.model} {a.mode}: {wall_ms:.0f} ms per step (wall), {sum(known.values()):.0f} ms in {len(known)} XLA thunks")
  print("\nby module and pass (ms per step)")
  for (module, passname), t in by_module.most_common(a.top):
    print(f"{t:8.1f}  {passname:8s}  {module}")
  print("\nmost expensive thunks (ms per step, output shape, op_name)")
  for k, t in sorted(known.items(), key=lambda kv: -kv[1])[:a.top]:
    shape, op = ops[k]
    print(f"{t:8.1f}  {k[:30]:30s} {shape[:34]:34s} {op[-90:]}")


if __name__ == "__main__":
  main()
