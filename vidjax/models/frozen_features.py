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
from vidjax.models.feature_head import HEADS, classify


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
    return classify(f, self.num_classes, self.head, self.hidden, self.dropout, train, self.dtype)
