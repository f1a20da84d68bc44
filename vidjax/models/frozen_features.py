"""Heads over frozen per-frame features (the HMDB51 study's best model: features -> temporal mean -> MLP).

The backbone lives under `frozen_backbone`: it runs in inference mode (BatchNorm
statistics fixed), its output is cut from the gradient, and the optimizer leaves
every parameter under a `frozen_*` module unchanged (vidjax/optim.py). Initialise
it from imported weights (config.init.path, e.g. torchvision resnet18); from a
random init it is a random-feature baseline.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from vidjax.models.backbones2d import make_backbone, per_frame
from vidjax.models.lstm import StackedLSTM

HEADS = ("mlp", "lstm")


class FrozenFeatureHead(nn.Module):
  num_classes: int
  backbone: str = "resnet"
  widths: Sequence[int] = ()
  depths: Sequence[int] = ()
  batch_norm: bool = False
  activation: str = "relu"
  head: str = "mlp"  # mlp: mean over time -> hidden -> ReLU -> dropout -> classes; lstm: LSTM -> last state
  hidden: int = 256
  dropout: float = 0.3
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    if self.head not in HEADS:
      raise ValueError(f"config.model.head={self.head!r} is not one of {HEADS}")
    backbone = make_backbone(self.backbone, self.widths, self.depths, self.batch_norm, self.activation, self.dtype,
                             module_name="frozen_backbone")
    f = jax.lax.stop_gradient(per_frame(backbone, x, train=False))
    if self.head == "mlp":
      h = nn.relu(nn.Dense(self.hidden, dtype=self.dtype, name="fc1")(f.mean(axis=1)))
    else:
      _, (_, h) = StackedLSTM(self.hidden, 1, self.dtype, name="lstm")(f)
    h = nn.Dropout(self.dropout, deterministic=not train)(h)
    return nn.Dense(self.num_classes, dtype=jnp.float32, name="head")(h.astype(jnp.float32))
