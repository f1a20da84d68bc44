"""Numerics against references: class weights, the weighted loss, and both conv implementations."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight

from vidjax import losses
from vidjax.models import layers, winograd


def test_balanced_class_weights_match_sklearn():
  labels = np.array([0] * 30 + [1] * 10 + [2] * 5 + [3] * 55)
  counts = np.bincount(labels).tolist()
  expected = compute_class_weight("balanced", classes=np.arange(4), y=labels)
  np.testing.assert_allclose(losses.class_weights("balanced", counts), expected, rtol=1e-6)
  np.testing.assert_array_equal(losses.class_weights("none", counts), np.ones(4))
  assert losses.class_weights("balanced", [4, 0, 4])[1] == 0


def test_weighted_cross_entropy_matches_numpy_reference():
  rng = np.random.default_rng(0)
  logits = rng.normal(size=(12, 5)).astype(np.float32)
  labels = rng.integers(0, 5, 12)
  w = rng.uniform(0.2, 3.0, 5).astype(np.float32)
  logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
  ce = -logp[np.arange(12), labels]
  expected = (w[labels] * ce).sum() / w[labels].sum()  # PyTorch CrossEntropyLoss(weight=w)
  got = losses.weighted_cross_entropy(jnp.asarray(logits), jnp.asarray(labels), jnp.asarray(w))
  np.testing.assert_allclose(float(got), expected, rtol=1e-5)
  mask = np.ones(12)
  mask[:4] = 0
  got_masked = losses.weighted_cross_entropy(jnp.asarray(logits), jnp.asarray(labels), jnp.asarray(w),
                                             mask=jnp.asarray(mask))
  expected_masked = (w[labels] * ce)[4:].sum() / w[labels][4:].sum()
  np.testing.assert_allclose(float(got_masked), expected_masked, rtol=1e-5)


@pytest.mark.parametrize("strides", [(1, 1, 1), (2, 2, 2), (1, 2, 2)])
def test_depthwise_slices_equal_xla_conv(strides):
  x = jax.random.normal(jax.random.key(0), (2, 7, 9, 10, 6))
  ref = layers.DepthwiseConv3D(strides=strides, impl="xla")
  params = ref.init(jax.random.key(1), x)
  fast = layers.DepthwiseConv3D(strides=strides, impl="slices")
  np.testing.assert_allclose(fast.apply(params, x), ref.apply(params, x), atol=1e-5)
  # and the gradients, which is what training sees
  g_ref = jax.grad(lambda p: (ref.apply(p, x) ** 2).sum())(params)
  g_fast = jax.grad(lambda p: (fast.apply(p, x) ** 2).sum())(params)
  np.testing.assert_allclose(g_fast["params"]["kernel"], g_ref["params"]["kernel"], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kernel,strides", [((3, 3, 3), (1, 2, 2)), ((3, 7, 7), (1, 2, 2)), ((1, 3, 3), (1, 1, 1)),
                                            ((1, 1, 1), (2, 2, 2)), ((3, 5, 5), (1, 1, 1))])  # the last two: plain im2col
def test_conv3d_im2col_equals_xla_conv(kernel, strides):
  x = jax.random.normal(jax.random.key(0), (2, 5, 12, 11, 3))
  ref = layers.Conv3D(8, kernel, strides, use_bias=True, impl="xla")
  params = ref.init(jax.random.key(1), x)
  fast = layers.Conv3D(8, kernel, strides, use_bias=True, impl="slices")
  np.testing.assert_allclose(fast.apply(params, x), ref.apply(params, x), atol=1e-4)


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
  out = {impl: layers.max_pool(x, window, strides, padding, impl=impl) for impl in ("xla", "slices")}
  np.testing.assert_array_equal(out["slices"], out["xla"])
  grads = {impl: jax.grad(lambda x, impl=impl: (layers.max_pool(x, window, strides, padding, impl=impl) ** 3).sum())(x)
           for impl in ("xla", "slices")}
  np.testing.assert_array_equal(grads["slices"], grads["xla"])


@pytest.mark.parametrize("kernel,strides,cin", [((1, 3, 3), (1, 2, 2), 72), ((1, 3, 3), (1, 1, 1), 64),
                                                 ((3, 1, 1), (2, 1, 1), 200),
                                                 ((3, 3, 3), (1, 1, 1), 24), ((3, 3, 3), (2, 2, 2), 40)])
def test_conv3d_wide_and_strided_cpu_forms_equal_xla_conv(kernel, strides, cin):
  """Wide convs on CPU (im2col when strided, XLA's conv for stride-1 convs on small maps): values and both
  gradients equal XLA's own conv's within float32 rounding."""
  x = jax.random.normal(jax.random.key(0), (2, 6, 11, 12, cin))
  ref = layers.Conv3D(16, kernel, strides, impl="xla")
  params = ref.init(jax.random.key(1), x)
  fast = layers.Conv3D(16, kernel, strides, impl="slices")
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
  conv = layers.Conv3D(3, (3, 3, 3), (1, 2, 2), impl="xla")
  got = conv.apply({"params": {"kernel": jnp.asarray(k)}}, jnp.asarray(x))
  np.testing.assert_allclose(got, expected, atol=1e-4)


def test_unknown_impl_is_refused():
  with pytest.raises(ValueError, match="conv impl"):
    layers.DepthwiseConv3D(impl="cudnn").init(jax.random.key(0), jnp.zeros((1, 3, 3, 3, 2)))


@pytest.mark.parametrize("h,w,grid", [(6, 6, 2), (6, 6, 3), (7, 5, 3), (3, 3, 2), (4, 4, 4)])
def test_grid_pool_is_an_adaptive_average_pool(h, w, grid):
  """Cell (i, j) averages rows floor(i h / g)..ceil((i + 1) h / g) and the same for columns, as
  torch.nn.AdaptiveAvgPool2d does; cells are flattened row-major, channels last."""
  from vidjax.models.pooling import spatial_pool

  x = np.random.default_rng(0).normal(size=(2, h, w, 5)).astype(np.float32)
  want = np.zeros((2, grid, grid, 5), np.float32)
  for i in range(grid):
    for j in range(grid):
      r0, r1 = (i * h) // grid, -((-(i + 1) * h) // grid)
      c0, c1 = (j * w) // grid, -((-(j + 1) * w) // grid)
      want[:, i, j] = x[:, r0:r1, c0:c1].mean(axis=(1, 2))
  got = np.asarray(spatial_pool(jnp.asarray(x), "grid", grid))
  np.testing.assert_allclose(got, want.reshape(2, -1), rtol=1e-6, atol=1e-6)
  np.testing.assert_allclose(np.asarray(spatial_pool(jnp.asarray(x), "avg")), x.mean(axis=(1, 2)), rtol=1e-6, atol=1e-6)


def test_pool_settings_are_checked():
  from vidjax.models.pooling import spatial_pool

  x = jnp.zeros((1, 3, 3, 4))
  with pytest.raises(ValueError, match=r"config.model.grid=4 must be between 1 and the last feature map's size \(3x3\)"):
    spatial_pool(x, "grid", 4)
  with pytest.raises(ValueError, match=r"config.model.pool='max' is not one of"):
    spatial_pool(x, "max")


@pytest.mark.parametrize("config_name,overrides,head,features", [
    ("csn", {"pool": "grid", "grid": 3}, ("head",), 3 * 3 * 128),
    ("r3d_18", {"pool": "grid", "grid": 2, "depth": 10, "widths": (8, 16, 32, 64)}, ("fc",), 2 * 2 * 64),
    ("cnn_lstm_resnet", {"pool": "grid", "grid": 2, "widths": (16, 32, 64), "depths": (1, 1, 1), "lstm_hidden": 8},
     ("lstm",), None),
])
def test_every_family_takes_a_grid_head_from_its_config(config_name, overrides, head, features):
  """`pool="grid"` is a config setting of the CSN, the video ResNets and the CNN+LSTMs; the head's input grows."""
  import importlib

  from vidjax.models import build_model

  c = importlib.import_module(f"configs.{config_name}").get_config()
  for k, v in overrides.items():
    c.model[k] = v
  x = np.zeros((1, 8, 48, 48, 1), np.float32)
  model = build_model(c.model, 8)
  variables = model.init(jax.random.key(0), x)
  assert model.apply(variables, x).shape == (1, 8)
  params = variables["params"]
  for name in head:
    params = params[name]
  if features:
    assert params["kernel"].shape == (features, 8)


def test_flatten_is_refused_for_the_resnet_backbone():
  from vidjax.models.backbones2d import make_backbone

  with pytest.raises(ValueError, match="pool='flatten' is for the simple and vgg backbones; resnet takes avg or grid"):
    make_backbone("resnet", pool="flatten")


def _conv_ref(x, k, strides=(1, 1, 1)):
  pads = [(d // 2, d // 2) for d in k.shape[:3]]
  return jax.lax.conv_general_dilated(x, k, strides, pads, dimension_numbers=("NTHWC", "THWIO", "NTHWC"))


def _assert_same_function(fast, x, k, strides=(1, 1, 1)):
  """Values and both gradients of `fast` equal the lax conv's within float32 rounding (1e-5 of each's scale)."""
  ref = functools.partial(_conv_ref, strides=strides)
  cot = jax.random.normal(jax.random.key(7), ref(x, k).shape)
  y_ref, vjp_ref = jax.vjp(ref, x, k)
  y, vjp = jax.vjp(fast, x, k)
  for got, want in ((y, y_ref), *zip(vjp(cot), vjp_ref(cot), strict=True)):
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * float(np.abs(want).max()))


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
  _assert_same_function(lambda x, k: winograd.conv_spatial(x, k, m), x, k)


@pytest.mark.parametrize("t", [16, 8, 5, 2, 1])
@pytest.mark.parametrize("m", [2, 4])
def test_winograd_temporal_equals_lax_conv(t, m):
  x = jax.random.normal(jax.random.key(0), (2, t, 5, 6, 24))
  k = jax.random.normal(jax.random.key(1), (3, 1, 1, 24, 16)) * 0.2
  _assert_same_function(lambda x, k: winograd.conv_temporal(x, k, m), x, k)


@pytest.mark.parametrize("kernel,cin,cout", [((3, 3, 3), 64, 64), ((1, 3, 3), 64, 144), ((3, 1, 1), 144, 64)])
def test_conv3d_on_cpu_takes_winograd_at_zoo_shapes_and_computes_the_same(kernel, cin, cout):
  """R(2+1)D's and R3D's layer-1 convs (map 28 x 28 here): the CPU module must pick Winograd and equal XLA's conv."""
  x = jax.random.normal(jax.random.key(0), (1, 2, 28, 28, cin))
  ref = layers.Conv3D(cout, kernel, impl="xla")
  params = ref.init(jax.random.key(1), x)
  fast = layers.Conv3D(cout, kernel, impl="slices")
  jaxpr = str(jax.make_jaxpr(lambda p: fast.apply(p, x))(params))
  assert "conv_general_dilated" not in jaxpr  # Winograd, not XLA's conv
  _assert_same_function(lambda x, k: fast.apply({"params": {"kernel": k}}, x), x, params["params"]["kernel"])


@pytest.mark.parametrize("kernel,shape", [((3, 7, 7), (2, 4, 32, 32, 3)), ((1, 7, 7), (1, 3, 31, 29, 3)),
                                          ((3, 7, 7), (1, 2, 17, 18, 3)), ((3, 3, 3), (2, 4, 23, 22, 3))])
def test_stem_forms_equal_xla_conv(kernel, shape):
  """The stems on CPU: two-step im2col (undifferentiated, the direct form for stems of <= DIRECT_TERMS terms such
  as the CSN's 3x3x3 one, 81)."""
  x = jax.random.normal(jax.random.key(0), shape)
  ref = layers.Conv3D(16, kernel, (1, 2, 2), impl="xla")
  params = ref.init(jax.random.key(1), x)
  fast = layers.Conv3D(16, kernel, (1, 2, 2), impl="slices")
  direct = np.prod(kernel) * 3 <= layers.DIRECT_TERMS
  assert ("custom_vjp" in str(jax.make_jaxpr(lambda p: fast.apply(p, x))(params))) == direct
  _assert_same_function(lambda x, k: fast.apply({"params": {"kernel": k}}, x), x, params["params"]["kernel"], (1, 2, 2))
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
  ref = layers.Conv3D(24, kernel, impl="xla")
  params = ref.init(jax.random.key(1), x)
  fast = layers.Conv3D(24, kernel, impl="slices")
  np.testing.assert_array_equal(fast.apply(params, x), ref.apply(params, x))
  _assert_same_function(lambda x, k: fast.apply({"params": {"kernel": k}}, x), x, params["params"]["kernel"])


def _conv2d_ref(x, k, stride=1):
  p = k.shape[0] // 2
  return jax.lax.conv_general_dilated(x, k, (stride, stride), [(p, p), (p, p)], dimension_numbers=("NHWC", "HWIO", "NHWC"))


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
  ref = layers.Conv2D(24, kernel, stride, use_bias=True, impl="xla")
  params = ref.init(jax.random.key(1), x)
  fast = layers.Conv2D(24, kernel, stride, use_bias=True, impl="slices")
  y, y_ref = fast.apply(params, x), ref.apply(params, x)  # inference forms
  np.testing.assert_allclose(y, y_ref, rtol=0, atol=1e-5 * float(np.abs(y_ref).max()))
  cot = jax.random.normal(jax.random.key(7), y_ref.shape)
  grads = {m: jax.vjp(lambda p, x, m=m: m.apply(p, x), params, x)[1](cot) for m in (ref, fast)}
  for got, want in zip(jax.tree.leaves(grads[fast]), jax.tree.leaves(grads[ref]), strict=True):
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * float(np.abs(want).max()))


@pytest.mark.parametrize("backbone", ["simple", "resnet", "vgg", "googlenet"])
def test_cnn_lstm_cpu_forms_compute_the_same_model(backbone):
  """conv_impl='auto' (CPU forms) against the same model computed in float64 by XLA's conv: the same logits in
  inference, and loss gradients as close to float64's as XLA's own float32 ones (per parameter, an error norm
  within 3x theirs, or 1e-4 of the gradient's norm). Deep nets with BatchNorm on tiny maps amplify rounding:
  XLA's own float32 gradients here differ from float64 by up to ~3 % for the ResNet backbone and ~2e-4 for
  GoogLeNet (largest element against each leaf's largest, one-off)."""
  from vidjax.models.cnn_lstm import CNNLSTM

  x = jax.random.normal(jax.random.key(0), (2, 3, 32, 32, 3))
  widths, depths = {"googlenet": ((), ()), "vgg": ((16, 32, 32, 32), (2, 1, 1, 1))}.get(backbone, ((16, 32, 32, 32),
                                                                                               (1, 1, 1, 1)))
  model = CNNLSTM(num_classes=5, backbone=backbone, batch_norm=True, activation="leaky_relu", widths=widths,
                  depths=depths)
  variables = model.init(jax.random.key(1), x)

  def loss(params, variables, x, impl):
    y, _ = model.clone(conv_impl=impl).apply({**variables, "params": params}, x, train=True, mutable=["batch_stats"])
    return (y ** 2).sum()

  logits = model.apply(variables, x)
  grads = {impl: jax.grad(loss)(variables["params"], variables, x, impl) for impl in ("auto", "xla")}
  with jax.enable_x64(True):
    v64, x64 = jax.tree.map(lambda a: np.asarray(a, np.float64), (variables, x))
    logits64 = np.asarray(model.clone(conv_impl="xla").apply(v64, x64))
    grads64 = jax.tree.map(np.asarray, jax.grad(loss)(v64["params"], v64, x64, "xla"))  # compared in numpy, float64
  np.testing.assert_allclose(logits, logits64, rtol=0, atol=1e-5 * float(np.abs(logits64).max()))
  leaves = [jax.tree_util.tree_leaves_with_path(jax.tree.map(np.asarray, g)) for g in (grads["auto"], grads["xla"], grads64)]
  for (path, got), (_, xla32), (_, want) in zip(*leaves, strict=True):
    err, err_xla, norm = (float(np.linalg.norm(np.ravel(a))) for a in (got - want, xla32 - want, want))
    assert err <= max(1e-4 * norm, 3 * err_xla), (jax.tree_util.keystr(path), err / norm, err_xla / norm)
