"""Channel-separated networks (Tran et al., ICCV 2019, "Video Classification with
Channel-Separated Convolutional Networks").

ir-CSN: the bottleneck's 3x3x3 conv becomes a depthwise 3x3x3 conv (no channel
interaction inside it). ip-CSN keeps interaction with an extra 1x1x1 conv and
BatchNorm before the depthwise one. `dw2plus1d` is the UCF101 study's "2D depthwise +
(2+1)D" net, read as: the depthwise 3x3x3 factorised into a depthwise 1x3x3
(spatial, per frame) then a depthwise 3x1x1 (temporal), with BN + ReLU between.

`depth` selects the paper's stage sizes (26/50/101/152, bottleneck blocks,
expansion 4); parameter counts are checked against published ones in
tests/vidjax/models/test_csn.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from vidjax.models.layers import Conv3D, DepthwiseConv3D, Pointwise, batch_norm, max_pool
from vidjax.models.pooling import spatial_pool

VARIANTS = ("ir", "ip", "dw2plus1d")
DEPTHS = {26: (2, 2, 2, 2), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


class CSNBlock(nn.Module):
  features: int  # output channels
  mid: int  # bottleneck channels
  strides: Sequence[int]
  variant: str = "ir"
  zero_init_residual: bool = True
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    def norm(name, **kw):
      return batch_norm(train, self.dtype, name, **kw)

    y = nn.relu(norm("bn1")(Pointwise(self.mid, dtype=self.dtype, name="conv1")(x)))
    if self.variant == "ip":  # 1x1x1 + BN, no ReLU, as in the authors' release (VMZ's "0.3d" block)
      y = norm("bn2_pw")(Pointwise(self.mid, dtype=self.dtype, name="conv2_pw")(y))
    if self.variant == "dw2plus1d":
      st, sh, sw = self.strides
      y = DepthwiseConv3D((1, 3, 3), (1, sh, sw), self.dtype, name="conv2_dw_s")(y)
      y = nn.relu(norm("bn2_s")(y))
      y = DepthwiseConv3D((3, 1, 1), (st, 1, 1), self.dtype, name="conv2_dw_t")(y)
    else:
      y = DepthwiseConv3D((3, 3, 3), self.strides, self.dtype, name="conv2_dw")(y)
    y = nn.relu(norm("bn2")(y))
    y = Pointwise(self.features, dtype=self.dtype, name="conv3")(y)
    # Zero-init of the last BN scale makes each block start as the identity, which
    # keeps deep stacks stable (Goyal et al. 2017); shallow nets learn faster without it.
    y = norm("bn3", scale_init=nn.initializers.zeros if self.zero_init_residual else nn.initializers.ones)(y)
    if x.shape[-1] != self.features or tuple(self.strides) != (1, 1, 1):
      x = norm("bn_proj")(Pointwise(self.features, self.strides, dtype=self.dtype, name="proj")(x))
    return nn.relu(x + y)


class CSN(nn.Module):
  """Stem conv -> stages of CSN bottleneck blocks -> pool (global average, or a spatial grid) -> linear."""

  num_classes: int
  stem_features: int = 64
  stem_kernel: Sequence[int] = (3, 7, 7)
  stem_strides: Sequence[int] = (1, 2, 2)
  stem_pool: bool = True  # 1x3x3 max pool, stride (1,2,2), as in ResNets
  stage_features: Sequence[int] = (256, 512, 1024, 2048)
  stage_blocks: Sequence[int] = (3, 4, 6, 3)
  depth: int = 0  # 26, 50, 101 or 152 sets stage_blocks to the paper's; 0 uses stage_blocks
  stage_strides: Sequence[Sequence[int]] = ((1, 1, 1), (2, 2, 2), (2, 2, 2), (2, 2, 2))
  expansion: int = 4  # block output / bottleneck channels
  variant: str = "ir"
  zero_init_residual: bool = True
  # avg: global average pool (the paper); grid: average over a grid x grid layout, which keeps where motion
  # happens (vidjax/models/pooling.py says when that matters).
  pool: str = "avg"
  grid: int = 2
  dropout: float = 0.0
  remat: bool = False  # recompute each block's activations in the backward pass (memory measured: BENCHMARKS.md)
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    if self.variant not in VARIANTS:
      raise ValueError(f"config.model.variant={self.variant!r} is not one of {VARIANTS}")
    if self.depth and self.depth not in DEPTHS:
      raise ValueError(f"config.model.depth={self.depth} is not one of {sorted(DEPTHS)} (or 0: use stage_blocks)")
    stage_blocks = DEPTHS[self.depth] if self.depth else self.stage_blocks
    x = Conv3D(self.stem_features, self.stem_kernel, self.stem_strides, dtype=self.dtype, name="stem_conv")(x)
    x = nn.relu(batch_norm(train, self.dtype, "stem_bn")(x))
    if self.stem_pool:
      x = max_pool(x, (1, 3, 3), (1, 2, 2), ((0, 0), (1, 1), (1, 1)))
    block_cls = nn.remat(CSNBlock, static_argnums=(2,)) if self.remat else CSNBlock
    for s, (features, blocks) in enumerate(zip(self.stage_features, stage_blocks, strict=True)):
      for b in range(blocks):
        strides = self.stage_strides[s] if b == 0 else (1, 1, 1)
        x = block_cls(features, max(1, features // self.expansion), strides, self.variant, self.zero_init_residual,
                     self.dtype, name=f"stage{s + 1}_block{b + 1}")(x, train)
    x = spatial_pool(x.mean(axis=1), self.pool, self.grid)
    x = nn.Dropout(self.dropout, deterministic=not train)(x)
    return nn.Dense(self.num_classes, dtype=jnp.float32, name="head")(x.astype(jnp.float32))
