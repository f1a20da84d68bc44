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

import dataclasses
import sys
from collections.abc import Callable

import ml_collections
from absl import app, flags, logging
from ml_collections import config_flags

FLAGS = flags.FLAGS


def _train(config, workdir):
  from vidjax import train
  train.train_and_evaluate(config, workdir)


def _eval(config, workdir):
  from vidjax import evaluate
  evaluate.evaluate_checkpoint(config, workdir, FLAGS.checkpoint)


def _predict(config, workdir):
  from vidjax import predict
  predict.predict_videos(config, workdir, FLAGS.video, checkpoint=FLAGS.checkpoint, output=FLAGS.output or "")


def _summary(config, workdir):
  from vidjax import summary
  summary.print_summary(config, workdir if config is None else None, tensors=FLAGS.tensors)


def _sweep(config, workdir):
  from vidjax import sweep
  sweep.run_sweep(config, workdir)


def _report(config, workdir):
  from vidjax.reports import runs
  files = runs.write_report(workdir)
  print("Report written:\n" + "\n".join(f"  {p}" for p in files.values()), flush=True)


def _analyze(config, workdir):
  from vidjax.analysis import dataset_report
  files = dataset_report.analyze(config, workdir)
  print(f"Analysis written: {files['md']} (and {files['json']}, figures beside them)", flush=True)


def _extract(config, workdir):
  from vidjax.features import extract
  print(f"Feature store: {extract.extract(config, workdir)}", flush=True)


def _tsne(config, workdir):
  from vidjax.features import tsne
  tsne.tsne(config, workdir)


@dataclasses.dataclass(frozen=True)
class Mode:
  run: Callable  # (config or None, workdir or None) -> None
  needs: tuple[str, ...]  # flags it needs; "a|b" is either
  help: str
  run_config: bool = False  # without --config, the config the workdir's run recorded
  makes_workdir: bool = False  # writes into --workdir, making it if missing: checked writable before work


MODES = {
    "train": Mode(_train, ("config", "workdir"), "train (resuming), then evaluate", makes_workdir=True),
    "eval": Mode(_eval, ("workdir",), "evaluate a checkpoint", run_config=True),
    "predict": Mode(_predict, ("workdir", "video"), "classify --video", run_config=True),
    "summary": Mode(_summary, ("config|workdir",), "the model's tables"),
    "sweep": Mode(_sweep, ("config", "workdir"), "run every point of a sweep config", makes_workdir=True),
    "report": Mode(_report, ("workdir",), "table + figures over a run or a folder of runs"),
    "analyze": Mode(_analyze, ("config", "workdir"), "the dataset's exploratory analysis and health check into "
                    "WORKDIR/analysis/", makes_workdir=True),
    "extract": Mode(_extract, ("config", "workdir"), "a backbone's features of every video into a feature store "
                    "(config.features)", makes_workdir=True),
    "tsne": Mode(_tsne, ("config", "workdir"), "a t-SNE and k-NN accuracy of a feature store", makes_workdir=True),
}

config_flags.DEFINE_config_file(
    "config", None, "Config file, e.g. configs/csn.py. eval/predict/summary on a --workdir take the run's own "
    "config when this is left out; `configs/workdir.py:DIR` loads a run's config to override its eval views.",
    lock_config=True)
flags.DEFINE_string("workdir", None, "Directory of the run (checkpoints, TensorBoard logs, evaluations) or the sweep.")
flags.DEFINE_enum("mode", "train", list(MODES), "; ".join(f"{name}: {m.help}" for name, m in MODES.items()) + ".")
flags.DEFINE_string("checkpoint", "latest", "eval/predict: latest, best (highest config.select_metric recorded while "
                    "training) or a step number.")
flags.DEFINE_string("video", None, "predict: a video file, or a folder searched recursively for video files.")
flags.DEFINE_string("output", None, "predict: also write the top-5 per video to this .json or .csv file.")
flags.DEFINE_bool("tensors", False, "summary: also list every parameter tensor (name, shape, count; frozen marked).")
flags.DEFINE_enum("compute_forms", None, ["auto", "xla", "cpu"], "How convolutions and pools are computed (a "
                  "process setting, never part of a run): auto = XLA's own on GPU/TPU and the CPU forms on a CPU; "
                  "xla = XLA's own everywhere; cpu = the CPU forms anywhere. Default: $VIDJAX_COMPUTE_FORMS or auto.")
flags.DEFINE_bool("distributed", False, "Join a multi-process JAX cluster (jax.distributed.initialize). With no "
                  "other flags JAX detects the cluster (TPU pods, SLURM, Open MPI, Kubernetes).")
flags.DEFINE_string("coordinator_address", None, "host:port of process 0, for clusters JAX cannot detect.")
flags.DEFINE_integer("num_processes", None, "Number of processes in the cluster.")
flags.DEFINE_integer("process_id", None, "This process's index, 0..num_processes-1.")


def _parse_flags(argv: list[str]) -> list[str]:
  """absl's parser, but a config file that cannot load or a misspelt --config.x override is one line, not a
  traceback."""
  try:
    rest = FLAGS(argv)
  except Exception as e:
    from vidjax import config as config_lib

    problem = config_lib.override_problem(argv) or " ".join(str(e).split())
    sys.stderr.write(f"main.py: {problem}\n")
    sys.exit(2)
  if FLAGS["config"].present and not isinstance(FLAGS.config, ml_collections.ConfigDict):  # get_config() gave a dict
    from vidjax import config as config_lib

    sys.stderr.write(f"main.py: {config_lib.override_problem(argv) or '--config gave no config'}\n")
    sys.exit(2)
  return rest


def _missing(mode: Mode) -> list[str]:
  return [" or ".join(f"--{n}" for n in need.split("|")) for need in mode.needs
          if not any(getattr(FLAGS, n) for n in need.split("|"))]


def _first_process() -> bool:
  if not FLAGS.distributed:
    return True
  import jax

  return jax.process_index() == 0


def _quiet_libraries(record) -> bool:
  """Keeps orbax's per-save INFO lines out of the run log; warnings still show."""
  return record.levelno > logging.converter.STANDARD_INFO or "/orbax/" not in record.pathname


def main(argv: list[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  from vidjax import host_memory

  host_memory.keep_freed_memory()  # before JAX's CPU backend starts
  mode = MODES[FLAGS.mode]
  missing = _missing(mode)
  if missing:
    raise app.UsageError(f"--mode={FLAGS.mode} needs {' and '.join(missing)}")
  if FLAGS.verbosity < 0:  # absl's default (warnings): runs log their progress; -v 1 keeps tracebacks too
    logging.set_verbosity(logging.INFO)
  logging.get_absl_handler().addFilter(_quiet_libraries)
  if FLAGS.distributed:
    import jax

    jax.distributed.initialize(FLAGS.coordinator_address, FLAGS.num_processes, FLAGS.process_id)
  # after flag parsing: `--help` stays fast
  from vidjax import config as config_lib
  from vidjax import writable
  from vidjax.ops import forms

  if FLAGS.compute_forms:
    forms.set_default(FLAGS.compute_forms)
  try:
    if mode.makes_workdir and _first_process():  # one checker: two making and removing the same folder race
      writable.check_folder(FLAGS.workdir, "--workdir")
    if FLAGS.output and FLAGS.mode == "predict":
      writable.check_file(FLAGS.output, "--output", (".json", ".csv"))
    config = FLAGS.config
    if config is None and mode.run_config:
      config = config_lib.read_run_config(FLAGS.workdir)
    mode.run(config, FLAGS.workdir)
  except (ValueError, FileNotFoundError, RuntimeError, OSError, ArithmeticError) as e:
    # our errors name the setting or file and what to do: one line; -v 1 (or a library's own error) keeps the traceback
    if FLAGS.verbosity >= 1 or type(e).__module__.startswith(("jax", "jaxlib", "orbax", "flax")):
      raise
    sys.stderr.write(f"main.py: {' '.join(str(e).split())}\n")
    sys.exit(1)


if __name__ == "__main__":
  app.run(main, flags_parser=_parse_flags)
