"""Sweeps declared in a config (Kauldron-style): a base run config plus named points, each a set of overrides.

  python main.py --config=configs/sweeps/hmdb51_study.py --workdir=runs/hmdb51_study --mode=sweep
  # the same points on HMDB51: command-line overrides apply to the base, so to every point
  python main.py --config=configs/sweeps/hmdb51_study.py --workdir=runs/hmdb51_study_real --mode=sweep \
    --config.dataset.name=hmdb51 --config.dataset.data_dir=/data/hmdb51 --config.input.flip=True

Every point is validated before the first trains, so a bad value in the last point costs no training. Every point
trains into <workdir>/<point> through the usual train path (so each resumes), a finished point is skipped, a
failed point is recorded with its error while the others go on; <workdir>/sweep.json holds each point's status,
the report over all points (vidjax.reports.runs) is written at the end and names the failed ones, and the sweep
then fails (main.py exits 1) if any point did.
"""

from __future__ import annotations

import copy
import json
import os
import time
import traceback

import ml_collections
from absl import logging

from vidjax import config as config_lib


def sweep(base: ml_collections.ConfigDict, points: dict[str, dict]) -> ml_collections.ConfigDict:
  """A sweep config: `base` (a run config) with `sweep.points` = {name: overrides} and their order.

  Overrides are nested dicts of settings, e.g. {"train": {"class_weights": "none"}, "model": {"dropout": 0.3}};
  a `model` holding a `name` (a model_config) replaces the whole model section. Every point is applied here,
  once, so a misspelt setting fails when the sweep config loads, naming the point.
  """
  for name, overrides in points.items():
    if not name.replace("_", "").replace("-", "").isalnum():
      raise ValueError(f"sweep point name {name!r}: use letters, digits, '_' or '-' (it names a folder)")
    point_config(base, name, overrides)
  c = copy.deepcopy(base)
  with c.unlocked():
    c.sweep = ml_collections.ConfigDict({"order": tuple(points), "points": {
        n: ml_collections.ConfigDict(o) if o else ml_collections.ConfigDict() for n, o in points.items()}})
  c.lock()
  return c


def _apply(node: ml_collections.ConfigDict, overrides, where: str, point: str) -> None:
  for key, value in overrides.items():
    if key not in node:
      raise ValueError(f"sweep point {point!r}: config.{where}{key} is not a setting"
                       + config_lib.did_you_mean(key, node.keys(), where))
    if key == "model" and not where and "name" in value and value["name"] != node.model.name:
      node.model = copy.deepcopy(value)  # another family: its own settings
    elif isinstance(node[key], ml_collections.ConfigDict):
      _apply(node[key], value, f"{where}{key}.", point)
    else:
      try:
        node[key] = tuple(value) if isinstance(value, list) else value
      except (TypeError, ValueError) as e:
        raise ValueError(f"sweep point {point!r}: config.{where}{key}={value!r} does not fit the setting, which is "
                         f"{type(node[key]).__name__} ({' '.join(str(e).split())[:160]})") from None


def point_config(base: ml_collections.ConfigDict, name: str, overrides) -> ml_collections.ConfigDict:
  """The run config of one point: a copy of the base (without the sweep) with the point's overrides."""
  c = copy.deepcopy(base)
  if "sweep" in c:
    with c.unlocked():
      del c["sweep"]
  _apply(c, overrides or {}, "", name)
  return c


def points(config: ml_collections.ConfigDict) -> list[tuple[str, ml_collections.ConfigDict]]:
  if "sweep" not in config:
    raise ValueError("--mode=sweep needs a sweep config (configs/sweeps/*.py): this config has no `sweep` section")
  return [(n, point_config(config, n, config.sweep.points[n])) for n in config.sweep.order]


def is_finished(workdir: str, config: ml_collections.ConfigDict) -> bool:
  """Trained to num_steps and evaluated at that step."""
  from vidjax.reports import eval_files

  steps = config.train.num_steps
  return os.path.isdir(os.path.join(workdir, "checkpoints", str(steps))) and any(
      e["step"] == steps and e["split"] == config.dataset.eval_split for e in eval_files.find(workdir))


class SweepFailedError(RuntimeError):
  """Some points failed; the others ran and the report is written."""


def validate_points(todo: list[tuple[str, ml_collections.ConfigDict]]) -> None:
  """Every point's config checked as its run will check it, before any point trains; the error names the point."""
  import jax

  for name, c in todo:
    try:
      config_lib.validate(c, jax.process_count(), jax.device_count())
    except ValueError as e:
      raise ValueError(f"sweep point {name!r}: {e}; no point was trained") from None


def run_sweep(config: ml_collections.ConfigDict, workdir: str) -> dict[str, dict]:
  """Runs every point of a sweep config in turn; returns {point: status}. See the module docstring."""
  from vidjax import train
  from vidjax.reports import runs

  workdir = os.path.abspath(os.path.expanduser(workdir))
  todo = points(config)
  validate_points(todo)
  os.makedirs(workdir, exist_ok=True)
  status_path = os.path.join(workdir, "sweep.json")
  status: dict[str, dict] = {}
  for i, (name, c) in enumerate(todo, 1):
    point_dir = os.path.join(workdir, name)
    if is_finished(point_dir, c):
      logging.info("Sweep point %d/%d %s: finished before, skipped", i, len(todo), name)
      status[name] = {"status": "skipped (finished)", "workdir": point_dir}
    else:
      logging.info("Sweep point %d/%d %s -> %s", i, len(todo), name, point_dir)
      start = time.time()
      try:
        result = train.train_and_evaluate(c, point_dir)
        status[name] = {"status": "done", "workdir": point_dir, "seconds": round(time.time() - start, 1),
                        "accuracy": result["accuracy"], "macro_f1": result["macro_f1"]}
      except Exception as e:  # a failed point is recorded; the others go on
        logging.error("Sweep point %s failed:\n%s", name, traceback.format_exc())
        status[name] = {"status": "failed", "workdir": point_dir, "error": f"{type(e).__name__}: {e}".splitlines()[0]}
    with open(status_path, "w") as f:
      json.dump(status, f, indent=1)
  lines = []
  for name, s in status.items():
    detail = (f"accuracy {s['accuracy']:.1%}, macro-F1 {s['macro_f1']:.3f}, {s['seconds']:.0f} s" if s["status"] == "done"
              else s.get("error", ""))
    lines.append(f"  {name:<28} {s['status']:<20} {detail}")
  print(f"Sweep {workdir}: {len(status)} points\n" + "\n".join(lines), flush=True)
  failed = [n for n, s in status.items() if s["status"] == "failed"]
  if len(failed) < len(status):
    files = runs.write_report(workdir)
    print(f"Report: {files['markdown']}", flush=True)
  if failed:
    raise SweepFailedError(f"{len(failed)} of {len(status)} sweep points failed ({', '.join(failed)}): each error "
                           f"is in {status_path} and the log above; rerun the same command to retry them (finished "
                           "points are skipped)")
  return status
