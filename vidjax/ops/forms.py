"""Which form computes each convolution and max pool: the one place that decides, for every backend and shape.

Models name an operation (a 3x3x3 conv of stride 2, a 2x2 max pool) and never how it is computed. XLA:GPU/TPU
lower XLA's own convolutions to cuDNN / MXU kernels, the right form there. XLA:CPU runs some shapes far slower
than the CPU's matmul rate (depthwise 3D convs, convs from few channels, dense 3D convs and above all their
gradients, select-and-scatter); for those the hand-written forms of `cpu_conv.py`, `winograd.py` and
`max_pool.py` compute the same function faster (BENCHMARKS.md, issue 18). Every form is tested against XLA's.

Which forms run is a process setting, never part of a model's config or a run's identity, so a run trained
under one form evaluates and predicts under another:

  auto  (default) XLA's own on GPU/TPU; on the CPU backend, the CPU forms chosen below by shape
  xla   XLA's own convolutions and pools everywhere
  cpu   the CPU forms on any backend (tests and benchmarks compare them with `xla`)

Set it with `main.py --compute_forms=...`, the VIDJAX_COMPUTE_FORMS environment variable, or `with use("xla"):`
in code. A jit-compiled function keeps the forms that were in force when it was traced.

A form name "a+b" means: `a` when the result is not differentiated (inference), `b` and its gradient under
differentiation (training): one function with two implementations (`cpu_conv.two_forms`).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import os
from collections.abc import Iterator, Sequence

import jax
import jax.numpy as jnp

SETTINGS = ("auto", "xla", "cpu")
ENV = "VIDJAX_COMPUTE_FORMS"


@dataclasses.dataclass(frozen=True)
class Threshold:
  value: int
  why: str


# Every shape threshold the CPU forms are chosen by; figures behind each reason are in BENCHMARKS.md (issue 18).
THRESHOLDS = {
    "winograd_min_map": Threshold(14, "Winograd F(4x4, 3x3) in both passes from 14 x 14 maps on: below, its tiles "
                                      "waste work and XLA's own conv was faster in inference"),
    "winograd_f2_min_frames": Threshold(8, "on smaller maps F(2x2, 3x3)'s gradient beat XLA's only from clips of 8 "
                                           "frames on (MC3's last stage)"),
    "winograd_2d_min_channels": Threshold(16, "a 2D 3x3 conv's Winograd training pass paid from 16 input channels "
                                              "on; below, its batched matmuls are too thin"),
    "winograd_2d_min_map": Threshold(7, "2D Winograd training on maps of at least 7 x 7 (the backbones' last stage)"),
    "direct_max_terms": Threshold(128, "taps x input channels up to which a direct sum beats im2col and XLA's conv "
                                       "(convs from RGB); past it, as for R3D's 441-term stem, the sum is slower"),
    "im2col_max_terms": Threshold(512, "taps x input channels up to which im2col's columns beat XLA's own conv "
                                       "for narrow and strided convs; wider ones keep XLA's in inference"),
    "narrow_max_channels": Threshold(8, "a 2D conv from at most this many channels (RGB, or RGB + its frame "
                                        "difference) takes the narrow forms, its kernel gradient from "
                                        "channel-major columns"),
}
CPU_DTYPE = jnp.float32  # the CPU forms compute in float32 only; other compute dtypes (bfloat16 is meant for
#                          accelerators) run XLA's own, in every op alike: Winograd's F(4, 3) transforms would
#                          spend bfloat16's few digits


def _t(name: str) -> int:
  return THRESHOLDS[name].value


_process_default: str | None = None
_override: contextvars.ContextVar[str | None] = contextvars.ContextVar("vidjax_compute_forms", default=None)


def _check(setting: str, where: str) -> str:
  if setting not in SETTINGS:
    raise ValueError(f"{where}={setting!r} is not a compute-forms setting; choose one of {SETTINGS}")
  return setting


def set_default(setting: str) -> None:
  """The process's setting (main.py --compute_forms); `use()` overrides it within a block."""
  global _process_default
  _process_default = _check(setting, "--compute_forms")


def setting() -> str:
  """The setting in force: a `use()` block's, else the process's, else $VIDJAX_COMPUTE_FORMS, else 'auto'."""
  inner = _override.get()
  if inner is not None:
    return inner
  if _process_default is not None:
    return _process_default
  return _check(os.environ.get(ENV, "auto").strip() or "auto", ENV)


@contextlib.contextmanager
def use(name: str) -> Iterator[None]:
  """Functions traced inside the block take these forms."""
  token = _override.set(_check(name, "compute forms"))
  try:
    yield
  finally:
    _override.reset(token)


def cpu_forms(dtype) -> bool:
  """True where the CPU forms are in force for a computation in `dtype`."""
  s = setting()
  if s == "auto":
    s = "cpu" if jax.default_backend() == "cpu" else "xla"
  return s == "cpu" and jnp.dtype(dtype) == CPU_DTYPE


def _is_stem(kernel_size: Sequence[int], strides: Sequence[int]) -> bool:
  """Convs that halve H and W with an odd square kernel wider than 1: the stems (3x7x7 / 1x7x7 / 3x3x3 / 7x7)."""
  _, kh, kw = kernel_size
  return tuple(strides[-2:]) == (2, 2) and tuple(strides[:-2]) in ((), (1,)) and kh == kw and kh % 2 == 1 and kh > 1


def _stem(terms: int) -> str:
  return "direct+im2col_stem" if terms <= _t("direct_max_terms") else "im2col_stem"


def conv3d(kernel_size: Sequence[int], strides: Sequence[int], in_channels: int, frames: int, height: int, width: int,
           dtype) -> str:
  """The form of a dense 3D conv, kernel [kt, kh, kw, in, out], on x [N, frames, height, width, in]."""
  if not cpu_forms(dtype):
    return "xla"
  kt, kh, kw = kernel_size
  stride_1 = tuple(strides) == (1, 1, 1)
  if stride_1 and (kh, kw) == (3, 3) and kt % 2 == 1:
    if min(height, width) >= _t("winograd_min_map"):
      return "winograd_f4"
    return "xla+winograd_f2" if frames >= _t("winograd_f2_min_frames") else "xla"
  if stride_1 and (kt, kh, kw) == (3, 1, 1):
    return "winograd_temporal"
  terms = kt * kh * kw * in_channels
  if _is_stem(kernel_size, strides) and terms <= _t("im2col_max_terms"):
    return _stem(terms)
  return "im2col"


def conv2d(kernel: int, stride: int, in_channels: int, height: int, width: int, dtype) -> str:
  """The form of a 2D conv, kernel [k, k, in, out], on x [N, height, width, in]."""
  if not cpu_forms(dtype):
    return "xla"
  terms = kernel * kernel * in_channels
  if stride == 1 and kernel == 3 and in_channels >= _t("winograd_2d_min_channels") and min(height, width) >= _t(
      "winograd_2d_min_map"):
    return "xla+winograd_f4"
  if _is_stem((1, kernel, kernel), (stride, stride)) and terms <= _t("im2col_max_terms"):
    return _stem(terms)
  if stride > 1 and terms > _t("im2col_max_terms"):
    return "xla+im2col"
  if stride == 1 and in_channels <= _t("narrow_max_channels"):
    return "narrow_direct" if terms <= _t("direct_max_terms") else "narrow_im2col"
  return "im2col" if terms <= _t("im2col_max_terms") else "xla"


def depthwise_conv3d(dtype) -> str:
  """Per-channel 3D convs: XLA:CPU's grouped conv was slower than the sum of shifted slices at every shape."""
  return "shifted_slices" if cpu_forms(dtype) else "xla"


def max_pool(shape: Sequence[int], window: Sequence[int], strides: Sequence[int],
             padding: Sequence[tuple[int, int]], dtype) -> str:
  """Max pools on CPU avoid select-and-scatter (XLA:CPU's reduce_window gradient, many times its forward): a reshape + max
  where the window equals the stride, has no padding and divides the sizes; masked shifted slices otherwise.
  Both send the gradient to the element select-and-scatter picks."""
  if not cpu_forms(dtype):
    return "xla"
  tiled = (tuple(window) == tuple(strides) and all(tuple(p) == (0, 0) for p in padding)
           and all(d % k == 0 for d, k in zip(shape[1:-1], window, strict=True)))
  return "blocks" if tiled else "masked_slices"
