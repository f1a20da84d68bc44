"""vidjax.ops.max_pool: the CPU forms give XLA's values and select-and-scatter's gradient, ties included."""


import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.helpers.conv_reference import under
from vidjax.models import layers


@pytest.mark.parametrize("shape,window,strides,padding", [
    ((2, 5, 13, 12, 4), (1, 3, 3), (1, 2, 2), ((0, 0), (1, 1), (1, 1))),  # the CSN stem pool, odd and even sizes
    ((2, 4, 14, 14, 3), (1, 3, 3), (1, 2, 2), ((0, 0), (1, 1), (1, 1))),
    ((3, 11, 10, 5), (3, 3), (2, 2), ((1, 1), (1, 1))),  # a 2D ResNet stem's pool
    ((2, 8, 8, 2), (2, 2), (2, 2), ((0, 0), (0, 0))),  # the 2D backbones' pool: reshape + max, custom gradient
    ((3, 112, 112, 32), (2, 2), (2, 2), ((0, 0), (0, 0))),  # the CNN+LSTM's first pool, at full size
    ((2, 3, 8, 6, 3), (1, 2, 2), (1, 2, 2), ((0, 0), (0, 0), (0, 0))),
    ((2, 7, 9, 2), (2, 2), (2, 2), ((0, 0), (0, 0))),  # odd sizes (floor mode): the slices form
])
def test_max_pool_slices_equal_xla_values_and_gradients_exactly(shape, window, strides, padding):
  """After a ReLU most windows tie (at 0): the gradient must still go to the element select-and-scatter picks."""
  x = jax.nn.relu(jax.random.normal(jax.random.key(0), shape))
  x = x.at[..., 0].set(jnp.round(x[..., 0]))  # ties at positive values too
  def pool(x):
    return layers.max_pool(x, window, strides, padding)

  out = {s: under(s, pool, x) for s in ("xla", "cpu")}
  np.testing.assert_array_equal(out["cpu"], out["xla"])
  grads = {s: under(s, jax.grad(lambda x: (pool(x) ** 3).sum()), x) for s in ("xla", "cpu")}
  np.testing.assert_array_equal(grads["cpu"], grads["xla"])


@pytest.mark.parametrize("shape,window,strides,padding", [
    ((6, 32, 32, 16), (2, 2), (2, 2), ((0, 0), (0, 0))),  # the CNN+LSTM's pools: blocks
    ((2, 4, 14, 14, 16), (1, 3, 3), (1, 2, 2), ((0, 0), (1, 1), (1, 1))),  # the CSN stem's: masked slices
])
def test_max_pool_gradient_is_right_when_jit_fuses_a_batchnorm_into_it(shape, window, strides, padding):
  """As in training: BatchNorm (batch statistics) + leaky ReLU + pool, compiled whole. XLA may recompute the fused
  BatchNorm output in each of its consumers, which once lost or doubled a window's gradient (a float compare in
  the backward). The CPU forms' gradients must be XLA's within float32 rounding."""
  x = jax.random.normal(jax.random.key(0), shape)
  scale = jax.random.uniform(jax.random.key(1), shape[-1:], minval=0.5, maxval=1.5)
  cot = jax.random.normal(jax.random.key(2), jax.eval_shape(
      lambda: layers.max_pool(x, window, strides, padding)).shape)

  def loss(x, scale):
    axes = tuple(range(x.ndim - 1))
    y = (x - x.mean(axes)) * jax.lax.rsqrt(x.var(axes) + 1e-5) * scale
    return (layers.max_pool(jax.nn.leaky_relu(y), window, strides, padding) * cot).sum()

  grads = {s: under(s, jax.jit(jax.grad(loss, argnums=(0, 1))), x, scale) for s in ("xla", "cpu")}
  for got, want in zip(grads["cpu"], grads["xla"], strict=True):
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * float(np.abs(want).max()))

