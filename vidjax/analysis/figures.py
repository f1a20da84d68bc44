"""The analysis's figures (matplotlib, Agg), each written straight to a PNG; sized for 8 to 101 classes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

_SPLIT_COLOURS = {"train": "tab:blue", "val": "tab:green", "test": "tab:orange"}
_LABELS = {"duration_s": "duration (s)", "frames": "frames", "fps": "frames per second", "width": "width (px)",
           "height": "height (px)"}


def _tall(k: int) -> float:
  return min(max(3.0, 0.18 * k + 1.2), 22.0)


def class_distribution(classes: list[str], counts: dict[str, list[int]], path: str, title: str) -> None:
  """Videos per class, one bar per split (horizontal: class names stay readable at 101 classes)."""
  k = len(classes)
  fig, ax = plt.subplots(figsize=(7.5, _tall(k)))
  splits = list(counts)
  h = 0.8 / max(len(splits), 1)
  y = np.arange(k)
  for j, split in enumerate(splits):
    ax.barh(y + (j - (len(splits) - 1) / 2) * h, counts[split], height=h, label=split,
            color=_SPLIT_COLOURS.get(split))
  ax.set_yticks(y, classes, fontsize=8 if k <= 30 else 5)
  ax.invert_yaxis()
  ax.set_xlabel("videos")
  ax.set_title(title)
  ax.grid(axis="x", alpha=0.3)
  ax.legend(fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def properties(values: dict[str, dict[str, np.ndarray]], path: str) -> None:
  """One box plot per property (duration, frames, fps, width, height), one box per split."""
  names = list(next(iter(values.values()))) if values else []
  fig, axes = plt.subplots(1, len(names), figsize=(3.0 * len(names), 3.6))
  axes = np.atleast_1d(axes)
  for ax, name in zip(axes, names, strict=True):
    splits = list(values)
    ax.boxplot([values[s][name] for s in splits], tick_labels=splits, showfliers=True)
    ax.set_title(_LABELS.get(name, name), fontsize=10)
    ax.grid(axis="y", alpha=0.3)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def rgb_histograms(classes: list[str], hists: np.ndarray, path: str, title: str) -> None:
  """Small multiples: per class the share of pixels per intensity bin, one line per channel. hists [K, 3, bins]."""
  k = len(classes)
  cols = min(k, 5)
  rows = -(-k // cols)
  fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.0 * rows + 0.6), sharex=True, sharey=True, squeeze=False)
  bins = hists.shape[-1]
  x = (np.arange(bins) + 0.5) * 256 / bins
  share = hists / np.maximum(hists.sum(-1, keepdims=True), 1)
  for i, ax in enumerate(axes.ravel()):
    if i >= k:
      ax.axis("off")
      continue
    for ch, colour in enumerate(("red", "green", "blue")):
      ax.plot(x, share[i, ch], color=colour, linewidth=1)
    ax.set_title(classes[i], fontsize=8)
    ax.tick_params(labelsize=6)
  fig.suptitle(title, fontsize=10)
  fig.supxlabel("intensity", fontsize=8)
  fig.supylabel("share of pixels", fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def flow_magnitude(classes: list[str], per_class: list[np.ndarray], path: str, unit: str) -> None:
  """Per-video mean optical-flow magnitude, one box per class, classes sorted by median (slowest first)."""
  order = np.argsort([np.median(v) if len(v) else 0.0 for v in per_class])
  k = len(classes)
  fig, ax = plt.subplots(figsize=(7.5, _tall(k)))
  ax.boxplot([per_class[i] for i in order], vert=False, tick_labels=[classes[i] for i in order], showfliers=True)
  ax.tick_params(axis="y", labelsize=8 if k <= 30 else 5)
  ax.set_xlabel(unit)
  ax.set_title("Optical-flow magnitude per video (Farneback, sampled frame pairs)")
  ax.grid(axis="x", alpha=0.3)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def flow_direction(classes: list[str], mean_vectors: np.ndarray, path: str, unit: str) -> None:
  """Each class's mean flow vector (x right, y down as on screen) as an arrow from the origin."""
  fig, ax = plt.subplots(figsize=(5.5, 5.5))
  lim = float(np.abs(mean_vectors).max()) * 1.3 if len(mean_vectors) else 1.0
  lim = lim or 1.0
  cmap = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
  for i, (name, (vx, vy)) in enumerate(zip(classes, mean_vectors, strict=True)):
    colour = cmap(i % cmap.N)
    ax.annotate("", xy=(vx, vy), xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": colour})
    if len(classes) <= 30:
      ax.text(vx, vy, name, fontsize=7, color=colour)
  ax.set_xlim(-lim, lim)
  ax.set_ylim(lim, -lim)  # image rows grow downwards
  ax.axhline(0, color="grey", linewidth=0.5)
  ax.axvline(0, color="grey", linewidth=0.5)
  ax.set_xlabel(f"mean horizontal flow ({unit})")
  ax.set_ylabel(f"mean vertical flow ({unit}, down is +)")
  ax.set_title("Mean optical-flow direction per class")
  ax.set_aspect("equal")
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)
