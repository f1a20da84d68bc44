"""The CPU forms of convolutions: XLA's own conv, shifted slices, direct sums and im2col, each computing the same
function as `lax.conv_general_dilated` with symmetric padding k // 2 (PyTorch's, so ported weights line up).

x is [N, T, H, W, C] and the kernel [kt, kh, kw, C, O] (depthwise: [kt, kh, kw, 1, C]); 2D convs run these forms
on one-frame clips (`in_3d`). `forms.py` decides which form runs where; tests/vidjax/ops check each against XLA's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
from jax import lax

from vidjax.ops import winograd


def out_len(n: int, k: int, s: int) -> int:
  return (n + 2 * (k // 2) - k) // s + 1


def xla_conv(x: jax.Array, kernel: jax.Array, strides: Sequence[int], groups: int = 1) -> jax.Array:
  pads = [(k // 2, k // 2) for k in kernel.shape[:3]]
  return lax.conv_general_dilated(x, kernel, tuple(strides), pads, dimension_numbers=("NTHWC", "THWIO", "NTHWC"),
                                  feature_group_count=groups)


def xla_conv2d(x: jax.Array, kernel: jax.Array, stride: int) -> jax.Array:
  p = kernel.shape[0] // 2
  return lax.conv_general_dilated(x, kernel, (stride, stride), [(p, p), (p, p)],
                                  dimension_numbers=("NHWC", "HWIO", "NHWC"))


def in_3d(f: Callable, x: jax.Array, kernel: jax.Array, *args) -> jax.Array:
  """A 3D form applied to a 2D conv: x [N, H, W, C] as one-frame clips, kernel [kh, kw, C, O] as 1 x kh x kw."""
  return f(x[:, None], kernel[None], *args)[:, 0]


def shifted_slices(x: jax.Array, kernel_size: Sequence[int], strides: Sequence[int]):
  """Yields ((a, b, c), slice) for every kernel tap, over symmetrically padded x."""
  n, t, h, w, ch = x.shape
  kt, kh, kw = kernel_size
  st, sh, sw = strides
  xp = jnp.pad(x, [(0, 0), (kt // 2, kt // 2), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)])
  to, ho, wo = out_len(t, kt, st), out_len(h, kh, sh), out_len(w, kw, sw)
  for a in range(kt):
    for b in range(kh):
      for c in range(kw):
        yield (a, b, c), lax.slice(
            xp, (0, a, b, c, 0), (n, a + (to - 1) * st + 1, b + (ho - 1) * sh + 1, c + (wo - 1) * sw + 1, ch),
            (1, st, sh, sw, 1))


def depthwise_slices(x: jax.Array, kernel: jax.Array, strides: Sequence[int]) -> jax.Array:
  """A per-channel conv as the sum over taps of (shifted slice) x (that tap's per-channel weights)."""
  out = None
  for (a, b, c), sl in shifted_slices(x, kernel.shape[:3], strides):
    term = sl * kernel[a, b, c, 0]
    out = term if out is None else out + term
  return out


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def two_forms(x, kernel, infer, train):
  """infer(x, kernel) when not differentiated, train(x, kernel) and its JAX gradient under differentiation: the
  same function (tested), and per shape the faster form of each on XLA:CPU."""
  return infer(x, kernel)


def _two_forms_fwd(x, kernel, infer, train):
  return jax.vjp(train, x, kernel)


def _two_forms_bwd(infer, train, vjp, g):
  return vjp(g)


two_forms.defvjp(_two_forms_fwd, _two_forms_bwd)


def _stem_columns(x, kernel_shape, strides):
  """im2col in two concatenations, (kt, kh) taps then kw taps, columns ordered (kw, kt, kh, C): XLA:CPU writes a
  concatenation of 21 + 7 operands faster than one of 147 three-channel slices."""
  kt, kh, kw, c, _ = kernel_shape
  st, sh, sw = strides
  n, t, h, w, _ = x.shape
  xp = jnp.pad(x, [(0, 0), (kt // 2, kt // 2), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)])
  to, ho, wo = out_len(t, kt, st), out_len(h, kh, sh), out_len(w, kw, sw)
  rows = jnp.concatenate([
      lax.slice(xp, (0, a, b, 0, 0), (n, a + (to - 1) * st + 1, b + (ho - 1) * sh + 1, xp.shape[3], c), (1, st, sh, 1, 1))
      for a in range(kt) for b in range(kh)], axis=-1)
  return jnp.concatenate([lax.slice_in_dim(rows, d, d + (wo - 1) * sw + 1, sw, axis=3) for d in range(kw)], axis=-1)


def im2col(x: jax.Array, kernel: jax.Array, strides: Sequence[int], stem: bool = False) -> jax.Array:
  """Columns of every tap @ the kernel as a matrix: the kernel's gradient is one matmul and the input's a
  pad-and-add (XLA:CPU's own gradient of strided convs was far slower). Stems take the two-step columns."""
  kt, kh, kw, c, o = kernel.shape
  if stem:
    cols = _stem_columns(x, kernel.shape, strides)
    matrix = jnp.transpose(kernel, (2, 0, 1, 3, 4)).reshape(kw * kt * kh * c, o)
  else:
    cols = jnp.concatenate([sl for _, sl in shifted_slices(x, kernel.shape[:3], strides)], axis=-1)
    matrix = kernel.reshape(kt * kh * kw * c, o)
  return cols @ matrix


def direct(x: jax.Array, kernel: jax.Array, strides: Sequence[int]) -> jax.Array:
  """A conv as one sum over taps and input channels of (shifted slice of one channel) x (that weight row): for few
  taps x channels (convs from RGB) XLA fuses it into one loop vectorised over the output channels."""
  out = None
  for (a, b, d), sl in shifted_slices(x, kernel.shape[:3], strides):
    for c in range(kernel.shape[3]):
      term = sl[..., c:c + 1] * kernel[a, b, d, c]
      out = term if out is None else out + term
  return out


def _channel_major_columns(x, kernel_shape, strides):
  """im2col transposed, [taps * C, M] (rows ordered (kt, kh, kw, C) like the kernel's reshape; M = N * To * Ho * Wo)
  built from channel-major input, so the kernel's gradient columns @ g needs no transpose of g."""
  kt, kh, kw, c, _ = kernel_shape
  n, t, h, w, _ = x.shape
  st, sh, sw = strides
  xp = jnp.pad(jnp.transpose(x, (4, 0, 1, 2, 3)), [(0, 0), (0, 0), (kt // 2, kt // 2), (kh // 2, kh // 2), (kw // 2, kw // 2)])
  to, ho, wo = out_len(t, kt, st), out_len(h, kh, sh), out_len(w, kw, sw)
  taps = [lax.slice(xp, (0, 0, a, b, d), (c, n, a + (to - 1) * st + 1, b + (ho - 1) * sh + 1, d + (wo - 1) * sw + 1),
                    (1, 1, st, sh, sw)) for a in range(kt) for b in range(kh) for d in range(kw)]
  return jnp.stack(taps, 0).reshape(kt * kh * kw * c, -1)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def narrow(x, kernel, strides, infer):
  """Convs from few channels (the first conv on RGB): `infer` forward; the kernel's gradient as channel-major
  columns @ g (XLA otherwise writes the following BatchNorm's gradient transposed), the input's XLA's."""
  return infer(x, kernel)


def _narrow_fwd(x, kernel, strides, infer):
  return infer(x, kernel), (x, kernel)


def _narrow_bwd(strides, infer, res, g):
  x, kernel = res
  dk = (_channel_major_columns(x, kernel.shape, strides) @ g.reshape(-1, g.shape[-1])).reshape(kernel.shape)
  _, dx = jax.vjp(lambda x: xla_conv(x, kernel, strides), x)
  return dx(g)[0], dk


narrow.defvjp(_narrow_fwd, _narrow_bwd)


def conv3d(form: str, x: jax.Array, kernel: jax.Array, strides: Sequence[int]) -> jax.Array:
  """Runs a dense 3D conv in the named form (forms.conv3d)."""
  strides = tuple(strides)
  xla = functools.partial(xla_conv, strides=strides)
  if form == "xla":
    return xla(x, kernel)
  if form == "winograd_f4":
    return winograd.conv_spatial(x, kernel, 4)
  if form == "xla+winograd_f2":
    return two_forms(x, kernel, xla, functools.partial(winograd.conv_spatial, m=2))
  if form == "winograd_temporal":
    return winograd.conv_temporal(x, kernel)
  if form == "im2col_stem":
    return im2col(x, kernel, strides, stem=True)
  if form == "direct+im2col_stem":
    return two_forms(x, kernel, functools.partial(direct, strides=strides),
                     functools.partial(im2col, strides=strides, stem=True))
  if form == "im2col":
    return im2col(x, kernel, strides)
  raise ValueError(f"no 3D conv form {form!r}")


def conv2d(form: str, x: jax.Array, kernel: jax.Array, stride: int) -> jax.Array:
  """Runs a 2D conv in the named form (forms.conv2d): XLA's 2D conv, or a 3D form on one-frame clips."""
  strides = (1, stride, stride)
  if form == "xla":
    return xla_conv2d(x, kernel, stride)
  if form == "xla+winograd_f4":
    return two_forms(x, kernel, functools.partial(xla_conv2d, stride=stride),
                     functools.partial(in_3d, functools.partial(winograd.conv_spatial, m=4)))
  if form == "xla+im2col":
    return two_forms(x, kernel, functools.partial(xla_conv2d, stride=stride),
                     functools.partial(in_3d, functools.partial(im2col, strides=strides)))
  if form in ("narrow_direct", "narrow_im2col"):
    infer = functools.partial(direct if form == "narrow_direct" else im2col, strides=strides)
    return in_3d(functools.partial(narrow, strides=strides, infer=infer), x, kernel)
  return in_3d(functools.partial(conv3d, form, strides=strides), x, kernel)


def depthwise_conv3d(form: str, x: jax.Array, kernel: jax.Array, strides: Sequence[int]) -> jax.Array:
  if form == "xla":
    return xla_conv(x, kernel, strides, groups=x.shape[-1])
  if form == "shifted_slices":
    return depthwise_slices(x, kernel, strides)
  raise ValueError(f"no depthwise conv form {form!r}")
