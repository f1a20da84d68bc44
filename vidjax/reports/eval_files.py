"""The files one evaluation leaves under <workdir>/eval/, named by split, views and step so none overwrites another.

  <split>_<clips>x<crops>_step<N>_metrics.json    every number (see vidjax.metrics), the checkpoint used
  <split>_<clips>x<crops>_step<N>_per_class.csv   precision, recall, F1, support, most-confused-with class
  <split>_<clips>x<crops>_step<N>_confusion.png   row-normalised confusion matrix
  <split>_<clips>x<crops>_step<N>_videos.csv      per video: path, true class, top-5 classes and probabilities
"""

from __future__ import annotations

import csv
import glob
import json
import os
import re

import numpy as np
from absl import logging

from vidjax.metrics import top_classes
from vidjax.reports import plots

_NAME = re.compile(r"^(?P<split>\w+?)_(?P<clips>\d+)x(?P<crops>\d+)_step(?P<step>\d+)_metrics\.json$")


def tag(split: str, clips: int, crops: int, step: int) -> str:
  return f"{split}_{clips}x{crops}_step{step}"


def write(report: dict, workdir: str, *, split: str, clips: int, crops: int, step: int, checkpoint: str,
          videos: list[str] | None = None, probs: np.ndarray | None = None,
          labels: np.ndarray | None = None) -> dict[str, str]:
  """Writes every file of one evaluation (call on process 0 only); returns their paths."""
  out = os.path.join(workdir, "eval")
  os.makedirs(out, exist_ok=True)
  base = os.path.join(out, tag(split, clips, crops, step))
  files = {"metrics": base + "_metrics.json", "per_class": base + "_per_class.csv",
           "confusion_matrix": base + "_confusion.png"}
  with open(files["metrics"], "w") as f:
    json.dump({"step": step, "split": split, "clips": clips, "crops": crops, "checkpoint": checkpoint, **report}, f,
              indent=1)
  with open(files["per_class"], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["class", "precision", "recall", "f1", "support", "most_confused_with"])
    for c, m in report["per_class"].items():
      w.writerow([c, f"{m['precision']:.4f}", f"{m['recall']:.4f}", f"{m['f1']:.4f}", m["support"],
                  m["most_confused_with"]])
  plots.confusion(np.asarray(report["confusion_matrix"]), report["classes"], files["confusion_matrix"],
                  f"{split} @ step {step}, {clips}x{crops} views\nvideo top-1 {report['accuracy']:.1%}, "
                  f"mean class acc. {report['balanced_accuracy']:.1%}, macro-F1 {report['macro_f1']:.3f}")
  if videos is not None and probs is not None:
    files["videos"] = base + "_videos.csv"
    write_predictions(files["videos"], videos, probs, report["classes"],
                      labels=None if labels is None else [report["classes"][int(i)] for i in labels])
  return files


def write_predictions(path: str, videos: list[str], probs: np.ndarray, classes: list[str],
                      labels: list[str] | None = None) -> None:
  """Top-5 per video as CSV (path, [true,] class_1, prob_1, ..., class_5, prob_5), or JSON by extension."""
  rows = []
  for i, video in enumerate(videos):
    top = top_classes(probs[i], classes)
    rows.append({"video": video, **({"true": labels[i]} if labels is not None else {}), "top5": top})
  if path.endswith(".json"):
    with open(path, "w") as f:
      json.dump([{**r, "top5": [{"class": c, "probability": p} for c, p in r["top5"]]} for r in rows], f, indent=1)
    return
  with open(path, "w", newline="") as f:
    w = csv.writer(f)
    k = min(5, len(classes))
    w.writerow(["video", *(["true"] if labels is not None else []),
                *[x for j in range(1, k + 1) for x in (f"class_{j}", f"prob_{j}")]])
    for r in rows:
      w.writerow([r["video"], *([r["true"]] if labels is not None else []),
                  *[x for c, p in r["top5"] for x in (c, f"{p:.6f}")]])


def find(workdir: str) -> list[dict]:
  """Every evaluation recorded in a workdir: {"split", "clips", "crops", "step", "path"}, oldest step first."""
  found = []
  for path in glob.glob(os.path.join(glob.escape(workdir), "eval", "*_metrics.json")):
    m = _NAME.match(os.path.basename(path))
    if m:
      found.append({"split": m["split"], "clips": int(m["clips"]), "crops": int(m["crops"]), "step": int(m["step"]),
                    "path": path})
  return sorted(found, key=lambda e: (e["step"], e["split"], e["clips"] * e["crops"]))


def log(report: dict, split: str, step: int) -> None:
  logging.info("%s @ step %d: %d videos x %d views | loss %.4f | top-1 %.2f%% | top-5 %.2f%% | clip top-1 %.2f%% | "
               "mean class acc. %.2f%% | macro-F1 %.4f | weighted-F1 %.4f", split, step, report["num_videos"],
               report["views_per_video"], report["loss"], 100 * report["accuracy"], 100 * report["top5"],
               100 * report["clip_accuracy"], 100 * report["balanced_accuracy"], report["macro_f1"],
               report["weighted_f1"])


def log_confused(report: dict) -> None:
  if report["most_confused"]:
    lines = [f"  {m['true']} -> {m['predicted']}: {m['count']} ({m['share_of_true']:.0%} of {m['true']})"
             for m in report["most_confused"]]
    logging.info("Most confused pairs (true -> predicted):\n%s", "\n".join(lines))
