"""What keeping freed host memory (vidjax/host_memory.py) buys on this CPU: the same work with and without.

  .venv/bin/python benchmarks/host_memory.py [--rounds 3]

Each round starts one fresh process per setting (VIDJAX_KEEP_FREED_MEMORY=1, then 0) and times, median of 7
calls after a warm-up: a 400 MB elementwise op into a fresh output, the same op into a donated buffer (no new
memory: the floor), R3D-18's layer-1 conv forward (4 x 16 x 56 x 56 x 64, 3x3x3, vidjax's CPU form) and the
speed race's CSN train step. Prints each setting's median over rounds, in ms, and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = ("elementwise, fresh output", "elementwise, donated", "R3D layer-1 conv forward", "CSN train step")


def worker() -> dict:
  from vidjax import host_memory

  state = host_memory.keep_freed_memory()
  import jax
  import jax.numpy as jnp
  import numpy as np

  sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
  import speed_race
  from conv_profile import med

  from vidjax.models import layers

  big = jnp.ones((100_000_000,), jnp.float32)
  double = jax.jit(lambda a: a * 2)
  donated = jax.jit(lambda a: a * 2, donate_argnums=0)
  buf = [jnp.ones((100_000_000,), jnp.float32)]

  def in_place():
    buf[0] = jax.block_until_ready(donated(buf[0]))

  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.normal(size=(4, 16, 56, 56, 64)).astype(np.float32))
  conv = layers.Conv3D(64, (3, 3, 3))
  params = conv.init(jax.random.key(0), x)
  conv_fwd = jax.jit(conv.apply)
  _, csn_step, _ = speed_race.jax_step("csn", "train", (4, 16, 112, 112, 3))
  calls = [lambda: jax.block_until_ready(double(big)), in_place, lambda: jax.block_until_ready(conv_fwd(params, x)),
           csn_step]
  times = [1e3 * med(call, 7) for call in calls]
  return {"malloc": state, "ms": times}


def main() -> None:
  ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  ap.add_argument("--rounds", type=int, default=3)
  ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
  a = ap.parse_args()
  if a.worker:
    print(json.dumps(worker()))
    return
  runs: dict[str, list[list[float]]] = {"1": [], "0": []}
  for _ in range(a.rounds):
    for setting in runs:
      env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
      env.update(PYTHONPATH=ROOT, VIDJAX_KEEP_FREED_MEMORY=setting)
      out = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker"], env=env, capture_output=True,
                           text=True, check=True)
      result = json.loads(out.stdout.strip().splitlines()[-1])
      print(f"  VIDJAX_KEEP_FREED_MEMORY={setting} ({result['malloc']}): "
            + ", ".join(f"{t:.0f}" for t in result["ms"]), flush=True)
      runs[setting].append(result["ms"])
  print(f"{os.cpu_count()} CPUs; ms, median over {a.rounds} rounds")
  print("| work | freed memory kept | glibc default | speed-up |")
  print("|---|---|---|---|")
  for i, case in enumerate(CASES):
    kept = statistics.median(r[i] for r in runs["1"])
    default = statistics.median(r[i] for r in runs["0"])
    print(f"| {case} | {kept:.0f} | {default:.0f} | {default / kept:.2f}x |")


if __name__ == "__main__":
  main()
