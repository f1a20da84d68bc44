"""The layers every family shares: convolutions with one parameter layout each, BatchNorm as PyTorch sets it, and
max pooling. They hold parameters and say what to compute; `vidjax.ops` decides how, per backend and shape.

Padding is explicit and symmetric (k // 2 each side), as in PyTorch, so ported weights line up.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from vidjax import ops

_FAN_OUT = nn.initializers.variance_scaling(2.0, "fan_out", "truncated_normal")


def batch_norm(train: bool, dtype=None, name: str | None = None, epsilon: float = 1e-5,
               scale_init: nn.initializers.Initializer = nn.initializers.ones) -> nn.BatchNorm:
  """PyTorch's BatchNorm: momentum 0.1 (flax's 0.9), eps 1e-5 unless a port says otherwise (GoogLeNet: 1e-3)."""
  return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=epsilon, dtype=dtype,
                      scale_init=scale_init, name=name)


def _inputs(module: nn.Module, x: jax.Array, shape: tuple[int, ...], init) -> tuple[jax.Array, jax.Array]:
  """The kernel parameter (float32) and x, both in the module's compute dtype."""
  kernel = module.param("kernel", init, shape, jnp.float32)
  dtype = module.dtype or jnp.promote_types(x.dtype, jnp.float32)
  return x.astype(dtype), kernel.astype(dtype)


def _bias(module: nn.Module, y: jax.Array, features: int) -> jax.Array:
  return y + module.param("bias", nn.initializers.zeros, (features,), jnp.float32).astype(y.dtype)


class DepthwiseConv3D(nn.Module):
  """Per-channel 3D conv; kernel [kt, kh, kw, 1, C] (PyTorch's groups=C layout)."""

  kernel_size: Sequence[int] = (3, 3, 3)
  strides: Sequence[int] = (1, 1, 1)
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    x, kernel = _inputs(self, x, (*self.kernel_size, 1, x.shape[-1]), _FAN_OUT)
    return ops.depthwise_conv3d(x, kernel, self.strides)


class Conv3D(nn.Module):
  """Dense 3D conv; kernel [kt, kh, kw, in, out]."""

  features: int
  kernel_size: Sequence[int] = (3, 3, 3)
  strides: Sequence[int] = (1, 1, 1)
  use_bias: bool = False
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    x, kernel = _inputs(self, x, (*self.kernel_size, x.shape[-1], self.features), _FAN_OUT)
    y = ops.conv3d(x, kernel, self.strides)
    return _bias(self, y, self.features) if self.use_bias else y


class Conv2D(nn.Module):
  """nn.Conv's parameters (kernel [kh, kw, in, out], bias), so imported torchvision weights load as they are;
  padding k // 2 on each side."""

  features: int
  kernel_size: int = 3
  stride: int = 1
  use_bias: bool = False
  dtype: jnp.dtype | None = None
  kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    k = self.kernel_size
    x, kernel = _inputs(self, x, (k, k, x.shape[-1], self.features), self.kernel_init)
    y = ops.conv2d(x, kernel, self.stride)
    return _bias(self, y, self.features) if self.use_bias else y


class Pointwise(nn.Module):
  """1x1x1 conv as a matmul over channels, with optional spatio-temporal stride."""

  features: int
  strides: Sequence[int] = (1, 1, 1)
  use_bias: bool = False
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    st, sh, sw = self.strides
    if (st, sh, sw) != (1, 1, 1):
      x = x[:, ::st, ::sh, ::sw]
    return nn.Dense(self.features, use_bias=self.use_bias, dtype=self.dtype, kernel_init=_FAN_OUT, name="dense")(x)


def max_pool(x: jax.Array, window: Sequence[int], strides: Sequence[int],
             padding: Sequence[tuple[int, int]]) -> jax.Array:
  """nn.max_pool over the axes between batch and channels (explicit padding, -inf)."""
  return ops.max_pool(x, window, strides, padding)
