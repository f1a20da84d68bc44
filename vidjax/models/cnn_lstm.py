"""CNN+LSTM: a 2D CNN on every frame, an LSTM over the frame features, a classifier on the last state.

The HMDB51 study's three variants are configs of the `simple` backbone
(configs/cnn_lstm_{baseline,bn_leaky,deep_dropout}.py); `vgg` and `resnet` are
the UCF101 study's backbones.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from vidjax.models.backbones2d import make_backbone, per_frame
from vidjax.models.lstm import StackedLSTM


class CNNLSTM(nn.Module):
  num_classes: int
  backbone: str = "simple"
  widths: Sequence[int] = ()  # () = the backbone's default
  depths: Sequence[int] = ()  # convs (simple, vgg) or residual blocks (resnet) per stage
  batch_norm: bool = False  # simple/vgg; resnet always has it
  activation: str = "relu"  # relu | leaky_relu
  # avg: global average pool per frame (the studies). It discards where things are, so the LSTM sees
  # motion only indirectly; grid (grid x grid cells) and flatten (simple/vgg) keep the layout (pooling.py).
  pool: str = "avg"
  grid: int = 2
  # False: each frame alone (the studies). True: each frame's CNN also sees its difference from the previous
  # frame (TSN's RGB difference), so a 2D backbone can see motion; imported 3-channel stems do not fit it.
  frame_diff: bool = False
  lstm_hidden: int = 256
  lstm_layers: int = 1
  dropout: float = 0.0  # on the frame features and on the last LSTM state
  remat: bool = False  # recompute the backbone's activations in the backward pass
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    backbone = make_backbone(self.backbone, self.widths, self.depths, self.batch_norm, self.activation, self.dtype,
                             remat=self.remat, pool=self.pool, grid=self.grid)
    if self.frame_diff:
      x = jnp.concatenate([x, x - jnp.concatenate([x[:, :1], x[:, :-1]], axis=1)], axis=-1)
    f = per_frame(backbone, x, train)
    f = nn.Dropout(self.dropout, deterministic=not train)(f)
    _, (_, h) = StackedLSTM(self.lstm_hidden, self.lstm_layers, self.dtype, name="lstm")(f)
    h = nn.Dropout(self.dropout, deterministic=not train)(h)
    return nn.Dense(self.num_classes, dtype=jnp.float32, name="head")(h.astype(jnp.float32))
