"""The studies' results table for the whole zoo, like for like: every family shrunk (configs/zoo_small.py),
trained on the default synthetic_motion set with the same input, optimizer and steps, then tested on its
held-out scenes.

  .venv/bin/python benchmarks/zoo_table.py                 # all models, 300 steps each
  .venv/bin/python benchmarks/zoo_table.py --models=ir_csn,mean_frame --steps=100

Prints one markdown row per model: held-out accuracy, balanced accuracy, macro-F1, parameters, size (MB,
float32 incl. BatchNorm statistics), GFLOPs per clip, wall time of train_and_evaluate (compile included).
"""

import os
import sys
import tempfile
import time

from absl import app, flags, logging

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FLAGS = flags.FLAGS
flags.DEFINE_list("models", [], "Names from configs/zoo_small.py (default: all).")
flags.DEFINE_integer("steps", 300, "Training steps per model.")


def main(argv):
  del argv
  from configs import zoo_small
  from vidjax import summary, train
  from vidjax.models import build_model

  logging.set_verbosity(logging.WARNING)
  names = FLAGS.models or list(zoo_small.SMALL)
  print("| model | accuracy | balanced acc. | macro-F1 | parameters | MB | GFLOPs/clip | train+eval time |")
  print("|---|---|---|---|---|---|---|---|")
  for name in names:
    c = zoo_small.get_config(name)
    c.train.num_steps = FLAGS.steps
    c.log_every_steps = FLAGS.steps
    c.checkpoint_every_steps = FLAGS.steps
    i = c.input
    s = summary.summarize(build_model(c.model, 8), (1, i.num_frames, i.frame_size, i.frame_size, i.channels))
    t = time.perf_counter()
    r = train.train_and_evaluate(c, tempfile.mkdtemp(prefix=f"zoo_{name}_"))
    print(f"| {name} | {r['accuracy']:.3f} | {r['balanced_accuracy']:.3f} | {r['macro_f1']:.3f} | "
          f"{s['parameters']:,} | {s['size_mb']:.2f} | {s['gflops_per_clip']:.3f} | "
          f"{time.perf_counter() - t:.0f} s |", flush=True)


if __name__ == "__main__":
  app.run(main)
