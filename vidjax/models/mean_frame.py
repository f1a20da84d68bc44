"""A control: a 2D CNN that sees only the temporal mean of the clip.

It cannot perceive the order of frames, so on a motion-only dataset it should
stay near chance; if it does not, the dataset leaks the class into appearance.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from vidjax.models.layers import Conv2D, batch_norm


class MeanFrameCNN(nn.Module):
  num_classes: int
  features: Sequence[int] = (32, 64, 128)
  dropout: float = 0.0
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    x = x.mean(axis=1)  # [B, H, W, C]: the order of frames is gone
    for i, f in enumerate(self.features):
      x = Conv2D(f, 3, 2, dtype=self.dtype, name=f"conv{i + 1}")(x)
      x = nn.relu(batch_norm(train, self.dtype, f"bn{i + 1}")(x))
    x = x.mean(axis=(1, 2))
    x = nn.Dropout(self.dropout, deterministic=not train)(x)
    return nn.Dense(self.num_classes, dtype=jnp.float32, name="head")(x.astype(jnp.float32))
