"""3D convolutions with one parameter layout and two implementations.

XLA:GPU/TPU lower `lax.conv_general_dilated` to cuDNN/MXU kernels, which is the
right form there. XLA:CPU is ~10x slower on depthwise (grouped) 3D convs, slow on
convs with few input channels, and 2-5x slower than PyTorch's oneDNN on dense 3D
convs, above all their gradients; shifted slices (depthwise), Winograd (winograd.py),
direct and im2col forms are faster there. `impl="auto"` picks per backend; tests
check that both forms compute the same function. Padding is explicit and
symmetric (k // 2 each side), as in PyTorch, so ported weights line up.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from vidjax.models import winograd

IMPLS = ("auto", "xla", "slices")


def _resolve(impl: str) -> str:
  if impl not in IMPLS:
    raise ValueError(f"conv impl must be one of {IMPLS}, got {impl!r}")
  if impl == "auto":
    return "slices" if jax.default_backend() == "cpu" else "xla"
  return impl


def _out_len(n: int, k: int, s: int) -> int:
  return (n + 2 * (k // 2) - k) // s + 1


def _shifted_slices(x: jax.Array, kernel_size: Sequence[int], strides: Sequence[int]):
  """Yields ((a, b, c), slice) for every kernel tap, over symmetrically padded x."""
  b_, t, h, w, ch = x.shape
  kt, kh, kw = kernel_size
  st, sh, sw = strides
  xp = jnp.pad(x, [(0, 0), (kt // 2, kt // 2), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)])
  to, ho, wo = _out_len(t, kt, st), _out_len(h, kh, sh), _out_len(w, kw, sw)
  for a in range(kt):
    for b in range(kh):
      for c in range(kw):
        yield (a, b, c), lax.slice(
            xp, (0, a, b, c, 0), (b_, a + (to - 1) * st + 1, b + (ho - 1) * sh + 1, c + (wo - 1) * sw + 1, ch),
            (1, st, sh, sw, 1))


def _xla_conv(x, kernel, strides, groups):
  pads = [(k // 2, k // 2) for k in kernel.shape[:3]]
  return lax.conv_general_dilated(
      x, kernel, tuple(strides), pads, dimension_numbers=("NTHWC", "THWIO", "NTHWC"),
      feature_group_count=groups)


class DepthwiseConv3D(nn.Module):
  """Per-channel 3D conv; kernel [kt, kh, kw, 1, C] (PyTorch groups=C layout)."""

  kernel_size: Sequence[int] = (3, 3, 3)
  strides: Sequence[int] = (1, 1, 1)
  impl: str = "auto"
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    c = x.shape[-1]
    kernel = self.param("kernel", nn.initializers.variance_scaling(2.0, "fan_out", "truncated_normal"),
                        (*self.kernel_size, 1, c), jnp.float32)
    dtype = self.dtype or x.dtype
    x, kernel = x.astype(dtype), kernel.astype(dtype)
    if _resolve(self.impl) == "xla":
      return _xla_conv(x, kernel, self.strides, c)
    out = None
    for (a, b, cc), sl in _shifted_slices(x, self.kernel_size, self.strides):
      term = sl * kernel[a, b, cc, 0]
      out = term if out is None else out + term
    return out


class Conv3D(nn.Module):
  """Dense 3D conv; kernel [kt, kh, kw, in, out]. On CPU (impl "slices", float32), per shape (conv_layers.py):
  Winograd F(4, 3) for stride-1 kt x 3 x 3 convs on maps of at least 14 x 14 and for stride-1 3x1x1 convs
  (winograd.py); XLA's conv on smaller maps; im2col for the stems and the strided convs (the direct form in
  inference for stems of <= DIRECT_TERMS taps x channels; _strided_conv) and for other narrow convs."""

  features: int
  kernel_size: Sequence[int] = (3, 3, 3)
  strides: Sequence[int] = (1, 1, 1)
  use_bias: bool = False
  impl: str = "auto"
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    cin = x.shape[-1]
    kernel = self.param("kernel", nn.initializers.variance_scaling(2.0, "fan_out", "truncated_normal"),
                        (*self.kernel_size, cin, self.features), jnp.float32)
    dtype = self.dtype or x.dtype
    x, kernel = x.astype(dtype), kernel.astype(dtype)
    taps = self.kernel_size[0] * self.kernel_size[1] * self.kernel_size[2]
    impl = _resolve(self.impl)
    form = winograd.supported(self.kernel_size, self.strides) if impl == "slices" and dtype == jnp.float32 else None
    if impl == "xla":
      y = _xla_conv(x, kernel, self.strides, 1)
    elif form == "spatial":
      y = _spatial_3x3(x, kernel)
    elif form == "temporal":
      y = winograd.conv_temporal(x, kernel)
    elif _stem_form(self.kernel_size, self.strides) and taps * cin <= 512:
      y = _strided_conv(x, kernel, tuple(self.strides), True)
    elif taps * cin > 512:  # wide convs (here: the strided ones)
      y = _strided_conv(x, kernel, tuple(self.strides), False)
    else:
      y = _im2col(x, kernel, tuple(self.strides), False)
    if self.use_bias:
      y = y + self.param("bias", nn.initializers.zeros, (self.features,), jnp.float32).astype(dtype)
    return y


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _two_forms(x, kernel, infer, train):
  """infer(x, kernel) when not differentiated, train(x, kernel) and its JAX gradient under differentiation: the
  same function (tested), and per shape the faster form of each on XLA:CPU."""
  return infer(x, kernel)


def _two_forms_fwd(x, kernel, infer, train):
  return jax.vjp(train, x, kernel)


def _two_forms_bwd(infer, train, vjp, g):
  return vjp(g)


_two_forms.defvjp(_two_forms_fwd, _two_forms_bwd)


def _xla_conv_s1(x, kernel):
  return _xla_conv(x, kernel, (1, 1, 1), 1)


def _winograd_f2(x, kernel):
  return winograd.conv_spatial(x, kernel, 2)


def _spatial_3x3(x, kernel):
  """Stride-1 kt x 3 x 3 convs on CPU, by map size (BENCHMARKS.md, issue 18):
  >= 14 x 14, Winograd F(4x4, 3x3) in both passes (R3D's layer 1: 1.8x XLA's forward, 3.2x its training);
  7 x 7, XLA's conv, except Winograd F(2x2, 3x3) in training on clips of 8 frames or more (MC3's last stage),
  where its gradient was 1.25x faster than XLA's (one-off)."""
  if min(x.shape[2:4]) >= 14:
    return winograd.conv_spatial(x, kernel)
  if x.shape[1] >= 8:
    return _two_forms(x, kernel, _xla_conv_s1, _winograd_f2)
  return _xla_conv_s1(x, kernel)


def _stem_form(kernel_size, strides) -> bool:
  """Narrow convs that halve H and W with odd square kernels: the stems (3x7x7 / 1x7x7 from 3 channels)."""
  _, kh, kw = kernel_size
  return tuple(strides) == (1, 2, 2) and kh == kw and kh % 2 == 1 and kh > 1


def _stem_columns(x, kernel_shape, strides):
  """im2col in two concatenations, (kt, kh) taps then kw taps, columns ordered (kw, kt, kh, C): XLA:CPU writes a
  concatenation of 21 + 7 operands faster than one of 147 three-channel slices (one-off timings in BENCHMARKS.md)."""
  kt, kh, kw, c, _ = kernel_shape
  st, sh, sw = strides
  n, t, h, w, _ = x.shape
  xp = jnp.pad(x, [(0, 0), (kt // 2, kt // 2), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)])
  to, ho, wo = _out_len(t, kt, st), _out_len(h, kh, sh), _out_len(w, kw, sw)
  rows = jnp.concatenate([
      lax.slice(xp, (0, a, b, 0, 0), (n, a + (to - 1) * st + 1, b + (ho - 1) * sh + 1, xp.shape[3], c), (1, st, sh, 1, 1))
      for a in range(kt) for b in range(kh)], axis=-1)
  return jnp.concatenate([lax.slice_in_dim(rows, d, d + (wo - 1) * sw + 1, sw, axis=3) for d in range(kw)], axis=-1)


def _columns(x, kernel_shape, strides, stem: bool):
  """im2col columns and the kernel's matching row order: (kw, kt, kh, C) for the stems, (kt, kh, kw, C) otherwise."""
  if stem:
    return _stem_columns(x, kernel_shape, strides)
  return jnp.concatenate([sl for _, sl in _shifted_slices(x, kernel_shape[:3], strides)], axis=-1)


def _kernel_matrix(kernel, stem: bool):
  kt, kh, kw, c, o = kernel.shape
  if stem:
    return jnp.transpose(kernel, (2, 0, 1, 3, 4)).reshape(kw * kt * kh * c, o)
  return kernel.reshape(kt * kh * kw * c, o)


def _im2col(x, kernel, strides, stem: bool):
  return _columns(x, kernel.shape, strides, stem) @ _kernel_matrix(kernel, stem)


def _strided_conv(x, kernel, strides, stem: bool):
  """The stems and the strided convs on CPU: im2col, whose columns make the kernel's gradient one matmul and the
  input's a pad-and-add (XLA's own gradient of R3D's strided convs is 9-14x slower, conv_layers.py --xla). With
  freed host memory kept (vidjax/cpu_allocator.py) its forward also beat XLA's conv and space-to-depth + XLA's
  conv at these shapes (one-off, BENCHMARKS.md "Issue 18 on a Zen 5 EPYC"), so both passes use it, except that
  stems of at most DIRECT_TERMS taps x channels take the direct form in inference."""
  cols = functools.partial(_im2col, strides=strides, stem=stem)
  if stem and np.prod(kernel.shape[:4]) <= DIRECT_TERMS:
    return _two_forms(x, kernel, functools.partial(_direct_conv, strides=strides), cols)
  return cols(x, kernel)


def _xla_conv2d(x, kernel, stride: int):
  p = kernel.shape[0] // 2
  return lax.conv_general_dilated(x, kernel, (stride, stride), [(p, p), (p, p)], dimension_numbers=("NHWC", "HWIO", "NHWC"))


def _in_3d(f, x, kernel, *args):
  """A 3D form applied to a 2D conv: x [N, H, W, C] as one-frame clips, kernel [kh, kw, C, O] as 1 x kh x kw."""
  return f(x[:, None], kernel[None], *args)[:, 0]


def _channel_major_columns(x, kernel_shape, strides):
  """im2col transposed, [taps * C, M] (rows ordered (kt, kh, kw, C) like the kernel's reshape; M = N * To * Ho * Wo)
  built from channel-major input, so the kernel's gradient columns @ g needs no transpose of g."""
  kt, kh, kw, c, _ = kernel_shape
  n, t, h, w, _ = x.shape
  st, sh, sw = strides
  xp = jnp.pad(jnp.transpose(x, (4, 0, 1, 2, 3)), [(0, 0), (0, 0), (kt // 2, kt // 2), (kh // 2, kh // 2), (kw // 2, kw // 2)])
  to, ho, wo = _out_len(t, kt, st), _out_len(h, kh, sh), _out_len(w, kw, sw)
  taps = [lax.slice(xp, (0, 0, a, b, d), (c, n, a + (to - 1) * st + 1, b + (ho - 1) * sh + 1, d + (wo - 1) * sw + 1),
                    (1, 1, st, sh, sw)) for a in range(kt) for b in range(kh) for d in range(kw)]
  return jnp.stack(taps, 0).reshape(kt * kh * kw * c, -1)


def _direct_conv(x, kernel, strides):
  """A direct conv written as one sum over taps and input channels of (shifted slice of one channel) x (that
  weight row): for few taps x channels (the convs from RGB) XLA fuses it into one loop vectorised over the output
  channels, 2-5x faster than im2col, space-to-depth or XLA's conv there (BENCHMARKS.md, issue 18); with many terms
  (R3D's stem: 441) it was 8x slower than space-to-depth + XLA's conv, hence DIRECT_TERMS."""
  out = None
  for (a, b, d), sl in _shifted_slices(x, kernel.shape[:3], strides):
    for c in range(kernel.shape[3]):
      term = sl[..., c:c + 1] * kernel[a, b, d, c]
      out = term if out is None else out + term
  return out


DIRECT_TERMS = 128  # taps x input channels up to which a narrow conv's forward is _direct_conv


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _narrow_conv(x, kernel, strides, infer):
  """Convs from few channels (the first conv on RGB): `infer` forward; the kernel's gradient as channel-major
  columns @ g, and the input's (when something needs it) XLA's."""
  return infer(x, kernel)


def _narrow_conv_fwd(x, kernel, strides, infer):
  return infer(x, kernel), (x, kernel)


def _narrow_conv_bwd(strides, infer, res, g):
  x, kernel = res
  dk = (_channel_major_columns(x, kernel.shape, strides) @ g.reshape(-1, g.shape[-1])).reshape(kernel.shape)
  _, dx = jax.vjp(lambda x: _xla_conv(x, kernel, strides, 1), x)
  return dx(g)[0], dk


_narrow_conv.defvjp(_narrow_conv_fwd, _narrow_conv_bwd)


def _cols_2d(x, kernel, strides, stem: bool):
  return _in_3d(_im2col, x, kernel, strides, stem)


def conv2d(x: jax.Array, kernel: jax.Array, stride: int = 1, impl: str = "auto") -> jax.Array:
  """2D conv, padding k // 2 on each side, x [N, H, W, C], kernel [kh, kw, C, O]. On CPU (impl "slices", float32)
  per shape (BENCHMARKS.md, issue 18, the 2D backbones): stride-1 3x3 convs from >= 16 channels on maps >= 7 x 7
  run XLA's conv in inference and Winograd F(4x4, 3x3) in training (training passes 1.2-2.8x faster than XLA's at
  the backbones' shapes, one 10 % slower); the stems and wide strided convs take Conv3D's forms; the first conv
  from RGB (<= 8 channels) is the direct form with a channel-major kernel gradient (_narrow_conv); other narrow
  convs (1x1) are im2col."""
  k, _, cin, _ = kernel.shape
  h, w = x.shape[1:3]
  if _resolve(impl) == "xla" or x.dtype != jnp.float32:
    return _xla_conv2d(x, kernel, stride)
  xla = functools.partial(_xla_conv2d, stride=stride)
  if stride == 1 and k == 3 and cin >= 16 and min(h, w) >= 7:
    return _two_forms(x, kernel, xla, functools.partial(_in_3d, winograd.conv_spatial))
  if stride == 2 and k % 2 == 1 and k > 1 and k * k * cin <= 512:
    return _in_3d(functools.partial(_strided_conv, strides=(1, 2, 2), stem=True), x, kernel)
  if stride > 1 and k * k * cin > 512:
    return _two_forms(x, kernel, xla, functools.partial(_cols_2d, strides=(1, stride, stride), stem=False))
  if stride == 1 and cin <= 8:
    form = _direct_conv if k * k * cin <= DIRECT_TERMS else functools.partial(_im2col, stem=False)
    infer = functools.partial(form, strides=(1, 1, 1))
    return _in_3d(functools.partial(_narrow_conv, strides=(1, 1, 1), infer=infer), x, kernel)
  if k * k * cin <= 512:
    return _cols_2d(x, kernel, (1, stride, stride), False)
  return xla(x, kernel)



class Conv2D(nn.Module):
  """nn.Conv's parameters (kernel [kh, kw, in, out], bias; so imported torchvision weights load as before), padding
  k // 2 on each side, computed by `conv2d`: on CPU the per-shape forms above, elsewhere XLA's conv."""

  features: int
  kernel_size: int = 3
  stride: int = 1
  use_bias: bool = False
  impl: str = "auto"
  dtype: jnp.dtype | None = None
  kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    k = self.kernel_size
    kernel = self.param("kernel", self.kernel_init, (k, k, x.shape[-1], self.features), jnp.float32)
    dtype = self.dtype or jnp.promote_types(x.dtype, jnp.float32)
    y = conv2d(x.astype(dtype), kernel.astype(dtype), self.stride, self.impl)
    if self.use_bias:
      y = y + self.param("bias", nn.initializers.zeros, (self.features,), jnp.float32).astype(dtype)
    return y


class Pointwise(nn.Module):
  """1x1x1 conv as a matmul over channels, with optional spatio-temporal stride."""

  features: int
  strides: Sequence[int] = (1, 1, 1)
  use_bias: bool = False
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    st, sh, sw = self.strides
    if (st, sh, sw) != (1, 1, 1):
      x = x[:, ::st, ::sh, ::sw]
    return nn.Dense(self.features, use_bias=self.use_bias, dtype=self.dtype,
                    kernel_init=nn.initializers.variance_scaling(2.0, "fan_out", "truncated_normal"),
                    name="dense")(x)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def _max_pool_blocks(x: jax.Array, window: tuple[int, ...]) -> jax.Array:
  """Max pool with window = stride over sizes the window divides: a reshape and a max."""
  return _blocks(x, window).max(axis=tuple(range(2, 2 + 2 * len(window), 2)))


def _blocks(x, window):
  """[N, D0, D1, ..., C] -> [N, D0 / k0, k0, D1 / k1, k1, ..., C]."""
  shape = [x.shape[0]]
  for d, k in zip(x.shape[1:-1], window, strict=True):
    shape += [d // k, k]
  return x.reshape(*shape, x.shape[-1])


def _max_pool_blocks_fwd(x, window):
  y = _max_pool_blocks(x, window)
  return y, (x, y)


def _max_pool_blocks_bwd(window, res, g):
  """The gradient goes to the first maximum of each window in row-major order, as select-and-scatter sends it, built
  from one mask per window position and stacks: JAX's own max gradient (a broadcast compare and divide over the
  reshaped layout) took ~10x longer on XLA:CPU at the CNN+LSTM's first stage (BENCHMARKS.md, issue 18)."""
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


_max_pool_blocks.defvjp(_max_pool_blocks_fwd, _max_pool_blocks_bwd)


def max_pool(x: jax.Array, window: Sequence[int], strides: Sequence[int], padding: Sequence[tuple[int, int]],
             impl: str = "auto") -> jax.Array:
  """nn.max_pool over the axes between batch and channels, in two forms with the same values and gradients.

  "xla": reduce_window, whose gradient XLA lowers to select-and-scatter (on CPU ~27x the forward's cost).
  "slices" (CPU): where the window equals the stride, has no padding and divides the sizes (the 2D backbones'
  2 x 2 pools), a reshape + max whose gradient is a custom one (_max_pool_blocks_bwd). Otherwise the max of the
  window's shifted strided slices, written as the sum of each slice masked to where it is the *first* maximum in
  window order. The masks are computed outside the gradient, so the gradient is a few pads and adds. Both send
  the gradient to the element select-and-scatter picks.
  """
  if _resolve(impl) == "xla":
    return nn.max_pool(x, tuple(window), tuple(strides), padding=tuple(padding))
  if (tuple(window) == tuple(strides) and all(p == (0, 0) for p in map(tuple, padding))
      and all(d % k == 0 for d, k in zip(x.shape[1:-1], window, strict=True))):
    return _max_pool_blocks(x, tuple(window))
  pads = [(0, 0), *padding, (0, 0)]
  xp = jnp.pad(x, pads, constant_values=-jnp.inf)
  spatial = xp.shape[1:-1]
  out = [(n - k) // s + 1 for n, k, s in zip(spatial, window, strides, strict=True)]
  slices = []
  for offsets in np.ndindex(*window):
    start = (0, *offsets, 0)
    limit = (xp.shape[0], *[o + (m - 1) * s + 1 for o, m, s in zip(offsets, out, strides, strict=True)], xp.shape[-1])
    slices.append(lax.slice(xp, start, limit, (1, *strides, 1)))
  best = jax.lax.stop_gradient(functools.reduce(jnp.maximum, slices))
  taken = jnp.zeros(best.shape, bool)
  y = jnp.zeros(best.shape, x.dtype)
  for sl in slices:
    first = (jax.lax.stop_gradient(sl) == best) & ~taken
    taken = taken | first
    y = y + jnp.where(first, sl, 0)
  return y
