"""2D backbones applied to every frame: the CNN half of CNN+LSTM and of frozen-feature models.

`simple` and `vgg` are plain conv stacks (the HMDB51 and UCF101 studies); `resnet`
is torchvision's ResNet layout (BasicBlock), at its defaults exactly resnet18, with
torchvision's module names so its `.pth` weights import by renaming.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import flax.linen as nn
import jax
import jax.numpy as jnp

from vidjax.models.googlenet import GoogLeNet
from vidjax.models.layers import Conv2D, batch_norm, max_pool
from vidjax.models.pooling import POOLS, spatial_pool

BACKBONES = ("simple", "vgg", "resnet", "googlenet")
DEFAULTS = {  # name -> (widths, convs or blocks per stage)
    "simple": ((32, 64, 128), (1, 1, 1)),
    "vgg": ((32, 64, 128, 256, 512), (2, 2, 2, 2, 2)),
    "resnet": ((64, 128, 256, 512), (2, 2, 2, 2)),  # resnet18
    "googlenet": ((), ()),  # torchvision's, fixed (vidjax/models/googlenet.py)
}
ACTIVATIONS = {"relu": nn.relu, "leaky_relu": nn.leaky_relu}  # leaky slope 0.01, as torch and flax default


def max_pool_2x2(x: jax.Array) -> jax.Array:
  """2x2/2 max pool (floor mode)."""
  return max_pool(x, (2, 2), (2, 2), ((0, 0), (0, 0)))


def _conv(features: int, kernel: int, stride: int, dtype, name: str, use_bias: bool = False) -> Conv2D:
  """nn.Conv's parameters with torchvision's kaiming-normal (fan-out) init."""
  return Conv2D(features, kernel, stride, use_bias=use_bias, dtype=dtype,
                kernel_init=nn.initializers.variance_scaling(2.0, "fan_out", "normal"), name=name)


class PlainCNN(nn.Module):
  """Stages of 3x3 convs (+ BatchNorm) + activation, each stage ending in a 2x2 max pool; then `pool`."""

  widths: Sequence[int]
  depths: Sequence[int]
  batch_norm: bool = False
  activation: str = "relu"
  pool: str = "avg"  # avg: global average pool (the studies); grid / flatten keep where things are (pooling.py)
  dtype: jnp.dtype | None = None
  grid: int = 2

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    act = ACTIVATIONS[self.activation]
    for s, (width, n) in enumerate(zip(self.widths, self.depths, strict=True)):
      for i in range(n):
        name = f"conv{s + 1}_{i + 1}"
        x = _conv(width, 3, 1, self.dtype, name, use_bias=not self.batch_norm)(x)
        if self.batch_norm:
          x = batch_norm(train, self.dtype, f"bn{s + 1}_{i + 1}")(x)
        x = act(x)
      x = max_pool_2x2(x)
    return spatial_pool(x, self.pool, self.grid)


class BasicBlock2D(nn.Module):
  planes: int
  stride: int
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    bn = partial(batch_norm, train, self.dtype)
    y = nn.relu(bn("bn1")(_conv(self.planes, 3, self.stride, self.dtype, "conv1")(x)))
    y = bn("bn2")(_conv(self.planes, 3, 1, self.dtype, "conv2")(y))
    if self.stride != 1 or x.shape[-1] != self.planes:
      x = bn("downsample_1")(_conv(self.planes, 1, self.stride, self.dtype, "downsample_0")(x))
    return nn.relu(x + y)


class ResNet2D(nn.Module):
  """torchvision's ResNet with BasicBlocks; num_classes=0 returns the pooled features."""

  widths: Sequence[int] = (64, 128, 256, 512)
  depths: Sequence[int] = (2, 2, 2, 2)
  num_classes: int = 0
  dtype: jnp.dtype | None = None
  pool: str = "avg"  # avg is torchvision's; grid keeps a coarse layout (pooling.py)
  grid: int = 2

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    x = nn.relu(batch_norm(train, self.dtype, "bn1")(_conv(self.widths[0], 7, 2, self.dtype, "conv1")(x)))
    x = max_pool(x, (3, 3), (2, 2), ((1, 1), (1, 1)))
    for s, (planes, n) in enumerate(zip(self.widths, self.depths, strict=True)):
      for b in range(n):
        x = BasicBlock2D(planes, 2 if (s > 0 and b == 0) else 1, self.dtype, name=f"layer{s + 1}_{b}")(x, train)
    x = spatial_pool(x, self.pool, self.grid)
    if self.num_classes:
      x = nn.Dense(self.num_classes, dtype=jnp.float32, name="fc")(x.astype(jnp.float32))
    return x


def make_backbone(name: str, widths: Sequence[int] = (), depths: Sequence[int] = (), batch_norm: bool = False,
                  activation: str = "relu", dtype=None, module_name: str = "backbone", remat: bool = False,
                  pool: str = "avg", grid: int = 2) -> nn.Module:
  """widths/depths () take the backbone's defaults (DEFAULTS); remat recomputes activations in the backward pass."""
  if name not in BACKBONES:
    raise ValueError(f"config.model.backbone={name!r} is not one of {BACKBONES}")
  if activation not in ACTIVATIONS:
    raise ValueError(f"config.model.activation={activation!r} is not one of {sorted(ACTIVATIONS)}")
  if name == "googlenet":
    if tuple(widths) or tuple(depths):
      raise ValueError("config.model.widths/depths must be () for the googlenet backbone: its layout is fixed")
    if pool == "flatten":
      raise ValueError("config.model.pool='flatten' is for the simple and vgg backbones; googlenet takes avg or grid")
    cls = nn.remat(GoogLeNet, static_argnums=(2,)) if remat else GoogLeNet
    return cls(pool=pool, grid=grid, dtype=dtype, name=module_name)
  dw, dd = DEFAULTS[name]
  widths, depths = tuple(widths) or dw, tuple(depths) or dd
  if len(widths) != len(depths):
    raise ValueError(f"config.model.widths {widths} and config.model.depths {depths} must have the same length")
  if pool not in POOLS:
    raise ValueError(f"config.model.pool={pool!r} is not one of {POOLS}")
  if name == "resnet":
    if pool == "flatten":
      raise ValueError("config.model.pool='flatten' is for the simple and vgg backbones; resnet takes avg or grid")
    cls = nn.remat(ResNet2D, static_argnums=(2,)) if remat else ResNet2D
    return cls(widths, depths, dtype=dtype, pool=pool, grid=grid, name=module_name)
  cls = nn.remat(PlainCNN, static_argnums=(2,)) if remat else PlainCNN
  return cls(widths, depths, batch_norm, activation, pool, dtype, grid, name=module_name)


def per_frame(backbone: nn.Module, x: jax.Array, train: bool) -> jax.Array:
  """[B, T, H, W, C] -> [B, T, D]: frames are folded into the batch, one big 2D pass."""
  b, t = x.shape[:2]
  return backbone(x.reshape(b * t, *x.shape[2:]), train).reshape(b, t, -1)


