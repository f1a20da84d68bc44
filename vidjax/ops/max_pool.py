"""Max pooling over the axes between batch and channels, in forms with the same values and the same gradients.

"xla": reduce_window, whose gradient XLA lowers to select-and-scatter. "blocks": where the window equals the stride,
has no padding and divides the sizes (the 2D backbones' 2 x 2 pools), a reshape + max whose gradient is a custom
one. "masked_slices": the max of the window's shifted strided slices, written as the sum of each slice masked to
where it is the *first* maximum in window order, so the gradient is a few pads and adds. Both CPU forms send the
gradient to the element select-and-scatter picks (ties included).

Both find that element once, as an integer index per window (`_first_max`), and route the gradient by comparing
integers. Comparing floats instead (x == max(x) in the backward) is wrong under jit: XLA may fuse the producer of x
(a BatchNorm and activation) into each consumer and recompute it there, so the recomputed x need not equal the
max it was taken from bit for bit, and a window's gradient is lost or doubled.
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


def _first_max(parts: list[jax.Array]) -> tuple[jax.Array, jax.Array]:
  """(max, index of the first maximum) over same-shaped arrays in window order, in one pass: a later element wins
  only if strictly greater, as select-and-scatter chooses."""
  best, index = parts[0], jnp.zeros(parts[0].shape, jnp.int32)
  for i, part in enumerate(parts[1:], 1):
    better = part > best
    best, index = jnp.where(better, part, best), jnp.where(better, i, index)
  return best, index


def _window_parts(xb, window) -> list[jax.Array]:
  """Each window position's elements of the blocked layout, in row-major window order."""
  parts = []
  for pos in np.ndindex(*window):
    part = xb
    for level, i in reversed(list(enumerate(pos))):  # index the window axes from the last, so earlier ones stay put
      part = lax.index_in_dim(part, i, axis=2 + 2 * level, keepdims=False)
    parts.append(part)
  return parts


def _blocks_max_fwd(x, window):
  y, index = _first_max(_window_parts(_blocks(x, window), window))
  return y, index


def _blocks_max_bwd(window, index, g):
  """The gradient goes to the first maximum of each window in row-major order, as select-and-scatter sends it, built
  from one mask per window position and stacks: JAX's own max gradient (a broadcast compare and divide over the
  reshaped layout) took far longer on XLA:CPU at the CNN+LSTM's first stage."""
  grads = {pos: jnp.where(index == i, g, jnp.zeros_like(g)) for i, pos in enumerate(np.ndindex(*window))}

  def assemble(prefix):
    level = len(prefix)
    if level == len(window):
      return grads[prefix]
    return jnp.stack([assemble((*prefix, i)) for i in range(window[level])], axis=level + 2)

  blocked = assemble(())
  return (blocked.reshape(blocked.shape[0], *[blocked.shape[1 + 2 * d] * k for d, k in enumerate(window)],
                          blocked.shape[-1]),)


_blocks_max.defvjp(_blocks_max_fwd, _blocks_max_bwd)


def _masked_slices(x, window, strides, padding):
  xp = jnp.pad(x, [(0, 0), *padding, (0, 0)], constant_values=-jnp.inf)
  out = [(n - k) // s + 1 for n, k, s in zip(xp.shape[1:-1], window, strides, strict=True)]
  slices = []
  for offsets in np.ndindex(*window):
    limit = (xp.shape[0], *[o + (m - 1) * s + 1 for o, m, s in zip(offsets, out, strides, strict=True)], xp.shape[-1])
    slices.append(lax.slice(xp, (0, *offsets, 0), limit, (1, *strides, 1)))
  _, index = _first_max([lax.stop_gradient(sl) for sl in slices])
  y = jnp.zeros(index.shape, x.dtype)
  for i, sl in enumerate(slices):
    y = y + jnp.where(index == i, sl, 0)
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
