"""vidjax command line: parse flags, pick the mode, call the library.

  python main.py --config=configs/csn.py --workdir=runs/csn                          # train (resumes), then evaluate
  python main.py --workdir=runs/csn --mode=eval --checkpoint=best                    # evaluate a checkpoint
  python main.py --workdir=runs/csn --mode=predict --video=clip.mp4                  # top-5 classes of a video
  python main.py --config=configs/csn.py --mode=summary --tensors                    # the model's tables
  python main.py --config=configs/sweeps/ucf101_study.py --workdir=runs/ucf --mode=sweep  # every point, then a report
  python main.py --workdir=runs/ucf --mode=report                                    # report over runs
  python main.py --config=configs/csn.py --workdir=runs/eda --mode=analyze           # the dataset's analysis + health
  python main.py --config=configs/frozen_mlp.py --workdir=runs/feats --mode=extract  # backbone features, stored once
  python main.py --config=configs/frozen_mlp.py --workdir=runs/feats --mode=tsne     # t-SNE + k-NN of stored features
"""

import sys

from absl import app, flags, logging
from ml_collections import config_flags

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file(
    "config", None, "Config file, e.g. configs/csn.py. eval/predict/summary/report on a --workdir take the run's own "
    "config when this is left out; `configs/workdir.py:DIR` loads a run's config to override its eval views.",
    lock_config=True)
flags.DEFINE_string("workdir", None, "Directory of the run (checkpoints, TensorBoard logs, evaluations) or the sweep.")
MODES = ["train", "eval", "predict", "summary", "sweep", "report", "analyze", "extract", "tsne"]
flags.DEFINE_enum("mode", "train", MODES,
                  "train: train (resuming) then evaluate; eval: evaluate a checkpoint; predict: classify --video; "
                  "summary: the model's tables; sweep: run every point of a sweep config; report: table + figures "
                  "over a run or a folder of runs; analyze: the dataset's exploratory analysis and health check "
                  "into WORKDIR/analysis/; extract: a backbone's features of every video into a feature store "
                  "(config.features); tsne: a t-SNE and k-NN accuracy of a feature store.")
flags.DEFINE_string("checkpoint", "latest", "eval/predict: latest, best (highest config.select_metric recorded while "
                    "training) or a step number.")
flags.DEFINE_string("video", None, "predict: a video file, or a folder searched recursively for video files.")
flags.DEFINE_string("output", None, "predict: also write the top-5 per video to this .json or .csv file.")
flags.DEFINE_bool("tensors", False, "summary: also list every parameter tensor (name, shape, count; frozen marked).")
flags.DEFINE_bool("distributed", False, "Join a multi-process JAX cluster (jax.distributed.initialize). With no "
                  "other flags JAX detects the cluster (TPU pods, SLURM, Open MPI, Kubernetes).")
flags.DEFINE_string("coordinator_address", None, "host:port of process 0, for clusters JAX cannot detect.")
flags.DEFINE_integer("num_processes", None, "Number of processes in the cluster.")
flags.DEFINE_integer("process_id", None, "This process's index, 0..num_processes-1.")

_NEEDS = {"train": ("config", "workdir"), "sweep": ("config", "workdir"), "eval": ("workdir",),
          "predict": ("workdir", "video"), "report": ("workdir",), "summary": (), "analyze": ("config", "workdir"),
          "extract": ("config", "workdir"), "tsne": ("config", "workdir")}


def _parse_flags(argv: list[str]) -> list[str]:
  """absl's parser, but a misspelt or mistyped --config.x override is one line naming it, not a traceback."""
  try:
    return FLAGS(argv)
  except Exception as e:
    message = _override_problem(argv) or " ".join(str(e).split())
    sys.stderr.write(f"main.py: {message}\n")
    sys.exit(2)


def _override_problem(argv: list[str]) -> str | None:
  """Finds the --config.x override that names no setting, with the closest valid one."""
  from vidjax import config as config_lib

  ref = next((a.split("=", 1)[1] for a in argv if a.startswith("--config=")), None)
  if ref is None:
    return None
  try:
    config = config_lib.load_config_file(ref)
  except Exception as e:
    return f"--config={ref}: {type(e).__name__}: {' '.join(str(e).split())}"
  for arg in argv:
    if arg.startswith("--config."):
      problem = config_lib.check_override(config, arg[len("--config."):].split("=", 1)[0])
      if problem:
        return problem
  return None


def _quiet_libraries(record) -> bool:
  """Keeps orbax's per-save INFO lines out of the run log; warnings still show."""
  return record.levelno > logging.converter.STANDARD_INFO or "/orbax/" not in record.pathname


def main(argv: list[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  from vidjax import cpu_allocator

  cpu_allocator.keep_freed_memory()  # before JAX's CPU backend starts
  mode = FLAGS.mode
  missing = [f"--{name}" for name in _NEEDS[mode] if not getattr(FLAGS, name)]
  if mode == "summary" and not (FLAGS.config or FLAGS.workdir):
    missing = ["--config or --workdir"]
  if missing:
    raise app.UsageError(f"--mode={mode} needs {' and '.join(missing)}")
  logging.set_verbosity(logging.INFO)
  logging.get_absl_handler().addFilter(_quiet_libraries)
  if FLAGS.distributed:
    import jax

    jax.distributed.initialize(FLAGS.coordinator_address, FLAGS.num_processes, FLAGS.process_id)
  # after flag parsing: `--help` stays fast
  from vidjax import config as config_lib

  config = FLAGS.config
  if config is None and mode in ("eval", "predict"):
    config = config_lib.read_run_config(FLAGS.workdir)
  try:
    if mode == "train":
      from vidjax import train
      train.train_and_evaluate(config, FLAGS.workdir)
    elif mode == "eval":
      from vidjax import evaluate
      evaluate.evaluate_checkpoint(config, FLAGS.workdir, FLAGS.checkpoint)
    elif mode == "predict":
      from vidjax import predict
      predict.predict_videos(config, FLAGS.workdir, FLAGS.video, checkpoint=FLAGS.checkpoint, output=FLAGS.output or "")
    elif mode == "summary":
      from vidjax import summary
      summary.print_summary(config, FLAGS.workdir if config is None else None, tensors=FLAGS.tensors)
    elif mode == "sweep":
      from vidjax import sweep
      sweep.run_sweep(config, FLAGS.workdir)
    elif mode == "extract":
      from vidjax.features import extract
      print(f"Feature store: {extract.extract(config, FLAGS.workdir)}", flush=True)
    elif mode == "tsne":
      from vidjax.features import tsne
      tsne.tsne(config, FLAGS.workdir)
    elif mode == "analyze":
      from vidjax.analysis import dataset_report
      files = dataset_report.analyze(config, FLAGS.workdir)
      print(f"Analysis written: {files['md']} (and {files['json']}, figures beside them)", flush=True)
    else:
      from vidjax.reports import runs
      files = runs.write_report(FLAGS.workdir)
      print("Report written:\n" + "\n".join(f"  {p}" for p in files.values()), flush=True)
  except (ValueError, FileNotFoundError, RuntimeError) as e:
    # our errors name the setting or file and what to do: one line; -v 1 (or a library's own error) keeps the traceback
    if FLAGS.verbosity >= 1 or type(e).__module__.startswith(("jax", "jaxlib", "orbax", "flax")):
      raise
    sys.stderr.write(f"main.py: {' '.join(str(e).split())}\n")
    sys.exit(1)


if __name__ == "__main__":
  app.run(main, flags_parser=_parse_flags)
