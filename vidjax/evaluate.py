"""Evaluation: every video counted once over K clips x crops, metrics on the host, files on disk.

`--mode=eval --checkpoint=latest|best|STEP` restores one checkpoint and writes vidjax.reports.eval_files.
"""

from __future__ import annotations

import jax
import ml_collections
import numpy as np
from absl import logging
from jax.experimental import multihost_utils

from input_pipeline import clip_spec, loader
from vidjax import metrics, sharding, steps
from vidjax import run as run_lib
from vidjax.reports import eval_files


def make_eval_step(config: ml_collections.ConfigDict, mesh):
  return steps.make_eval_step(mesh, mean=config.input.mean, std=config.input.std)


def gather_predictions(eval_fn, state, batches, mesh) -> tuple[np.ndarray, np.ndarray]:
  """(view probabilities [N, views, C], labels [N]) over host batches with masks, padding removed, all hosts."""
  probs, labels, masks = [], [], []
  for batch in sharding.prefetch_to_devices(batches, mesh):
    out = multihost_utils.process_allgather(eval_fn(state, batch), tiled=True)
    probs.append(out["probs"])
    labels.append(out["label"])
    masks.append(out["mask"])
  if not probs:
    return np.zeros((0, 1, 0), np.float32), np.zeros((0,), np.int32)
  mask = np.concatenate(masks).astype(bool)
  return np.concatenate(probs)[mask], np.concatenate(labels)[mask]


def predict_split(state, source, config: ml_collections.ConfigDict, mesh, eval_fn) -> tuple[np.ndarray, np.ndarray]:
  """(view probabilities [N, clips x crops, C], labels [N]) over the whole split, in the store's order."""
  batches = loader.eval_batches(source, clip_spec(config), global_batch=config.eval_batch_size,
                                process_index=jax.process_index(), process_count=jax.process_count(),
                                threads=config.input.loader_threads)
  return gather_predictions(eval_fn, state, batches, mesh)


def evaluate_split(run: run_lib.Run, state, split: str, step: int, eval_fn, *, checkpoint: str = "",
                   write: bool = True) -> dict:
  """Scores `split`; with write=True (process 0) leaves the evaluation's files and logs the confused pairs."""
  cfg = run.config
  view_probs, labels = predict_split(state, run.data.sources[split], cfg, run.mesh, eval_fn)
  report = metrics.classification_report(view_probs, labels, run.classes)
  eval_files.log(report, split, step)
  if write:
    eval_files.log_confused(report)
    if jax.process_index() == 0:
      report["paths"] = eval_files.write(
          report, run.workdir, split=split, clips=cfg.input.eval_clips, crops=cfg.input.eval_crops, step=step,
          checkpoint=checkpoint or str(step), videos=run.data.paths(split), probs=view_probs.mean(1), labels=labels)
      logging.info("Evaluation files: %s", ", ".join(report["paths"].values()))
  return report


def evaluate_checkpoint(config: ml_collections.ConfigDict, workdir: str, checkpoint: str = "latest") -> dict:
  """`--mode=eval`: restore one checkpoint (latest, best or a step) and report on config.dataset.eval_split."""
  split = config.dataset.eval_split
  run = run_lib.setup(config, workdir, splits=(split,), train=False)
  state, meta = run.checkpointer.restore(run.state, checkpoint)  # latest falls back past an unreadable one
  step = int(meta["step"])
  run_lib.check_classes(run, meta)
  report = evaluate_split(run, state, split, step, make_eval_step(config, run.mesh), checkpoint=checkpoint)
  run.checkpointer.close()
  return {**report, "step": step}
