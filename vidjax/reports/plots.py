"""Matplotlib figures (Agg backend: no display needed), each written straight to a PNG."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def confusion(cm: np.ndarray, classes: list[str], path: str, title: str) -> None:
  """Row-normalised (recall per true class) so that class sizes do not hide errors; counts written where they fit.

  Scales with the class count: at 101 classes the cells are ~0.13 in and the tick labels 5 pt.
  """
  k = len(classes)
  size = min(max(6.0, 0.14 * k + 3), 18.0)
  fig, ax = plt.subplots(figsize=(size + 1.2, size))
  rows = cm.sum(1, keepdims=True)
  norm = cm / np.maximum(rows, 1)
  im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1, interpolation="nearest")
  cbar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.02)
  cbar.set_label("share of the true class")
  fontsize = 8 if k <= 20 else max(4, int(9 - k / 15))
  ax.set_xticks(range(k), classes, rotation=90, fontsize=fontsize)
  ax.set_yticks(range(k), classes, fontsize=fontsize)
  ax.set_xlabel("predicted")
  ax.set_ylabel("true")
  ax.set_title(title)
  if k <= 30:
    for i in range(k):
      for j in range(k):
        if cm[i, j]:
          ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7 if k <= 15 else 5,
                  color="white" if norm[i, j] > 0.5 else "black")
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def curves(series: dict[str, tuple[np.ndarray, np.ndarray]], path: str, title: str, ylabel: str) -> None:
  """One labelled line per run: {run name: (steps, values)}."""
  fig, ax = plt.subplots(figsize=(7, 4.2))
  for name, (x, y) in series.items():
    ax.plot(x, y, marker="o" if len(x) <= 12 else None, markersize=3, label=name)
  ax.set_xlabel("step")
  ax.set_ylabel(ylabel)
  ax.set_title(title)
  ax.grid(alpha=0.3)
  if series:
    ax.legend(fontsize=7, loc="best")
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def per_class_bars(classes: list[str], values: dict[str, list[float]], path: str, title: str) -> None:
  """Per-class F1 of several runs side by side: grouped bars, or a heat map past 30 classes."""
  runs = list(values)
  k = len(classes)
  if k <= 30:
    fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * k * max(1, len(runs)) / 2 + 2), 4.5))
    width = 0.8 / max(1, len(runs))
    for n, run in enumerate(runs):
      ax.bar(np.arange(k) + (n - (len(runs) - 1) / 2) * width, values[run], width, label=run)
    ax.set_xticks(range(k), classes, rotation=45, ha="right", fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1")
    ax.legend(fontsize=7)
  else:
    fig, ax = plt.subplots(figsize=(2 + 1.2 * len(runs), min(0.12 * k + 2, 18)))
    im = ax.imshow(np.array([values[r] for r in runs]).T, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    fig.colorbar(im, ax=ax, label="F1")
    ax.set_xticks(range(len(runs)), runs, rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(k), classes, fontsize=5)
  ax.set_title(title)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def confusion_heatmap(cm: np.ndarray, cell: int = 0) -> np.ndarray:
  """Row-normalised confusion matrix as an RGB uint8 image (viridis), one square of `cell` pixels per entry:
  cheap enough to log at every evaluation (TensorBoard's images tab), where the PNG report is per final eval."""
  import cv2

  cm = np.asarray(cm, np.float64)
  rows = cm / np.maximum(cm.sum(1, keepdims=True), 1)
  cell = cell or max(2, 256 // max(len(cm), 1))
  grey = np.repeat(np.repeat((rows * 255).round().astype(np.uint8), cell, 0), cell, 1)
  return cv2.cvtColor(cv2.applyColorMap(grey, cv2.COLORMAP_VIRIDIS), cv2.COLOR_BGR2RGB)
