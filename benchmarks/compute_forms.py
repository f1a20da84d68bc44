"""Train-step time of the default CSN under each compute-forms setting (vidjax/ops/forms.py) on this backend.

  .venv/bin/python benchmarks/compute_forms.py [--steps=8] [--repeats=3]

Prints one JSON line per setting with the median ms/step (compile excluded) and the ratio to the CPU forms.
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


def time_forms(setting: str) -> float:
  from configs.csn import get_config
  from vidjax import steps
  from vidjax.models import build_model
  from vidjax.ops import forms

  c = get_config()
  i = c.input
  shape = (c.train.batch_size, i.num_frames, i.frame_size, i.frame_size, i.channels)
  model = build_model(c.model, 8)
  state = steps.init_from_config(c, model, shape[1:])(jax.random.key(0))
  with forms.use(setting):  # the step takes the forms it is traced under
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
  ms = {setting: time_forms(setting) for setting in ("cpu", "xla")}
  for setting, v in ms.items():
    print(json.dumps({"backend": jax.default_backend(), "compute_forms": setting, "ms_per_step": round(v, 1),
                      "ratio_vs_cpu_forms": round(v / ms["cpu"], 2)}))


if __name__ == "__main__":
  app.run(main)
