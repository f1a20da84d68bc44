"""vidjax.ops.winograd: F(2, 3) and F(4, 3) convolutions against XLA's conv."""


import jax
import pytest

from tests.helpers.conv_reference import assert_same_function
from vidjax.ops import winograd


# Every stride-1 3x3 / 3x1x1 conv of the video ResNets: map sizes 56, 28, 14, 7 (here with fewer channels), clip
# lengths 16 down to 2 (R3D's layer4), and sizes that are not multiples of the tile (the golden tests' 16 x 16, odd)
@pytest.mark.parametrize("kernel,shape", [
    ((3, 3, 3), (1, 4, 28, 28, 8)), ((3, 3, 3), (2, 2, 14, 15, 16)), ((3, 3, 3), (1, 2, 7, 7, 8)),
    ((3, 3, 3), (1, 1, 9, 6, 4)), ((1, 3, 3), (1, 16, 56, 56, 4)), ((1, 3, 3), (2, 3, 13, 17, 8)),
])
@pytest.mark.parametrize("m", [2, 4])
def test_winograd_spatial_equals_lax_conv(kernel, shape, m):
  x = jax.random.normal(jax.random.key(0), shape)
  k = jax.random.normal(jax.random.key(1), (*kernel, shape[-1], 12)) * 0.2
  assert_same_function(lambda x, k: winograd.conv_spatial(x, k, m), x, k)


@pytest.mark.parametrize("t", [16, 8, 5, 2, 1])
@pytest.mark.parametrize("m", [2, 4])
def test_winograd_temporal_equals_lax_conv(t, m):
  x = jax.random.normal(jax.random.key(0), (2, t, 5, 6, 24))
  k = jax.random.normal(jax.random.key(1), (3, 1, 1, 24, 16)) * 0.2
  assert_same_function(lambda x, k: winograd.conv_temporal(x, k, m), x, k)

