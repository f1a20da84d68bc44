"""Max pooling over the axes between batch and channels, in forms with the same values and the same gradients.

"xla": reduce_window, whose gradient XLA lowers to select-and-scatter. "blocks": where the window equals the stride,
has no padding and divides the sizes (the 2D backbones' 2 x 2 pools), a reshape + max whose gradient is a custom
one. "masked_slices": the max of the window's shifted strided slices, written as the sum of each slice masked to
where it is the *first* maximum in window order, the masks computed outside the gradient, so the gradient is a few
pads and adds. Both CPU forms send the gradient to the element select-and-scatter picks (ties included).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def _blocks_max(x: jax.Array, window: tuple[int, ...]) -> jax.Array:
  return _blocks(x, window).max(axis=tuple(range(2, 2 + 2 * len(window), 2)))


def _blocks(x, window):
  """[N, D0, D1, ..., C] -> [N, D0 / k0, k0, D1 / k1, k1, ..., C]."""
  shape = [x.shape[0]]
  for d, k in zip(x.shape[1:-1], window, strict=True):
    shape += [d // k, k]
  return x.reshape(*shape, x.shape[-1])


def _blocks_max_fwd(x, window):
  y = _blocks_max(x, window)
  return y, (x, y)


def _blocks_max_bwd(window, res, g):
  """The gradient goes to the first maximum of each window in row-major order, as select-and-scatter sends it, built
  from one mask per window position and stacks: JAX's own max gradient (a broadcast compare and divide over the
  reshaped layout) took far longer on XLA:CPU at the CNN+LSTM's first stage."""
  x, y = res
  xb = _blocks(x, window)
  taken = jnp.zeros(y.shape, bool)
  grads = {}
  for pos in np.ndindex(*window):
    part = xb
    for level, i in reversed(list(enumerate(pos))):  # index the window axes from the last, so earlier ones stay put
      part = lax.index_in_dim(part, i, axis=2 + 2 * level, keepdims=False)
    first = (part == y) & ~taken
    taken = taken | first
    grads[pos] = jnp.where(first, g, jnp.zeros_like(g))

  def assemble(prefix):
    level = len(prefix)
    if level == len(window):
      return grads[prefix]
    return jnp.stack([assemble((*prefix, i)) for i in range(window[level])], axis=level + 2)

  return (assemble(()).reshape(x.shape),)


_blocks_max.defvjp(_blocks_max_fwd, _blocks_max_bwd)


def _masked_slices(x, window, strides, padding):
  xp = jnp.pad(x, [(0, 0), *padding, (0, 0)], constant_values=-jnp.inf)
  out = [(n - k) // s + 1 for n, k, s in zip(xp.shape[1:-1], window, strides, strict=True)]
  slices = []
  for offsets in np.ndindex(*window):
    limit = (xp.shape[0], *[o + (m - 1) * s + 1 for o, m, s in zip(offsets, out, strides, strict=True)], xp.shape[-1])
    slices.append(lax.slice(xp, (0, *offsets, 0), limit, (1, *strides, 1)))
  best = lax.stop_gradient(functools.reduce(jnp.maximum, slices))
  taken = jnp.zeros(best.shape, bool)
  y = jnp.zeros(best.shape, x.dtype)
  for sl in slices:
    first = (lax.stop_gradient(sl) == best) & ~taken
    taken = taken | first
    y = y + jnp.where(first, sl, 0)
  return y


def max_pool(form: str, x: jax.Array, window: Sequence[int], strides: Sequence[int],
             padding: Sequence[tuple[int, int]]) -> jax.Array:
  """Runs a max pool in the named form (forms.max_pool)."""
  if form == "xla":
    return nn.max_pool(x, tuple(window), tuple(strides), padding=tuple(map(tuple, padding)))
  if form == "blocks":
    return _blocks_max(x, tuple(window))
  if form == "masked_slices":
    return _masked_slices(x, tuple(window), tuple(strides), [tuple(p) for p in padding])
  raise ValueError(f"no max pool form {form!r}")
