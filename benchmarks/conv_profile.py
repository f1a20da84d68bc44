"""Where the R(2+1)D-18 train step loses to PyTorch on CPU: its two conv shapes, forward and backward.

  .venv/bin/python benchmarks/conv_profile.py                      # XLA:CPU
  /path/to/torchvenv/bin/python benchmarks/conv_profile.py --torch  # PyTorch (oneDNN)

Shapes are layer1's of R(2+1)D-18 at batch 4 x 16 x 112 x 112: 1x3x3 64->144 and 3x1x1 144->64 on
4 x 16 x 56 x 56 activations. Median of 5 after a warm-up.
"""

import statistics
import sys
import time

import numpy as np

SHAPES = {"1x3x3 64->144": ((1, 3, 3), 64, 144), "3x1x1 144->64": ((3, 1, 1), 144, 64)}
N, T, H, W = 4, 16, 56, 56


def med(fn, reps=5):
  fn()
  ts = []
  for _ in range(reps):
    t = time.perf_counter()
    fn()
    ts.append(time.perf_counter() - t)
  return statistics.median(ts)


def jax_times(k, cin, cout):
  import jax
  from jax import lax

  x = np.random.default_rng(0).normal(size=(N, T, H, W, cin)).astype(np.float32)
  w = np.random.default_rng(1).normal(size=(*k, cin, cout)).astype(np.float32) * 0.01
  pads = [(kk // 2, kk // 2) for kk in k]

  def conv(x, w):
    return lax.conv_general_dilated(x, w, (1, 1, 1), pads, dimension_numbers=("NTHWC", "THWIO", "NTHWC"))
  fwd = jax.jit(conv)
  grads = jax.jit(jax.grad(lambda x, w: (conv(x, w) ** 2).sum(), argnums=(0, 1)))
  x, w = jax.device_put(x), jax.device_put(w)
  return med(lambda: jax.block_until_ready(fwd(x, w))), med(lambda: jax.block_until_ready(grads(x, w)))


def torch_times(k, cin, cout):
  import torch

  x = torch.randn(N, cin, T, H, W, requires_grad=True)
  conv = torch.nn.Conv3d(cin, cout, k, padding=tuple(kk // 2 for kk in k), bias=False)
  return torch_conv_times(x, conv)


def torch_conv_times(x, conv, reps=5):
  """Median forward (no grad) and forward + backward times of a torch conv module on x."""
  import torch

  def forward():
    with torch.no_grad():
      conv(x)

  def step():
    x.grad = None
    conv.weight.grad = None
    (conv(x) ** 2).sum().backward()
  return med(forward, reps), med(step, reps)


if __name__ == "__main__":
  use_torch = "--torch" in sys.argv
  for name, shape in SHAPES.items():
    f, g = (torch_times if use_torch else jax_times)(*shape)
    print(f"{'torch' if use_torch else 'jax'} {name}: forward {f * 1e3:7.1f} ms, forward+backward {g * 1e3:7.1f} ms")
