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

