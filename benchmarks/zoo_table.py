"""The studies' results table for the whole zoo, like for like: the sweep configs/sweeps/zoo.py (every family
shrunk by configs/zoo_small.py, same input, optimizer and steps, on the default synthetic_motion set), then the
report over its points (report.md / report.csv / figures in the workdir).

  .venv/bin/python benchmarks/zoo_table.py                                   # all models, 600 steps each
  .venv/bin/python benchmarks/zoo_table.py --models=ir_csn,mean_frame --steps=100 --workdir=runs/zoo_quick

The same as `python main.py --config=configs/sweeps/zoo.py --workdir=runs/zoo --mode=sweep`, with a choice of
models and steps. Prints the report's table (markdown).
"""

import os
import sys
import tempfile

from absl import app, flags, logging

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FLAGS = flags.FLAGS
flags.DEFINE_list("models", [], "Names from configs/zoo_small.py (default: all).")
flags.DEFINE_integer("steps", 600, "Training steps per model (configs/zoo_small.py's budget).")
flags.DEFINE_string("workdir", None, "Where the points train (default: a new temporary folder).")


def main(argv):
  del argv
  from configs.sweeps import zoo
  from vidjax import sweep

  logging.set_verbosity(logging.WARNING)
  config = zoo.get_config()
  with config.unlocked():
    if FLAGS.models:
      unknown = set(FLAGS.models) - set(config.sweep.order)
      if unknown:
        raise app.UsageError(f"--models: {sorted(unknown)} not in {list(config.sweep.order)}")
      config.sweep.order = tuple(FLAGS.models)
    config.train.num_steps = FLAGS.steps
    config.log_every_steps = min(config.log_every_steps, FLAGS.steps)
    config.checkpoint_every_steps = FLAGS.steps
  workdir = FLAGS.workdir or tempfile.mkdtemp(prefix="zoo_")
  sweep.run_sweep(config, workdir)
  with open(os.path.join(workdir, "report.md")) as f:
    print(f.read())


if __name__ == "__main__":
  app.run(main)
