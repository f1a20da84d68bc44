"""Winograd minimal-filtering convolutions (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
CVPR 2016) for the zoo's stride-1 3x3 spatial and 3x1x1 temporal convs on XLA:CPU.

F(m, 3) computes m outputs of a 3-tap filter from m + 2 inputs with m + 2 multiplications instead of 3m. Along
each transformed axis the input is cut into overlapping tiles (strided slices), mapped by B^T, multiplied
channel-wise by the transformed kernel G w G^T (one batched matmul over channels per tile position), and
mapped back by A^T. With F(4, 3) on both spatial axes a 3x3 conv does 36 / (16 x 9) = 1/4 of the direct
conv's multiplications, a 3x1x1 conv 6 / (4 x 3) = 1/2; the transforms are additions XLA fuses. The
gradients are JAX's transposes of the same linear steps, so the backward pass is matmul-shaped too.

Why: XLA:CPU runs R3D's 3x3x3 convs well below the rate of oneDNN's direct kernel (`benchmarks/conv_layers.py
--xla`), and im2col's matmul forms were no faster (`benchmarks/conv_forms.py`): cutting the multiplications is
what is left (BENCHMARKS.md). conv_layers.py times every zoo shape; tests/vidjax/ops/test_winograd.py
checks values and gradients against `lax.conv_general_dilated`. F(4, 3)'s float32 error is a few float32 ulps of the
output's scale.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

# F(m, 3): (B^T, G, A^T) from Lavin & Gray (2016), interpolation points 0, +-1 (F(2, 3)) and 0, +-1, +-2 (F(4, 3)).
_F = {
    2: (np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], np.float64),
        np.array([[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]], np.float64),
        np.array([[1, 1, 1, 0], [0, 1, -1, -1]], np.float64)),
    4: (np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0],
                  [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]], np.float64),
        np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6], [1 / 24, 1 / 12, 1 / 6],
                  [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]], np.float64),
        np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]], np.float64)),
}


def _combine(parts: list[jax.Array], row: np.ndarray) -> jax.Array:
  """sum_k row[k] * parts[k], skipping zeros and writing +-1 as adds (the transforms are mostly 0 and +-1)."""
  acc = None
  for c, p in zip(row, parts, strict=True):
    if c == 0:
      continue
    term = p if c == 1 else (-p if c == -1 else p * np.float32(c))
    acc = term if acc is None else acc + term
  return acc


def _tiles(x: jax.Array, axis: int, m: int, n_tiles: int) -> jax.Array:
  """B^T over `axis` (padded to n_tiles * m + 2): a new leading axis of alpha = m + 2 transformed tile rows."""
  bt = _F[m][0]
  parts = [lax.slice_in_dim(x, k, k + (n_tiles - 1) * m + 1, m, axis=axis) for k in range(m + 2)]
  return jnp.stack([_combine(parts, row) for row in bt], 0)


def _untile(y: jax.Array, axis: int, m: int) -> jax.Array:
  """A^T over `axis` (size alpha): m output rows stacked at `axis`."""
  at = _F[m][2]
  parts = [lax.index_in_dim(y, a, axis=axis, keepdims=False) for a in range(m + 2)]
  return jnp.stack([_combine(parts, row) for row in at], axis)


def _filter(w: jax.Array, axis: int, m: int) -> jax.Array:
  """G over a 3-tap `axis` of the kernel: a new leading axis of alpha transformed taps. Written as scaled sums,
  which XLA fuses into one loop: as an einsum, XLA:CPU ran it as a skinny [C*O*..., 3] x [3, 6] matmul, a
  large share of a conv's time at R3D's 256-channel stage (benchmarks/step_profile.py)."""
  parts = [lax.index_in_dim(w, k, axis=axis, keepdims=False) for k in range(3)]
  return jnp.stack([_combine(parts, row) for row in _F[m][1]], 0)


def supported(kernel_size, strides) -> str | None:
  """Which Winograd form a conv can take: 'spatial' (kt x 3 x 3, kt odd), 'temporal' (3x1x1), or None."""
  kt, kh, kw = kernel_size
  if tuple(strides) != (1, 1, 1):
    return None
  if (kh, kw) == (3, 3) and kt % 2 == 1:
    return "spatial"
  if (kt, kh, kw) == (3, 1, 1):
    return "temporal"
  return None


def conv_spatial(x: jax.Array, kernel: jax.Array, m: int = 4) -> jax.Array:
  """Stride-1 conv with a [kt, 3, 3, C, O] kernel, padding (kt // 2, 1, 1): F(m x m, 3 x 3) over H and W, and the
  kt temporal taps as kt matmuls over time-shifted tiles, summed. x: [N, T, H, W, C]."""
  n, t, h, w, c = x.shape
  kt, o = kernel.shape[0], kernel.shape[-1]
  alpha = m + 2
  nh, nw = -(-h // m), -(-w // m)
  xp = jnp.pad(x, [(0, 0), (kt // 2, kt // 2), (1, nh * m + 1 - h), (1, nw * m + 1 - w), (0, 0)])
  v = _tiles(_tiles(xp, 2, m, nh), 4, m, nw)  # [alpha_w, alpha_h, N, T + kt - 1, nh, nw, C]
  u = _filter(_filter(kernel, 1, m), 2, m).reshape(alpha * alpha, kt, c, o)  # [alpha_w, alpha_h, kt, C, O]
  out = None
  for a in range(kt):
    va = lax.slice_in_dim(v, a, a + t, axis=3).reshape(alpha * alpha, -1, c)
    term = jnp.einsum("apc,aco->apo", va, u[:, a])
    out = term if out is None else out + term
  y = out.reshape(alpha, alpha, n, t, nh, nw, o)
  y = _untile(_untile(y, 0, m), 1, m)  # [m_w, m_h, N, T, nh, nw, O]
  y = jnp.transpose(y, (2, 3, 4, 1, 5, 0, 6)).reshape(n, t, nh * m, nw * m, o)
  return y[:, :, :h, :w]


def conv_temporal(x: jax.Array, kernel: jax.Array, m: int = 4) -> jax.Array:
  """Stride-1 conv with a [3, 1, 1, C, O] kernel, padding (1, 0, 0): F(m, 3) over T. x: [N, T, H, W, C]."""
  n, t, h, w, c = x.shape
  o = kernel.shape[-1]
  nt = -(-t // m)
  xp = jnp.pad(x, [(0, 0), (1, nt * m + 1 - t), (0, 0), (0, 0), (0, 0)])
  v = _tiles(xp, 1, m, nt).reshape(m + 2, -1, c)  # [alpha, N * nt * H * W, C]
  u = _filter(kernel[:, 0, 0], 0, m)  # [alpha, C, O]
  y = jnp.einsum("apc,aco->apo", v, u).reshape(m + 2, n, nt, h, w, o)
  y = _untile(y, 0, m)  # [m, N, nt, H, W, O]
  y = jnp.transpose(y, (1, 2, 0, 3, 4, 5)).reshape(n, nt * m, h, w, o)
  return y[:, :t]
