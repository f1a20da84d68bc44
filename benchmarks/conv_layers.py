"""Per-layer profile of the video ResNets' convs on CPU: XLA's conv, vidjax's CPU form, and PyTorch, per shape.

  .venv/bin/python benchmarks/conv_layers.py --torch-python /path/to/torchvenv/bin/python [--models r3d_18,...]

Records every `Conv3D` call of each model at the race's input (4 x 16 x 112 x 112 x 3) with flax's method
interceptor, so the list is the model's own, with how many times each shape occurs. Times forward and forward +
backward (gradients of input and kernel; the kernel's alone for the stem, whose input is the clip, as in a train
step) of one conv, median of 3 after a warm-up; PyTorch (2 threads) runs the same shapes in a subprocess.
"share" is count x time over the model's sum of conv times, for training (fwd+bwd) and inference (fwd).
`--xla` adds XLA's own conv (slow: its gradient of the 3-channel stem alone takes over a minute).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks.conv_profile import med, torch_conv_times

N, T, H, W = 4, 16, 112, 112


def conv_calls(name: str) -> list[dict]:
  import flax.linen as nn
  import jax
  import jax.numpy as jnp

  from vidjax.models import layers
  from vidjax.models.video_resnet import VideoResNet

  arch = {"r3d_18": "r3d", "mc3_18": "mc3", "r2plus1d_18": "r2plus1d"}[name]
  model = VideoResNet(num_classes=101, arch=arch)
  calls: dict[tuple, dict] = {}

  def record(next_fun, args, kwargs, context):
    mod = context.module
    if isinstance(mod, layers.Conv3D) and context.method_name == "__call__":
      key = (tuple(args[0].shape), tuple(mod.kernel_size), tuple(mod.strides), mod.features)
      calls.setdefault(key, {"x": key[0], "kernel": key[1], "strides": key[2], "cout": key[3], "count": 0})["count"] += 1
    return next_fun(*args, **kwargs)

  with nn.intercept_methods(record):
    jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros((N, T, H, W, 3)), train=True))
  return list(calls.values())


def jax_times(call: dict, setting: str) -> tuple[float, float]:
  import jax

  from vidjax.models import layers
  from vidjax.ops import forms

  rng = np.random.default_rng(0)
  x = jax.device_put(rng.normal(size=call["x"]).astype(np.float32))
  conv = layers.Conv3D(call["cout"], call["kernel"], call["strides"])
  params = conv.init(jax.random.key(0), x)
  fwd = jax.jit(conv.apply)
  argnums = (0,) if call["x"][-1] == 3 else (0, 1)  # the stem: the clip needs no gradient
  grads = jax.jit(jax.grad(lambda p, x: (conv.apply(p, x) ** 2).sum(), argnums=argnums))
  with forms.use(setting):  # traced on the first (timed-out) call
    return (med(lambda: jax.block_until_ready(fwd(params, x)), 3),
            med(lambda: jax.block_until_ready(grads(params, x)), 3))


def torch_times(call: dict) -> tuple[float, float]:
  import torch

  n, t, h, w, cin = call["x"]
  k = call["kernel"]
  x = torch.randn(n, cin, t, h, w, requires_grad=cin != 3)
  conv = torch.nn.Conv3d(cin, call["cout"], k, call["strides"], padding=tuple(kk // 2 for kk in k), bias=False)
  return torch_conv_times(x, conv, 3)


def main() -> None:
  ap = argparse.ArgumentParser()
  ap.add_argument("--models", default="r3d_18,mc3_18,r2plus1d_18")
  ap.add_argument("--torch-python", default="")
  ap.add_argument("--xla", action="store_true", help="also time XLA's own conv")
  ap.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
  args = ap.parse_args()
  from vidjax import host_memory

  host_memory.keep_freed_memory()  # both frameworks, as in speed_race.py: before either starts
  if args.torch_worker:
    import torch
    torch.set_num_threads(2)
    print(json.dumps([torch_times(c) for c in json.load(sys.stdin)]))
    return
  for name in args.models.split(","):
    calls = conv_calls(name)
    nan = (float("nan"), float("nan"))
    rows = [(c, jax_times(c, "xla") if args.xla else nan, jax_times(c, "cpu")) for c in calls]
    theirs = [(float("nan"), float("nan"))] * len(calls)
    if args.torch_python:
      out = subprocess.run([args.torch_python, __file__, "--torch-worker"], input=json.dumps(calls), text=True,
                           capture_output=True, check=True).stdout
      theirs = json.loads(out.strip().splitlines()[-1])
    total = [sum(c["count"] * cpu[i] for c, _, cpu in rows) for i in (0, 1)]
    print(f"\n{name}: ms, forward / forward+backward, one conv at batch {N}")
    print("| input (N,T,H,W,C) | kernel | stride | out | count | XLA conv | vidjax CPU | PyTorch | train ratio | "
          "infer ratio | share train / infer |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for (c, xla, cpu), tt in zip(rows, theirs, strict=True):
      k = "x".join(map(str, c["kernel"]))
      s = "x".join(map(str, c["strides"]))
      print(f"| {c['x']} | {k} | {s} | {c['cout']} | {c['count']} | {xla[0] * 1e3:.0f} / {xla[1] * 1e3:.0f} | "
            f"{cpu[0] * 1e3:.0f} / {cpu[1] * 1e3:.0f} | {tt[0] * 1e3:.0f} / {tt[1] * 1e3:.0f} | "
            f"{tt[1] / cpu[1]:.2f} | {tt[0] / cpu[0]:.2f} | {c['count'] * cpu[1] / total[1]:.0%} / "
            f"{c['count'] * cpu[0] / total[0]:.0%} |", flush=True)


if __name__ == "__main__":
  main()
