"""--mode=tsne: how separable are a feature store's features? A t-SNE picture, and a k-NN accuracy to quote.

  python main.py --config=configs/frozen_mlp.py --workdir=runs/hmdb_mlp --mode=tsne     # after --mode=extract

Each video becomes one vector: its centre frame's features (the HMDB51 study's look at static appearance) or
their mean over frames (config.features.tsne_pool). The picture is scikit-learn's t-SNE of the train split
(at most config.features.tsne_max_videos, a stratified draw), coloured by class; the number is the accuracy of
a k-nearest-neighbour classifier (cosine distance, k = config.features.knn_k) fitted on train and scored on the
evaluation split: "static features overlap for similar actions" becomes a figure to compare.
"""

from __future__ import annotations

import json
import os

import ml_collections
import numpy as np
from absl import logging


def video_vectors(source, pool: str, limit: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
  """(vectors [n, D], labels [n]) of at most `limit` videos of a feature split, drawn stratified by class."""
  labels = np.asarray(source.labels, np.int64)
  idx = np.arange(len(labels))
  if len(idx) > limit:
    from sklearn.model_selection import train_test_split

    counts = np.bincount(labels)
    strat = labels if counts[counts > 0].min() >= 2 else None
    idx, _ = train_test_split(idx, train_size=limit, random_state=seed, stratify=strat)
    idx = np.sort(idx)
  rows = []
  for i in idx:
    f = np.asarray(source[int(i)]["features"], np.float32)
    rows.append(f[len(f) // 2] if pool == "centre" else f.mean(0))
  return np.stack(rows), labels[idx]


def knn_accuracy(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray, k: int) -> float:
  from sklearn.neighbors import KNeighborsClassifier

  clf = KNeighborsClassifier(n_neighbors=min(k, len(train_x)), metric="cosine").fit(train_x, train_y)
  return float((clf.predict(test_x) == test_y).mean())


def plot(points: np.ndarray, labels: np.ndarray, classes: list[str], path: str, title: str) -> None:
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  k = len(classes)
  cmap = plt.get_cmap("tab10" if k <= 10 else "tab20")
  fig, ax = plt.subplots(figsize=(8.5 if k <= 20 else 11, 7))
  markers = "os^Dv<>P*X"
  for c in range(k):
    sel = labels == c
    if sel.any():
      ax.scatter(points[sel, 0], points[sel, 1], s=10, color=cmap(c % cmap.N), marker=markers[(c // cmap.N) % 10],
                 label=classes[c], alpha=0.8, linewidths=0)
  ax.set_xticks([])
  ax.set_yticks([])
  ax.set_title(title, fontsize=10)
  ax.legend(fontsize=7 if k <= 20 else 5, markerscale=1.5, loc="center left", bbox_to_anchor=(1.0, 0.5),
            ncol=1 if k <= 30 else 2, frameon=False)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def tsne(config: ml_collections.ConfigDict, workdir: str) -> dict:
  """Writes <workdir>/tsne/tsne.png and tsne.json; returns the json's content."""
  from sklearn.manifold import TSNE

  import input_pipeline
  from vidjax import config as config_lib

  config_lib.validate(config)
  f = config.features
  train_split, eval_split = config.dataset.train_split, config.dataset.eval_split
  # the feature store of any config: config.dataset itself, or the one extracted from it into the workdir
  data = input_pipeline.open_dataset(config, splits=(train_split, eval_split), reads="features", workdir=workdir)
  tx, ty = video_vectors(data.sources[train_split], f.tsne_pool, f.tsne_max_videos, config.seed)
  ex, ey = video_vectors(data.sources[eval_split], f.tsne_pool, f.tsne_max_videos, config.seed)
  acc = knn_accuracy(tx, ty, ex, ey, f.knn_k)
  perplexity = float(min(30.0, max(2.0, (len(tx) - 1) / 3)))
  points = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=config.seed).fit_transform(tx)
  out = os.path.join(workdir, "tsne")
  os.makedirs(out, exist_ok=True)
  classes = list(data.classes)
  what = "centre frame" if f.tsne_pool == "centre" else "mean over frames"
  png = os.path.join(out, "tsne.png")
  plot(points, ty, classes, png, f"t-SNE of {data.name} features ({what}), {train_split}: {len(tx)} videos; "
       f"{f.knn_k}-NN accuracy on {eval_split}: {acc:.1%}")
  result = {"store": data.path, "pool": f.tsne_pool, "train_split": train_split, "eval_split": eval_split,
            "train_videos": len(tx), "eval_videos": len(ex), "knn_k": f.knn_k, "knn_metric": "cosine",
            "knn_accuracy": acc, "chance": float(np.bincount(ey).max() / max(len(ey), 1)),
            "perplexity": perplexity, "png": png}
  with open(os.path.join(out, "tsne.json"), "w") as fh:
    json.dump(result, fh, indent=1)
  logging.info("t-SNE written to %s; %d-NN accuracy on %s: %.4f", png, f.knn_k, eval_split, acc)
  print(f"t-SNE: {png}\n{f.knn_k}-NN accuracy ({what} features, {train_split} -> {eval_split}): {acc:.4f} "
        f"(majority class: {result['chance']:.4f})", flush=True)
  return result
