"""XLA's own conv as the reference every other form of a conv is checked against."""

import functools

import jax
import numpy as np

from vidjax.ops import forms


def conv_ref(x, k, strides=(1, 1, 1)):
  pads = [(d // 2, d // 2) for d in k.shape[:3]]
  return jax.lax.conv_general_dilated(x, k, strides, pads, dimension_numbers=("NTHWC", "THWIO", "NTHWC"))


def conv2d_ref(x, k, stride=1):
  p = k.shape[0] // 2
  return jax.lax.conv_general_dilated(x, k, (stride, stride), [(p, p), (p, p)], dimension_numbers=("NHWC", "HWIO", "NHWC"))


def assert_same_function(fast, x, k, strides=(1, 1, 1)):
  """Values and both gradients of `fast` equal the lax conv's within float32 rounding (1e-5 of each's scale)."""
  ref = functools.partial(conv_ref, strides=strides)
  cot = jax.random.normal(jax.random.key(7), ref(x, k).shape)

  @jax.jit  # compiled whole: run op by op, a form built of many slices costs seconds per shape
  def values_and_gradients(x, k, cot):
    return [(y, *vjp(cot)) for y, vjp in (jax.vjp(fast, x, k), jax.vjp(ref, x, k))]

  (y, *grads), (y_ref, *grads_ref) = values_and_gradients(x, k, cot)
  for got, want in ((y, y_ref), *zip(grads, grads_ref, strict=True)):
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * float(np.abs(want).max()))


class Under:
  """A layer whose init / apply are traced under one compute-forms setting (vidjax/ops/forms.py), each call
  compiled whole (op by op, a form built of many slices costs seconds per shape). Every call traces afresh: jit's
  cache does not know the setting, and two equal modules under two settings must not share a trace."""

  def __init__(self, module, setting: str):
    self.module, self.setting = module, setting

  def _traced(self, method, args, kwargs):
    with forms.use(self.setting):
      return jax.jit(lambda *a: method(*a, **kwargs))(*args)

  def init(self, *args, **kwargs):
    return self._traced(self.module.init, args, kwargs)

  def apply(self, *args, **kwargs):
    return self._traced(self.module.apply, args, kwargs)


def under(setting: str, fn, *args, **kwargs):
  """fn(*args) traced under one compute-forms setting."""
  with forms.use(setting):
    return fn(*args, **kwargs)
