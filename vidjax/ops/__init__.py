"""Convolutions and max pools as models call them: what to compute, never how.

Each call asks `forms` which form computes it on this backend, shape and dtype, and runs that form. Models see
only these four functions; which forms exist and where each runs is `forms.py`'s business.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax

from vidjax.ops import cpu_conv, forms
from vidjax.ops import max_pool as _pool


def conv3d(x: jax.Array, kernel: jax.Array, strides: Sequence[int] = (1, 1, 1)) -> jax.Array:
  """Dense 3D conv, x [N, T, H, W, C], kernel [kt, kh, kw, C, O], padding k // 2 on each side."""
  form = forms.conv3d(kernel.shape[:3], strides, x.shape[-1], *x.shape[1:4], x.dtype)
  return cpu_conv.conv3d(form, x, kernel, strides)


def depthwise_conv3d(x: jax.Array, kernel: jax.Array, strides: Sequence[int] = (1, 1, 1)) -> jax.Array:
  """Per-channel 3D conv, kernel [kt, kh, kw, 1, C] (PyTorch's groups=C layout), padding k // 2 on each side."""
  return cpu_conv.depthwise_conv3d(forms.depthwise_conv3d(x.dtype), x, kernel, strides)


def conv2d(x: jax.Array, kernel: jax.Array, stride: int = 1) -> jax.Array:
  """2D conv, x [N, H, W, C], kernel [k, k, C, O], padding k // 2 on each side."""
  form = forms.conv2d(kernel.shape[0], stride, x.shape[-1], x.shape[1], x.shape[2], x.dtype)
  return cpu_conv.conv2d(form, x, kernel, stride)


def max_pool(x: jax.Array, window: Sequence[int], strides: Sequence[int],
             padding: Sequence[tuple[int, int]]) -> jax.Array:
  """nn.max_pool over the axes between batch and channels (-inf padding), select-and-scatter's gradient."""
  return _pool.max_pool(forms.max_pool(x.shape, window, strides, padding, x.dtype), x, window, strides, padding)
