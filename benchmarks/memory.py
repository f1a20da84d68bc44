"""Train-step memory with and without rematerialisation, from XLA's compiled memory analysis.

  .venv/bin/python benchmarks/memory.py [--model=paper|default] [--batch=4]

Compiles (does not run) one train step and prints XLA's temp/argument/output buffer sizes; peak device
memory for the step is about arguments + outputs (donated) + temps. Compiling is enough, so paper-size
models can be measured on a small machine.
"""

import json
import os
import sys

import jax
import jax.numpy as jnp
from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FLAGS = flags.FLAGS
flags.DEFINE_enum("model", "paper", ["paper", "default"], "paper: ir-CSN-50 at 16x112x112x3; default: configs/csn.py.")
flags.DEFINE_integer("batch", 4, "Clips per step.")
flags.DEFINE_enum("compute_forms", "auto", ["auto", "xla", "cpu"], "vidjax/ops/forms.py's setting.")


def main(argv):
  del argv
  from configs.csn import get_config
  from vidjax import optim, steps
  from vidjax.models import build_model
  from vidjax.ops import forms

  forms.set_default(FLAGS.compute_forms)
  c = get_config()
  shape = (FLAGS.batch, 16, 48, 48, 1)
  if FLAGS.model == "paper":  # ir-CSN-50, Tran et al. 2019
    c.model.stem_features, c.model.stem_kernel, c.model.stem_pool = 64, (3, 7, 7), True
    c.model.stage_features, c.model.stage_blocks = (256, 512, 1024, 2048), (3, 4, 6, 3)
    c.model.stage_strides = ((1, 1, 1), (2, 2, 2), (2, 2, 2), (2, 2, 2))
    c.model.expansion, c.model.zero_init_residual = 4, True
    shape = (FLAGS.batch, 16, 112, 112, 3)
  for dtype in ("float32", "bfloat16"):
    for remat in (False, True):
      c.model.remat = remat
      model = build_model(c.model, 101, dtype)
      tx, _ = optim.make_optimizer(c.train)
      state = jax.eval_shape(steps.make_init(model, tx, shape[1:]), jax.random.key(0))
      batch = {"video": jax.ShapeDtypeStruct(shape, jnp.uint8), "label": jax.ShapeDtypeStruct(shape[:1], jnp.int32)}
      f = steps.make_train_step(class_weights=jnp.ones(101))
      mem = f.lower(state, batch, jax.random.key(0)).compile().memory_analysis()
      print(json.dumps({"model": FLAGS.model, "compute_forms": FLAGS.compute_forms, "input": shape, "compute_dtype": dtype,
                        "remat": remat,
                        "temp_mb": round(mem.temp_size_in_bytes / 2**20, 1),
                        "argument_mb": round(mem.argument_size_in_bytes / 2**20, 1),
                        "output_mb": round(mem.output_size_in_bytes / 2**20, 1)}), flush=True)


if __name__ == "__main__":
  app.run(main)
