"""R3D, MC3 and R(2+1)D (Tran et al., CVPR 2018) in torchvision's `VideoResNet` layout.

Module names follow the torchvision state-dict keys with '.' -> '_' (`layer2_0/conv1_0_0`
is `layer2.0.conv1.0.0`), so `vidjax.weights` converts a `.pth` by renaming and
transposing, and the golden tests compare logits with torchvision. Padding is
explicit and symmetric, BatchNorm eps 1e-5, as in PyTorch.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import flax.linen as nn
import jax
import jax.numpy as jnp

from vidjax.models.layers import Conv3D, batch_norm
from vidjax.models.pooling import spatial_pool

ARCHS = ("r3d", "mc3", "r2plus1d")
DEPTHS = {10: ("basic", (1, 1, 1, 1)), 18: ("basic", (2, 2, 2, 2)), 34: ("basic", (3, 4, 6, 3)),
          50: ("bottleneck", (3, 4, 6, 3))}
_EXPANSION = {"basic": 1, "bottleneck": 4}


def midplanes(inplanes: int, planes: int) -> int:
  """(2+1)D width that keeps the parameter count of the 3x3x3 conv it replaces (torchvision's formula)."""
  return (inplanes * planes * 27) // (inplanes * 9 + 3 * planes)


def _conv_kind(arch: str, stage: int) -> str:
  if arch == "r2plus1d":
    return "2plus1d"
  if arch == "mc3" and stage > 0:
    return "2d"  # mixed convolutions: 3D only in the first stage, spatial-only after
  return "3d"


def _conv_unit(x: jax.Array, kind: str, features: int, mid: int, stride: int, train: bool, prefix: str,
               dtype) -> jax.Array:
  """torchvision's conv_builder: a 3x3x3, a 1x3x3, or 1x3x3 -> BN -> ReLU -> 3x1x1 ((2+1)D) conv.

  Called inside a block's compact method, so the modules belong to the block and take torchvision's names:
  `<prefix>_0` for a single conv, `<prefix>_0_{0,1,3}` inside the (2+1)D sequence.
  """
  conv = partial(Conv3D, dtype=dtype)
  s = stride
  if kind == "3d":
    return conv(features, (3, 3, 3), (s, s, s), name=f"{prefix}_0")(x)
  if kind == "2d":
    return conv(features, (1, 3, 3), (1, s, s), name=f"{prefix}_0")(x)
  x = conv(mid, (1, 3, 3), (1, s, s), name=f"{prefix}_0_0")(x)
  x = nn.relu(batch_norm(train, dtype, f"{prefix}_0_1")(x))
  return conv(features, (3, 1, 1), (s, 1, 1), name=f"{prefix}_0_3")(x)


class VideoResNetBlock(nn.Module):
  block: str  # basic | bottleneck
  kind: str  # 3d | 2d | 2plus1d
  inplanes: int
  planes: int
  stride: int
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    conv = partial(Conv3D, dtype=self.dtype)
    bn = partial(batch_norm, train, self.dtype)
    unit = partial(_conv_unit, kind=self.kind, mid=midplanes(self.inplanes, self.planes), train=train,
                   dtype=self.dtype)
    out_planes = self.planes * _EXPANSION[self.block]
    if self.block == "basic":
      y = nn.relu(bn("conv1_1")(unit(x, features=self.planes, stride=self.stride, prefix="conv1")))
      y = bn("conv2_1")(unit(y, features=self.planes, stride=1, prefix="conv2"))
    else:
      y = nn.relu(bn("conv1_1")(conv(self.planes, (1, 1, 1), name="conv1_0")(x)))
      y = nn.relu(bn("conv2_1")(unit(y, features=self.planes, stride=self.stride, prefix="conv2")))
      y = bn("conv3_1")(conv(out_planes, (1, 1, 1), name="conv3_0")(y))
    if self.stride != 1 or self.inplanes != out_planes:
      s = self.stride
      ds = (1, s, s) if self.kind == "2d" else (s, s, s)
      x = bn("downsample_1")(conv(out_planes, (1, 1, 1), ds, name="downsample_0")(x))
    return nn.relu(x + y)


class VideoResNet(nn.Module):
  """torchvision.models.video.{r3d_18, mc3_18, r2plus1d_18} for depth=18; 34 and 50 follow the same layout."""

  num_classes: int
  arch: str = "r2plus1d"
  depth: int = 18
  widths: Sequence[int] = (64, 128, 256, 512)
  # avg: global average pool (torchvision); grid: average over a grid x grid layout (vidjax/models/pooling.py)
  pool: str = "avg"
  grid: int = 2
  dropout: float = 0.0  # before the classifier; torchvision has none
  remat: bool = False
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    if self.arch not in ARCHS:
      raise ValueError(f"config.model.arch={self.arch!r} is not one of {ARCHS}")
    if self.depth not in DEPTHS:
      raise ValueError(f"config.model.depth={self.depth} is not one of {sorted(DEPTHS)}")
    block, blocks = DEPTHS[self.depth]
    conv = partial(Conv3D, dtype=self.dtype)
    bn = partial(batch_norm, train, self.dtype)
    w0 = self.widths[0]
    if self.arch == "r2plus1d":  # stem: 1x7x7 to 45 channels, then 3x1x1
      x = nn.relu(bn("stem_1")(conv(45, (1, 7, 7), (1, 2, 2), name="stem_0")(x)))
      x = nn.relu(bn("stem_4")(conv(w0, (3, 1, 1), name="stem_3")(x)))
    else:
      x = nn.relu(bn("stem_1")(conv(w0, (3, 7, 7), (1, 2, 2), name="stem_0")(x)))
    block_cls = nn.remat(VideoResNetBlock, static_argnums=(2,)) if self.remat else VideoResNetBlock
    inplanes = w0
    for stage, (planes, n) in enumerate(zip(self.widths, blocks, strict=True)):
      for b in range(n):
        stride = 2 if (stage > 0 and b == 0) else 1
        x = block_cls(block, _conv_kind(self.arch, stage), inplanes, planes, stride, self.dtype,
                      name=f"layer{stage + 1}_{b}")(x, train)
        inplanes = planes * _EXPANSION[block]
    x = spatial_pool(x.mean(axis=1), self.pool, self.grid)
    x = nn.Dropout(self.dropout, deterministic=not train)(x)
    return nn.Dense(self.num_classes, dtype=jnp.float32, name="fc")(x.astype(jnp.float32))
