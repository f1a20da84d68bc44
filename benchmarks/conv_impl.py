"""Train-step time of the default CSN with each 3D-conv implementation on this backend.

  .venv/bin/python benchmarks/conv_impl.py [--steps=8] [--repeats=3]

Prints one JSON line per implementation with the median ms/step (compile excluded) and the ratio.
"""

import json
import os
import statistics
import sys
import time

import jax
import jax.numpy as jnp
from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FLAGS = flags.FLAGS
flags.DEFINE_integer("steps", 8, "Timed steps per repeat.")
flags.DEFINE_integer("repeats", 3, "Repeats.")


def time_impl(impl: str) -> float:
  from configs.csn import get_config
  from vidjax import optim, steps
  from vidjax.models import build_model

  c = get_config()
  c.model.conv_impl = impl
  i = c.input
  shape = (c.train.batch_size, i.num_frames, i.frame_size, i.frame_size, i.channels)
  model = build_model(c.model, 8)
  tx, _ = optim.make_optimizer(c.train)
  state = steps.init_state(jax.random.key(0), model, tx, (1, *shape[1:]))
  f = steps.make_train_step(class_weights=jnp.ones(8))
  batch = {"video": jnp.zeros(shape, jnp.uint8), "label": jnp.zeros(shape[0], jnp.int32)}
  state, _ = f(state, batch, jax.random.key(1))
  jax.block_until_ready(state)
  times = []
  for _ in range(FLAGS.repeats):
    t = time.perf_counter()
    for _ in range(FLAGS.steps):
      state, _ = f(state, batch, jax.random.key(1))
    jax.block_until_ready(state)
    times.append((time.perf_counter() - t) / FLAGS.steps * 1000)
  return statistics.median(times)


def main(argv):
  del argv
  ms = {impl: time_impl(impl) for impl in ("slices", "xla")}
  for impl, v in ms.items():
    print(json.dumps({"backend": jax.default_backend(), "conv_impl": impl, "ms_per_step": round(v, 1),
                      "ratio_vs_slices": round(v / ms["slices"], 2)}))


if __name__ == "__main__":
  app.run(main)
