"""Heads over per-frame (or per-clip) features: the part of a frozen-feature model that trains.

`FeatureHead` reads stored features ([B, N, D], config.dataset.name='features', written once by --mode=extract),
so an epoch costs the head alone; `FrozenFeatureHead` (frozen_features.py) runs its frozen backbone inside every
step and puts the same head on top. Both build the head with `classify`, under the same parameter names.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from vidjax.models.lstm import StackedLSTM

HEADS = ("mlp", "lstm")


def classify(f: jax.Array, num_classes: int, head: str, hidden: int, dropout: float, train: bool, dtype=None,
             lstm_layers: int = 1) -> jax.Array:
  """[B, N, D] -> logits. mlp: mean over N -> Dense(hidden) -> ReLU -> dropout -> classes (the HMDB51 study's
  head); lstm: an LSTM over the N steps, its last state -> dropout -> classes. Called inside a module's
  compact method, so the layers (fc1 / lstm, head) belong to that module."""
  if head not in HEADS:
    raise ValueError(f"config.model.head={head!r} is not one of {HEADS}")
  if head == "mlp":
    h = nn.relu(nn.Dense(hidden, dtype=dtype, name="fc1")(f.mean(axis=1)))
  else:
    _, (_, h) = StackedLSTM(hidden, lstm_layers, dtype, name="lstm")(f)
  h = nn.Dropout(dropout, deterministic=not train)(h)
  return nn.Dense(num_classes, dtype=jnp.float32, name="head")(h.astype(jnp.float32))


class FeatureHead(nn.Module):
  """Stored features [B, N, D] -> logits."""

  num_classes: int
  head: str = "mlp"
  hidden: int = 256
  dropout: float = 0.3
  lstm_layers: int = 1
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    if x.ndim != 3:
      raise ValueError(f"feature_head takes stored features [batch, N, D], got shape {x.shape}: set "
                       "config.dataset.name='features' and its data_dir to a store written by --mode=extract")
    return classify(x.astype(self.dtype or jnp.float32), self.num_classes, self.head, self.hidden, self.dropout,
                    train, self.dtype, self.lstm_layers)
