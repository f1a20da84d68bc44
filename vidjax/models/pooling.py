"""How a backbone's last feature map becomes one vector: the choice that decides what a head can know.

`avg` (global average pooling) is what the papers use (ResNets, R(2+1)D, CSN, the studies' CNN+LSTMs): it
keeps *what* was seen and throws away *where*. Actions whose direction lives in the layout of local motion
-- a spin moves left above its centre and right below it; a zoom moves edges outwards on every side --
look the same to a global average of polarity-free motion features. `grid` averages over a coarse
grid x grid layout of cells instead (an adaptive average pool, as in SPP-net and torchvision's
`AdaptiveAvgPool2d(grid)`), so the head sees which part of the frame moved which way; `flatten` keeps
every position. Video models average over time first (their temporal convs have already seen order).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

POOLS = ("avg", "grid", "flatten")


def _cells(n: int, grid: int) -> list[tuple[int, int]]:
  """AdaptiveAvgPool's windows: cell i spans [floor(i n / g), ceil((i + 1) n / g))."""
  return [(i * n // grid, -(-(i + 1) * n // grid)) for i in range(grid)]


def spatial_pool(x: jax.Array, pool: str, grid: int = 2) -> jax.Array:
  """[..., H, W, C] -> [..., C] (avg), [..., grid * grid * C] (grid) or [..., H * W * C] (flatten)."""
  if pool == "avg":
    return x.mean(axis=(-3, -2))
  if pool == "flatten":
    return x.reshape(*x.shape[:-3], -1)
  if pool != "grid":
    raise ValueError(f"config.model.pool={pool!r} is not one of {POOLS}")
  h, w = x.shape[-3:-1]
  if grid < 1 or grid > min(h, w):
    raise ValueError(f"config.model.grid={grid} must be between 1 and the last feature map's size ({h}x{w})")
  if h % grid == 0 and w % grid == 0:  # one reshape: the common case, and the fastest
    y = x.reshape(*x.shape[:-3], grid, h // grid, grid, w // grid, x.shape[-1]).mean(axis=(-4, -2))
  else:
    y = jnp.stack([jnp.stack([x[..., r0:r1, c0:c1, :].mean(axis=(-3, -2)) for c0, c1 in _cells(w, grid)], -2)
                   for r0, r1 in _cells(h, grid)], -3)
  return y.reshape(*x.shape[:-3], -1)
