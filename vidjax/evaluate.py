"""Evaluation: every video counted once, metrics computed on the host, a report on disk."""

from __future__ import annotations

import json
import os
from functools import partial

import jax
import ml_collections
import numpy as np
from absl import logging
from jax.experimental import multihost_utils
from sklearn import metrics as skm

from input_pipeline import clip_spec, loader
from vidjax import sharding, steps


def make_eval_step(config: ml_collections.ConfigDict, mesh):
  return jax.jit(partial(steps.eval_step, mean=config.input.mean, std=config.input.std),
                 in_shardings=(sharding.replicated(mesh), sharding.data_sharded(mesh)),
                 out_shardings=sharding.replicated(mesh))


def predict(state, source, config: ml_collections.ConfigDict, mesh, eval_fn) -> tuple[np.ndarray, np.ndarray]:
  """(probs [N, C], labels [N]) over the whole split, padding removed."""
  batches = loader.eval_batches(source, clip_spec(config), global_batch=config.eval_batch_size,
                                process_index=jax.process_index(), process_count=jax.process_count(),
                                threads=config.input.loader_threads)
  probs, labels, masks = [], [], []
  for batch in sharding.prefetch_to_devices(batches, mesh):
    out = multihost_utils.process_allgather(eval_fn(state, batch), tiled=True)
    probs.append(out["probs"])
    labels.append(out["label"])
    masks.append(out["mask"])
  mask = np.concatenate(masks).astype(bool)
  return np.concatenate(probs)[mask], np.concatenate(labels)[mask]


def classification_report(probs: np.ndarray, labels: np.ndarray, classes: tuple[str, ...]) -> dict:
  pred = probs.argmax(-1)
  k = len(classes)
  nll = -np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, 1.0))
  p, r, f, s = skm.precision_recall_fscore_support(labels, pred, labels=range(k), zero_division=0)
  return {
      "num_videos": len(labels),
      "loss": float(nll.mean()),
      "accuracy": float((pred == labels).mean()),
      "balanced_accuracy": float(skm.balanced_accuracy_score(labels, pred)),
      "macro_f1": float(skm.f1_score(labels, pred, labels=range(k), average="macro", zero_division=0)),
      "weighted_f1": float(skm.f1_score(labels, pred, labels=range(k), average="weighted", zero_division=0)),
      "per_class": {c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                    for i, c in enumerate(classes)},
      "confusion_matrix": skm.confusion_matrix(labels, pred, labels=range(k)).tolist(),
      "classes": list(classes),
  }


def plot_confusion(cm: np.ndarray, classes: list[str], path: str, title: str) -> None:
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  k = len(classes)
  size = max(5.0, 0.35 * k + 2)
  fig, ax = plt.subplots(figsize=(size, size))
  row = cm.sum(1, keepdims=True)
  ax.imshow(cm / np.maximum(row, 1), cmap="Blues", vmin=0, vmax=1)
  ax.set_xticks(range(k), classes, rotation=90, fontsize=8)
  ax.set_yticks(range(k), classes, fontsize=8)
  ax.set_xlabel("predicted")
  ax.set_ylabel("true")
  ax.set_title(title)
  if k <= 20:
    for i in range(k):
      for j in range(k):
        ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7,
                color="white" if cm[i, j] > 0.5 * max(row[i, 0], 1) else "black")
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def write_report(report: dict, workdir: str, step: int, split: str) -> dict[str, str]:
  """metrics JSON + confusion-matrix PNG under <workdir>/eval/ (process 0 only)."""
  out = os.path.join(workdir, "eval")
  paths = {"metrics": os.path.join(out, f"{split}_metrics_step{step}.json"),
           "confusion_matrix": os.path.join(out, f"{split}_confusion_step{step}.png")}
  if jax.process_index() == 0:
    os.makedirs(out, exist_ok=True)
    with open(paths["metrics"], "w") as f:
      json.dump({"step": step, "split": split, **report}, f, indent=1)
    plot_confusion(np.asarray(report["confusion_matrix"]), report["classes"], paths["confusion_matrix"],
                   f"{split} @ step {step}\naccuracy {report['accuracy']:.1%}, macro-F1 {report['macro_f1']:.3f}")
  return paths


def log_report(report: dict, split: str, step: int) -> None:
  logging.info("%s @ step %d: %d videos | loss %.4f | accuracy %.2f%% | macro-F1 %.4f | weighted-F1 %.4f",
               split, step, report["num_videos"], report["loss"], 100 * report["accuracy"], report["macro_f1"],
               report["weighted_f1"])


def evaluate_checkpoint(config: ml_collections.ConfigDict, workdir: str) -> dict:
  """`--mode=eval`: restore the latest checkpoint in workdir and report on the eval split."""
  from vidjax import train

  run = train.setup(config, workdir, splits=(config.dataset.eval_split,))
  state, meta = run.checkpointer.restore(run.state)
  step = int(meta["step"])
  eval_fn = make_eval_step(config, run.mesh)
  split = config.dataset.eval_split
  report = classification_report(*predict(state, run.data.sources[split], config, run.mesh, eval_fn),
                                 run.data.classes)
  paths = write_report(report, run.workdir, step, split)
  log_report(report, split, step)
  logging.info("Metrics: %s\nConfusion matrix: %s", paths["metrics"], paths["confusion_matrix"])
  run.checkpointer.close()
  return {**report, "step": step, "paths": paths}
