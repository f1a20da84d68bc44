"""Classification metrics a paper can cite, from per-view probabilities. Pure numpy + scikit-learn, on the host.

Terms, as MMAction2 and PySlowFast papers use them:
- clip-level: every view (one clip x one crop) scored on its own, against its video's label;
- video-level: a video's views averaged (probabilities), then scored once (the number papers report);
- mean class accuracy: the mean over classes of per-class recall (= scikit-learn's balanced accuracy).
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm


def topk_accuracy(probs: np.ndarray, labels: np.ndarray, k: int) -> float:
  """Share of rows whose label is among the k highest probabilities (k is capped at the class count)."""
  k = min(k, probs.shape[-1])
  top = np.argsort(-probs, axis=-1, kind="stable")[:, :k]
  return float((top == labels[:, None]).any(-1).mean())


def most_confused(cm: np.ndarray, classes: list[str], n: int = 10) -> list[dict]:
  """The n largest off-diagonal cells: true class, predicted class, count, share of the true class."""
  off = cm.astype(np.int64).copy()
  np.fill_diagonal(off, 0)
  order = np.argsort(-off, axis=None, kind="stable")[:n]
  rows = cm.sum(1)
  out = []
  for flat in order:
    i, j = divmod(int(flat), cm.shape[1])
    if off[i, j] == 0:
      break
    out.append({"true": classes[i], "predicted": classes[j], "count": int(off[i, j]),
                "share_of_true": float(off[i, j] / max(rows[i], 1))})
  return out


def classification_report(view_probs: np.ndarray, labels: np.ndarray, classes: tuple[str, ...] | list[str]) -> dict:
  """view_probs [N videos, V views, C] (or [N, C] for one view) and labels [N] -> every reported number."""
  if view_probs.ndim == 2:
    view_probs = view_probs[:, None]
  n, v, k = view_probs.shape
  classes = list(classes)
  probs = view_probs.mean(1)
  pred = probs.argmax(-1)
  clip_labels = np.repeat(labels, v)
  clip_probs = view_probs.reshape(n * v, k)
  nll = -np.log(np.clip(probs[np.arange(n), labels], 1e-12, 1.0))
  p, r, f, s = skm.precision_recall_fscore_support(labels, pred, labels=range(k), zero_division=0)
  cm = skm.confusion_matrix(labels, pred, labels=range(k))
  confused_with = []
  for i in range(k):
    row = cm[i].copy()
    row[i] = 0
    confused_with.append(classes[int(row.argmax())] if row.sum() else "")
  return {
      "num_videos": int(n),
      "views_per_video": int(v),
      "loss": float(nll.mean()),
      "accuracy": float((pred == labels).mean()),  # video-level top-1
      "top5": topk_accuracy(probs, labels, 5),  # video-level
      "clip_accuracy": float((clip_probs.argmax(-1) == clip_labels).mean()),
      "clip_top5": topk_accuracy(clip_probs, clip_labels, 5),
      "balanced_accuracy": float(skm.balanced_accuracy_score(labels, pred)),  # = mean class accuracy
      "mean_class_accuracy": float(np.mean([r[i] for i in range(k) if s[i] > 0])) if s.sum() else 0.0,
      "macro_f1": float(skm.f1_score(labels, pred, labels=range(k), average="macro", zero_division=0)),
      "weighted_f1": float(skm.f1_score(labels, pred, labels=range(k), average="weighted", zero_division=0)),
      "per_class": {c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i]),
                        "most_confused_with": confused_with[i]} for i, c in enumerate(classes)},
      "most_confused": most_confused(cm, classes),
      "confusion_matrix": cm.tolist(),
      "classes": classes,
  }


def top_classes(probs: np.ndarray, classes: list[str] | tuple[str, ...], k: int = 5) -> list[tuple[str, float]]:
  """The k most probable classes of one video's probabilities, highest first."""
  order = np.argsort(-probs, kind="stable")[:min(k, len(classes))]
  return [(classes[int(i)], float(probs[int(i)])) for i in order]
