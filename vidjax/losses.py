"""Class-weighted softmax cross-entropy."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax


def class_weights(mode: str, counts: list[int]) -> np.ndarray:
  """'balanced' = n_samples / (n_classes * count), as sklearn's compute_class_weight.

  A class absent from training gets weight 0 (it never appears as a label).
  """
  counts_np = np.asarray(counts, np.float64)
  if mode == "none":
    return np.ones(len(counts), np.float32)
  if mode != "balanced":
    raise ValueError(f"unknown class weighting {mode!r}")
  present = counts_np > 0
  w = np.zeros_like(counts_np)
  w[present] = counts_np.sum() / (present.sum() * counts_np[present])
  return w.astype(np.float32)


def weighted_cross_entropy(logits: jax.Array, labels: jax.Array, weights: jax.Array,
                           label_smoothing: float = 0.0, mask: jax.Array | None = None,
                           reduce: bool = True) -> jax.Array:
  """sum_i w[y_i] * ce_i / sum_i w[y_i] over the global batch (PyTorch's weighted mean).

  Under jit with a batch sharded over devices the sums are global, so the
  normaliser is right by construction on any device count.
  """
  num_classes = logits.shape[-1]
  targets = jax.nn.one_hot(labels, num_classes)
  if label_smoothing:
    targets = optax.smooth_labels(targets, label_smoothing)
  ce = optax.softmax_cross_entropy(logits.astype(jnp.float32), targets)
  w = weights[labels]
  if mask is not None:
    w = w * mask
  if not reduce:
    return w * ce  # per-example weighted terms, for callers that normalise over a larger batch
  return jnp.sum(w * ce) / jnp.maximum(jnp.sum(w), 1e-12)
