"""GoogLeNet (Inception v1) in torchvision's layout: the HMDB51 study's frozen frame encoder (1024-d features).

Module names are torchvision's state-dict paths with '.' -> '_' (`inception4a_branch2_1_conv`), so its `.pth`
imports by renaming (vidjax/weights.py). As in torchvision: convs without bias + BatchNorm (eps 1e-3) + ReLU,
max pools with `ceil_mode=True`, a 3x3 conv in the "5x5" branch, and `transform_input` (on for the ImageNet
weights) re-normalising ImageNet-normalised RGB to the scale the original Google weights expect. The auxiliary
classifiers only matter in training from scratch and are left out; their weights are skipped on import.
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from vidjax.models.layers import Conv2D, batch_norm, max_pool
from vidjax.models.pooling import spatial_pool

# name -> (1x1, 3x3 reduce, 3x3, "5x5" reduce, "5x5", pool projection), torchvision's GoogLeNet
INCEPTIONS = {
    "inception3a": (64, 96, 128, 16, 32, 32),
    "inception3b": (128, 128, 192, 32, 96, 64),
    "inception4a": (192, 96, 208, 16, 48, 64),
    "inception4b": (160, 112, 224, 24, 64, 64),
    "inception4c": (128, 128, 256, 24, 64, 64),
    "inception4d": (112, 144, 288, 32, 64, 64),
    "inception4e": (256, 160, 320, 32, 128, 128),
    "inception5a": (256, 160, 320, 32, 128, 128),
    "inception5b": (384, 192, 384, 48, 128, 128),
}
FEATURES = 1024
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def max_pool_ceil(x: jax.Array, window: int, stride: int, pad: int = 0) -> jax.Array:
  """torch.nn.MaxPool2d(window, stride, pad, ceil_mode=True): extra -inf padding on the bottom/right where the
  last window would start inside the input (but never a window that starts in the padding alone)."""
  def extra(size: int) -> int:
    out = math.ceil((size + 2 * pad - window) / stride) + 1
    if (out - 1) * stride >= size + pad:
      out -= 1
    return max(0, (out - 1) * stride + window - (size + 2 * pad))

  h, w = x.shape[1:3]
  return max_pool(x, (window, window), (stride, stride), ((pad, pad + extra(h)), (pad, pad + extra(w))))


class GoogLeNet(nn.Module):
  """Images [N, H, W, 3] -> logits [N, num_classes], or the pooled 1024-d features when num_classes=0."""

  num_classes: int = 0
  transform_input: bool = True  # torchvision's googlenet(weights=...) sets it
  pool: str = "avg"  # avg is torchvision's; grid keeps a coarse layout (pooling.py)
  grid: int = 2
  dtype: jnp.dtype | None = None

  def _basic(self, x: jax.Array, name: str, features: int, kernel: int, stride: int = 1, train: bool = False):
    # padding (kernel - 1) // 2 = kernel // 2 for its odd kernels, as Conv2D pads
    x = Conv2D(features, kernel, stride, dtype=self.dtype, name=f"{name}_conv")(x)
    x = batch_norm(train, self.dtype, f"{name}_bn", epsilon=1e-3)(x)
    return nn.relu(x)

  def _inception(self, x: jax.Array, name: str, train: bool) -> jax.Array:
    c1, c3r, c3, c5r, c5, cp = INCEPTIONS[name]
    b1 = self._basic(x, f"{name}_branch1", c1, 1, train=train)
    b2 = self._basic(self._basic(x, f"{name}_branch2_0", c3r, 1, train=train), f"{name}_branch2_1", c3, 3, train=train)
    b3 = self._basic(self._basic(x, f"{name}_branch3_0", c5r, 1, train=train), f"{name}_branch3_1", c5, 3, train=train)
    b4 = self._basic(max_pool_ceil(x, 3, 1, 1), f"{name}_branch4_1", cp, 1, train=train)
    return jnp.concatenate([b1, b2, b3, b4], axis=-1)

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    if self.transform_input:  # ImageNet normalisation -> (x - 0.5) / 0.5 per channel, as torchvision does
      mean, std = jnp.asarray(_IMAGENET_MEAN, x.dtype), jnp.asarray(_IMAGENET_STD, x.dtype)
      x = x * (std / 0.5) + (mean - 0.5) / 0.5
    x = self._basic(x, "conv1", 64, 7, 2, train)
    x = max_pool_ceil(x, 3, 2)
    x = self._basic(x, "conv2", 64, 1, train=train)
    x = self._basic(x, "conv3", 192, 3, train=train)
    x = max_pool_ceil(x, 3, 2)
    x = self._inception(x, "inception3a", train)
    x = self._inception(x, "inception3b", train)
    x = max_pool_ceil(x, 3, 2)
    for name in ("inception4a", "inception4b", "inception4c", "inception4d", "inception4e"):
      x = self._inception(x, name, train)
    x = max_pool_ceil(x, 2, 2)
    x = self._inception(x, "inception5a", train)
    x = self._inception(x, "inception5b", train)
    x = spatial_pool(x, self.pool, self.grid)
    if self.num_classes:
      x = nn.Dense(self.num_classes, dtype=jnp.float32, name="fc")(x.astype(jnp.float32))
    return x
