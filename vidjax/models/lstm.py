"""An LSTM scanned over time with `nn.scan`, numerically the same as `torch.nn.LSTM`.

Gate order (i, f, g, o), two biases (input and hidden), uniform(+-1/sqrt(H)) init,
as in PyTorch, so weights import and the golden test compares outputs. The input
projection for all steps is one matmul before the scan; only the recurrent matmul
runs inside it.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp


def _uniform(scale: float):
  def init(key, shape, dtype=jnp.float32):
    return jax.random.uniform(key, shape, dtype, -scale, scale)
  return init


class _Step(nn.Module):
  hidden: int
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, carry: tuple[jax.Array, jax.Array], gx: jax.Array):
    c, h = carry
    init = _uniform(self.hidden ** -0.5)
    gates = gx + nn.Dense(4 * self.hidden, dtype=self.dtype, kernel_init=init, bias_init=init, name="hh")(h)
    gates = gates.astype(jnp.float32)
    i, f, g, o = jnp.split(gates, 4, axis=-1)
    c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
    h = jax.nn.sigmoid(o) * jnp.tanh(c)
    return (c, h), h


class LSTM(nn.Module):
  """[B, T, D] -> (all hidden states [B, T, H], (c, h) at the last step)."""

  hidden: int = 256
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array):
    init = _uniform(self.hidden ** -0.5)
    gx = nn.Dense(4 * self.hidden, dtype=self.dtype, kernel_init=init, bias_init=init, name="ih")(x)
    scan = nn.scan(_Step, variable_broadcast="params", split_rngs={"params": False}, in_axes=1, out_axes=1)
    zeros = jnp.zeros((x.shape[0], self.hidden), jnp.float32)
    (c, h), hs = scan(self.hidden, self.dtype, name="step")((zeros, zeros), gx)
    return hs, (c, h)


class StackedLSTM(nn.Module):
  """torch.nn.LSTM(num_layers=n, batch_first=True): layer k is `l{k}`."""

  hidden: int = 256
  layers: int = 1
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array):
    state = None
    for k in range(self.layers):
      x, state = LSTM(self.hidden, self.dtype, name=f"l{k}")(x)
    return x, state
