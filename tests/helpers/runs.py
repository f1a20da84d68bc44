"""Helpers the tests of several modules share: a compiled init, main.py as a user runs it, a config file a
subprocess loads, a trained run's final state, a free port."""

import csv
import importlib.util
import socket
import subprocess
import sys

import jax

from vidjax import run as run_lib
from vidjax import steps


def init(model, tx, input_shape, seed=0, ema=False):
  """Compiled init (eager init of the CPU conv path runs op by op and takes seconds); input_shape has a batch axis."""
  return steps.make_init(model, tx, tuple(input_shape[1:]), ema=ema)(jax.random.key(seed))


def main(*args, cwd, env=None, timeout=300):
  """`python main.py ARGS` in `cwd`, as a user runs it."""
  return subprocess.run([sys.executable, "main.py", *args], cwd=cwd, env=env, capture_output=True, text=True,
                        timeout=timeout)


def write_config(path, tiny_config, num_steps, every, extra=""):
  """A config file on the tiny dataset (dropout on, so its draws must replay too) for main.py subprocesses."""
  c = tiny_config
  path.write_text(
      "from configs.csn import get_config as base\n\n"
      "def get_config():\n"
      "  c = base()\n"
      f"  c.dataset.data_dir = {c.dataset.data_dir!r}\n"
      f"  c.dataset.store_dir = {c.dataset.store_dir!r}\n"
      f"  c.dataset.synthetic_groups = {c.dataset.synthetic_groups}\n"
      f"  c.dataset.synthetic_clips_per_group = {c.dataset.synthetic_clips_per_group}\n"
      f"  c.dataset.store_short_side = {c.dataset.store_short_side}\n"
      "  c.dataset.decode_workers = 1\n"
      f"  c.input.num_frames = {c.input.num_frames}\n"
      f"  c.input.frame_size = {c.input.frame_size}\n"
      "  c.input.loader_threads = 2\n"
      "  c.train.batch_size = 8\n"
      "  c.eval_batch_size = 8\n"
      "  c.model.dropout = 0.3  # dropout draws must also replay exactly\n"
      f"  c.train.num_steps = {num_steps}\n"
      "  c.train.warmup_steps = 2\n"
      "  c.log_every_steps = 5\n"
      f"  c.checkpoint_every_steps = {every}\n"
      f"{extra}"
      "  return c\n")


def load_config(path):
  """The config a subprocess loaded from `path`."""
  spec = importlib.util.spec_from_file_location(path.stem, path)
  mod = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(mod)
  return mod.get_config()


def final_params(config, workdir):
  run = run_lib.setup(config, workdir, train=False)
  state, meta = run.checkpointer.restore(run.state)
  run.checkpointer.close()
  return jax.device_get(state.params), jax.device_get(state.batch_stats), meta["step"]


def free_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def read_predictions(path: str) -> dict[str, list[tuple[str, float]]]:
  """video path -> its top-5 (class, probability), from a per-video CSV that evaluation or predict wrote."""
  with open(path, newline="") as f:
    rows = list(csv.DictReader(f))
  out = {}
  for r in rows:
    k = sum(1 for key in r if key.startswith("class_"))
    out[r["video"]] = [(r[f"class_{j}"], float(r[f"prob_{j}"])) for j in range(1, k + 1)]
  return out
