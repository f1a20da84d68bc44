"""vidjax command line: parse flags, pick the mode, call the library.

  python main.py --config=configs/csn.py --workdir=runs/csn            # train (resumes), then evaluate
  python main.py --config=configs/csn.py --workdir=runs/csn --mode=eval  # evaluate the latest checkpoint
  python main.py --config=configs/csn.py --mode=summary                   # per-layer table, params, FLOPs
"""

from absl import app, flags, logging
from ml_collections import config_flags

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Config file, e.g. configs/csn.py.", lock_config=True)
flags.DEFINE_string("workdir", None, "Directory for checkpoints, TensorBoard logs and reports (train, eval).")
flags.DEFINE_enum("mode", "train", ["train", "eval", "summary"],
                  "train: train (resuming) then evaluate; eval: evaluate only; summary: print the model table.")
flags.DEFINE_bool("distributed", False, "Join a multi-process JAX cluster (jax.distributed.initialize). With no "
                  "other flags JAX detects the cluster (TPU pods, SLURM, Open MPI, Kubernetes).")
flags.DEFINE_string("coordinator_address", None, "host:port of process 0, for clusters JAX cannot detect.")
flags.DEFINE_integer("num_processes", None, "Number of processes in the cluster.")
flags.DEFINE_integer("process_id", None, "This process's index, 0..num_processes-1.")
flags.mark_flags_as_required(["config"])


def _quiet_libraries(record) -> bool:
  """Keeps orbax's per-save INFO lines out of the run log; warnings still show."""
  return record.levelno > logging.converter.STANDARD_INFO or "/orbax/" not in record.pathname


def main(argv: list[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if FLAGS.mode != "summary" and not FLAGS.workdir:
    raise app.UsageError(f"--mode={FLAGS.mode} needs --workdir (where checkpoints and reports live)")
  logging.set_verbosity(logging.INFO)
  logging.get_absl_handler().addFilter(_quiet_libraries)
  if FLAGS.distributed:
    import jax

    jax.distributed.initialize(FLAGS.coordinator_address, FLAGS.num_processes, FLAGS.process_id)
  from vidjax import evaluate, summary, train  # after flag parsing: `--help` stays fast

  if FLAGS.mode == "train":
    train.train_and_evaluate(FLAGS.config, FLAGS.workdir)
  elif FLAGS.mode == "eval":
    evaluate.evaluate_checkpoint(FLAGS.config, FLAGS.workdir)
  else:
    summary.print_summary(FLAGS.config)


if __name__ == "__main__":
  app.run(main)
