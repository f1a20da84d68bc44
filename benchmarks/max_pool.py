"""Forward + backward time of the 2D backbones' 2 x 2 max pool after a BatchNorm-like scaling and leaky ReLU,
compiled whole, under each pool form (vidjax/ops/max_pool.py): the CPU form against XLA's select-and-scatter.

  .venv/bin/python benchmarks/max_pool.py [--repeats=5]

Prints one JSON line per form with the median ms (compile excluded) at 128 x 112 x 112 x 32 (the CNN+LSTM's first
stage: 16 clips x 8 frames).
"""

import importlib
import json
import os
import statistics
import sys
import time

from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FLAGS = flags.FLAGS
flags.DEFINE_integer("repeats", 5, "Timed calls per form.")


def main(argv):
  del argv
  import jax
  import jax.numpy as jnp

  from vidjax import host_memory

  host_memory.keep_freed_memory()
  pool = importlib.import_module("vidjax.ops.max_pool")
  x = jax.random.normal(jax.random.key(0), (128, 112, 112, 32))
  scale = jnp.ones(32)
  out = {}
  for form in ("blocks", "xla"):
    def loss(x, s, form=form):
      y = jax.nn.leaky_relu((x - x.mean((0, 1, 2))) * s)
      return pool.max_pool(form, y, (2, 2), (2, 2), ((0, 0), (0, 0))).sum()

    f = jax.jit(jax.grad(loss, argnums=(0, 1)))
    jax.block_until_ready(f(x, scale))
    times = []
    for _ in range(FLAGS.repeats):
      t = time.perf_counter()
      jax.block_until_ready(f(x, scale))
      times.append(time.perf_counter() - t)
    out[form] = statistics.median(times) * 1000
  for form, ms in out.items():
    print(json.dumps({"form": form, "ms": round(ms, 1), "ratio_vs_blocks": round(ms / out["blocks"], 2)}))


if __name__ == "__main__":
  app.run(main)
