"""Groundwork for issue 18: the same dense 3D convolution written five ways, timed on XLA:CPU (forward and
forward + backward), at R(2+1)D-18's layer-1 shapes (4 x 16 x 56 x 56 activations; 1x3x3 64 -> 144 and
3x1x1 144 -> 64). Each form's gradients are checked against XLA's conv before it is timed.

  .venv/bin/python benchmarks/conv_forms.py          # PyTorch's times at the same shapes: conv_profile.py --torch

Forms: `xla` lax.conv_general_dilated (what compute forms "xla" run); `conv2d` a 1xkxk conv as a 2D conv over
N*T frames; `im2col` every tap's shifted slice concatenated on channels, then one matmul (autodiff backward);
`taps` a sum over taps of slice @ kernel tap; `vjp` XLA's forward conv with a hand-written backward: the input
gradient as a forward conv of the output gradient with the flipped, transposed kernel, the kernel gradient as
one matmul per tap. Median of 3 after a warm-up, one CPU device.
"""

from __future__ import annotations

import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks.conv_profile import med

N, T, H, W = 4, 16, 56, 56
SHAPES = {"1x3x3 64->144": ((1, 3, 3), 64, 144), "3x1x1 144->64": ((3, 1, 1), 144, 64)}


def xla(x, w):
  pads = [(k // 2, k // 2) for k in w.shape[:3]]
  return lax.conv_general_dilated(x, w, (1, 1, 1), pads, dimension_numbers=("NTHWC", "THWIO", "NTHWC"))


def conv2d(x, w):
  n, t, h, ww, c = x.shape
  pads = [(w.shape[1] // 2,) * 2, (w.shape[2] // 2,) * 2]
  y = lax.conv_general_dilated(x.reshape(n * t, h, ww, c), w[0], (1, 1), pads, dimension_numbers=("NHWC", "HWIO", "NHWC"))
  return y.reshape(n, t, h, ww, -1)


def _slices(x, w):
  kt, kh, kw = w.shape[:3]
  xp = jnp.pad(x, [(0, 0), (kt // 2,) * 2, (kh // 2,) * 2, (kw // 2,) * 2, (0, 0)])
  _, t, h, ww, _ = x.shape
  return [xp[:, a:a + t, b:b + h, c:c + ww] for a in range(kt) for b in range(kh) for c in range(kw)]


def im2col(x, w):
  return jnp.concatenate(_slices(x, w), -1) @ w.reshape(-1, w.shape[-1])


def taps(x, w):
  flat = w.reshape(-1, *w.shape[3:])
  return sum(s @ flat[i] for i, s in enumerate(_slices(x, w)))


@jax.custom_vjp
def vjp(x, w):
  return xla(x, w)


def _vjp_fwd(x, w):
  return xla(x, w), (x, w)


def _vjp_bwd(res, g):
  x, w = res
  dx = xla(g, jnp.swapaxes(w[::-1, ::-1, ::-1], 3, 4))
  gm = g.reshape(-1, w.shape[-1])
  dw = jnp.stack([s.reshape(-1, w.shape[3]).T @ gm for s in _slices(x, w)]).reshape(w.shape)
  return dx, dw


vjp.defvjp(_vjp_fwd, _vjp_bwd)
FORMS = {"xla": xla, "conv2d": conv2d, "im2col": im2col, "taps": taps, "vjp": vjp}


def main() -> None:
  print("| conv | form | forward (ms) | forward + backward (ms) | max gradient error (relative) |")
  print("|---|---|---|---|---|")
  for name, (k, cin, cout) in SHAPES.items():
    x = jnp.asarray(np.random.default_rng(0).normal(size=(N, T, H, W, cin)).astype(np.float32))
    w = jnp.asarray(np.random.default_rng(1).normal(size=(*k, cin, cout)).astype(np.float32) * 0.01)
    ref = None
    for form, f in FORMS.items():
      if form == "conv2d" and k[0] != 1:
        continue
      fwd = jax.jit(f)
      grads = jax.jit(jax.grad(lambda x, w, f=f: (f(x, w) ** 2).sum(), argnums=(0, 1)))
      out = grads(x, w)
      ref = out if ref is None else ref
      err = max(float(jnp.abs(a - b).max() / jnp.abs(b).max()) for a, b in zip(out, ref, strict=True))
      assert err < 1e-4, (name, form, err)
      f_ms = med(lambda fwd=fwd, x=x, w=w: jax.block_until_ready(fwd(x, w)), reps=3) * 1e3
      g_ms = med(lambda grads=grads, x=x, w=w: jax.block_until_ready(grads(x, w)), reps=3) * 1e3
      print(f"| {name} | {form} | {f_ms:.0f} | {g_ms:.0f} | {err:.1e} |", flush=True)


if __name__ == "__main__":
  main()
