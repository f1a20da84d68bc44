"""vidjax.ops.cpu_conv: every CPU form of a conv computes XLA's conv: values and both gradients."""


import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.helpers.conv_reference import Under, assert_same_function
from vidjax.models import layers
from vidjax.ops import forms


@pytest.mark.parametrize("strides", [(1, 1, 1), (2, 2, 2), (1, 2, 2)])
def test_depthwise_slices_equal_xla_conv(strides):
  x = jax.random.normal(jax.random.key(0), (2, 7, 9, 10, 6))
  ref = Under(layers.DepthwiseConv3D(strides=strides), "xla")
  params = ref.init(jax.random.key(1), x)
  fast = Under(layers.DepthwiseConv3D(strides=strides), "cpu")
  np.testing.assert_allclose(fast.apply(params, x), ref.apply(params, x), atol=1e-5)
  # and the gradients, which is what training sees
  g_ref = jax.grad(lambda p: (ref.apply(p, x) ** 2).sum())(params)
  g_fast = jax.grad(lambda p: (fast.apply(p, x) ** 2).sum())(params)
  np.testing.assert_allclose(g_fast["params"]["kernel"], g_ref["params"]["kernel"], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kernel,strides", [((3, 3, 3), (1, 2, 2)), ((3, 7, 7), (1, 2, 2)), ((1, 3, 3), (1, 1, 1)),
                                            ((1, 1, 1), (2, 2, 2)), ((3, 5, 5), (1, 1, 1))])  # the last two: plain im2col
def test_conv3d_im2col_equals_xla_conv(kernel, strides):
  x = jax.random.normal(jax.random.key(0), (2, 5, 12, 11, 3))
  ref = Under(layers.Conv3D(8, kernel, strides, use_bias=True), "xla")
  params = ref.init(jax.random.key(1), x)
  fast = Under(layers.Conv3D(8, kernel, strides, use_bias=True), "cpu")
  np.testing.assert_allclose(fast.apply(params, x), ref.apply(params, x), atol=1e-4)


@pytest.mark.parametrize("kernel,strides,cin", [((1, 3, 3), (1, 2, 2), 72), ((1, 3, 3), (1, 1, 1), 64),
                                                 ((3, 1, 1), (2, 1, 1), 200),
                                                 ((3, 3, 3), (1, 1, 1), 24), ((3, 3, 3), (2, 2, 2), 40)])
def test_conv3d_wide_and_strided_cpu_forms_equal_xla_conv(kernel, strides, cin):
  """Wide convs on CPU (im2col when strided, XLA's conv for stride-1 convs on small maps): values and both
  gradients equal XLA's own conv's within float32 rounding."""
  x = jax.random.normal(jax.random.key(0), (2, 6, 11, 12, cin))
  ref = Under(layers.Conv3D(16, kernel, strides), "xla")
  params = ref.init(jax.random.key(1), x)
  fast = Under(layers.Conv3D(16, kernel, strides), "cpu")
  y = ref.apply(params, x)
  np.testing.assert_allclose(fast.apply(params, x), y, rtol=0, atol=1e-5 * np.abs(y).max())
  grads = {m: jax.grad(lambda p, x, m=m: (m.apply(p, x) ** 2).sum(), argnums=(0, 1))(params, x) for m in (ref, fast)}
  (gp_ref, gx_ref), (gp, gx) = grads[ref], grads[fast]
  scale = np.abs(gp_ref["params"]["kernel"]).max()
  np.testing.assert_allclose(gp["params"]["kernel"], gp_ref["params"]["kernel"], rtol=0, atol=1e-5 * scale)
  np.testing.assert_allclose(gx, gx_ref, rtol=0, atol=1e-5 * np.abs(gx_ref).max())


def test_xla_conv_matches_direct_definition():
  """Pin the layout and symmetric padding against a loop written from the definition."""
  rng = np.random.default_rng(0)
  x = rng.normal(size=(1, 4, 5, 5, 2)).astype(np.float32)
  k = rng.normal(size=(3, 3, 3, 2, 3)).astype(np.float32)
  xp = np.pad(x, [(0, 0), (1, 1), (1, 1), (1, 1), (0, 0)])
  expected = np.zeros((1, 4, 3, 3, 3), np.float32)  # stride (1, 2, 2)
  for t in range(4):
    for i in range(3):
      for j in range(3):
        patch = xp[0, t:t + 3, 2 * i:2 * i + 3, 2 * j:2 * j + 3]
        expected[0, t, i, j] = np.einsum("abcd,abcde->e", patch, k)
  conv = Under(layers.Conv3D(3, (3, 3, 3), (1, 2, 2)), "xla")
  got = conv.apply({"params": {"kernel": jnp.asarray(k)}}, jnp.asarray(x))
  np.testing.assert_allclose(got, expected, atol=1e-4)


@pytest.mark.parametrize("kernel,cin,cout", [((3, 3, 3), 64, 64), ((1, 3, 3), 64, 144), ((3, 1, 1), 144, 64)])
def test_conv3d_on_cpu_takes_winograd_at_zoo_shapes_and_computes_the_same(kernel, cin, cout):
  """R(2+1)D's and R3D's layer-1 convs (map 28 x 28 here): the CPU module must pick Winograd and equal XLA's conv."""
  x = jax.random.normal(jax.random.key(0), (1, 2, 28, 28, cin))
  ref = Under(layers.Conv3D(cout, kernel), "xla")
  params = ref.init(jax.random.key(1), x)
  fast = Under(layers.Conv3D(cout, kernel), "cpu")
  jaxpr = str(jax.make_jaxpr(lambda p: fast.apply(p, x))(params))
  assert "conv_general_dilated" not in jaxpr  # Winograd, not XLA's conv
  assert_same_function(lambda x, k: fast.apply({"params": {"kernel": k}}, x), x, params["params"]["kernel"])


@pytest.mark.parametrize("kernel,shape", [((3, 7, 7), (2, 4, 32, 32, 3)), ((1, 7, 7), (1, 3, 31, 29, 3)),
                                          ((3, 7, 7), (1, 2, 17, 18, 3)), ((3, 3, 3), (2, 4, 23, 22, 3))])
def test_stem_forms_equal_xla_conv(kernel, shape):
  """The stems on CPU: two-step im2col (undifferentiated, the direct form for stems of at most the
  `direct_max_terms` threshold's taps x channels, such as the CSN's 3x3x3 one, 81)."""
  x = jax.random.normal(jax.random.key(0), shape)
  ref = Under(layers.Conv3D(16, kernel, (1, 2, 2)), "xla")
  params = ref.init(jax.random.key(1), x)
  fast = Under(layers.Conv3D(16, kernel, (1, 2, 2)), "cpu")
  direct = np.prod(kernel) * 3 <= forms.THRESHOLDS["direct_max_terms"].value
  assert ("custom_vjp" in str(jax.make_jaxpr(lambda p: fast.apply(p, x))(params))) == direct
  assert_same_function(lambda x, k: fast.apply({"params": {"kernel": k}}, x), x, params["params"]["kernel"], (1, 2, 2))
  y = fast.apply(params, x)  # the inference form, outside any differentiation
  np.testing.assert_allclose(y, ref.apply(params, x), rtol=0, atol=1e-5 * float(np.abs(y).max()))
  inference = str(jax.make_jaxpr(lambda p: fast.apply(p, x))(params))
  assert "conv_general_dilated" not in inference


@pytest.mark.parametrize("kernel,shape", [((1, 3, 3), (1, 8, 7, 7, 32)), ((3, 3, 3), (1, 16, 7, 7, 8)),
                                          ((1, 3, 3), (2, 2, 7, 7, 16))])
def test_small_maps_take_xla_in_inference_and_winograd_in_training(kernel, shape):
  """7 x 7 maps: XLA's conv undifferentiated (identical values); under jax.grad Winograd's gradients on clips of
  8 frames or more, XLA's on shorter ones; all equal to XLA's conv's within float32 rounding."""
  x = jax.random.normal(jax.random.key(0), shape)
  ref = Under(layers.Conv3D(24, kernel), "xla")
  params = ref.init(jax.random.key(1), x)
  fast = Under(layers.Conv3D(24, kernel), "cpu")
  np.testing.assert_array_equal(fast.apply(params, x), ref.apply(params, x))
  assert_same_function(lambda x, k: fast.apply({"params": {"kernel": k}}, x), x, params["params"]["kernel"])


# Every kind of 2D conv in the CNN+LSTM backbones (simple, vgg, resnet): the first 3x3 from RGB (and from RGB +
# difference, 6 channels), stride-1 3x3 convs on maps >= 7 (Winograd in training) and smaller (XLA's), the 7x7
# stem, a narrow and a wide stride-2 3x3, the 1x1 stride-2 downsample.
@pytest.mark.parametrize("kernel,stride,shape", [
    (3, 1, (2, 12, 13, 3)), (3, 1, (2, 9, 8, 6)), (3, 1, (2, 14, 15, 16)), (3, 1, (1, 7, 7, 64)), (3, 1, (2, 4, 4, 64)),
    (7, 2, (2, 32, 31, 3)), (3, 2, (2, 12, 11, 8)), (3, 2, (2, 12, 11, 32)), (3, 2, (2, 11, 12, 64)),
    (1, 2, (2, 10, 10, 16)),
])
def test_conv2d_cpu_forms_equal_xla_conv(kernel, stride, shape):
  x = jax.random.normal(jax.random.key(0), shape)
  ref = Under(layers.Conv2D(24, kernel, stride, use_bias=True), "xla")
  params = ref.init(jax.random.key(1), x)
  fast = Under(layers.Conv2D(24, kernel, stride, use_bias=True), "cpu")
  y, y_ref = fast.apply(params, x), ref.apply(params, x)  # inference forms
  np.testing.assert_allclose(y, y_ref, rtol=0, atol=1e-5 * float(np.abs(y_ref).max()))
  cot = jax.random.normal(jax.random.key(7), y_ref.shape)
  grads = {m: jax.vjp(lambda p, x, m=m: m.apply(p, x), params, x)[1](cot) for m in (ref, fast)}
  for got, want in zip(jax.tree.leaves(grads[fast]), jax.tree.leaves(grads[ref]), strict=True):
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * float(np.abs(want).max()))

