"""Speed race: vidjax against PyTorch on the same CPU, same models, same input, in one run.

  .venv/bin/python benchmarks/speed_race.py --torch-python /path/to/torchvenv/bin/python

Each (framework, model, mode) runs in its own fresh process, so peak RSS is comparable;
one warm-up call (JAX compiles there), then the median of --reps timed calls.
Models: R(2+1)D-18, R3D-18 and MC3-18 (torchvision's), the default CSN (configs/csn.py's network) and the
HMDB51 study's CNN+LSTM (configs/cnn_lstm_bn_leaky.py), 101 classes; the PyTorch
versions of the last two are written below and have the same parameter count.
Training is AdamW on a weighted cross-entropy; inference is eval mode, no gradients.
The machine's achievable float32 peak is taken as the best of a 2048^3 matmul in each
framework, so "% peak" = XLA cost-analysis FLOPs / time / that rate.
Host memory: both frameworks' workers run under the same malloc settings, vidjax's default
(`vidjax/host_memory.py`: freed memory kept, no per-call page faults; PyTorch's CPU tensors gain
from it too) or, with --malloc=default, glibc's own.
torch is a benchmark-only dependency (see ../shared notes or README: a separate venv).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

MODELS = ("r2plus1d_18", "r3d_18", "mc3_18", "csn", "cnn_lstm")
VIDEO_RESNETS = {"r2plus1d_18": "r2plus1d", "r3d_18": "r3d", "mc3_18": "mc3"}  # torchvision's, same layout
NUM_CLASSES = 101


def _peak_rss_mb() -> float:
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(fn, reps: int) -> tuple[float, float]:
  t = time.perf_counter()
  fn()
  first = time.perf_counter() - t
  times = []
  for _ in range(reps):
    t = time.perf_counter()
    fn()
    times.append(time.perf_counter() - t)
  return first, statistics.median(times)


# ----------------------------------------------------------------------------------------------- JAX side
def _jax_model(name: str):
  from vidjax.models import build_model  # imported in the worker: the torch venv has no vidjax deps

  if name in VIDEO_RESNETS:
    import ml_collections

    cfg = ml_collections.ConfigDict({"name": "video_resnet", "arch": VIDEO_RESNETS[name], "depth": 18})
  else:
    import importlib

    cfg = importlib.import_module({"csn": "configs.csn", "cnn_lstm": "configs.cnn_lstm_bn_leaky"}[name]).get_config().model
  return build_model(cfg, NUM_CLASSES)


def jax_step(name: str, mode: str, shape: tuple[int, ...]):
  """(compiled step, a call that runs it once and waits, parameter count): the AdamW train step on a weighted
  cross-entropy, or the inference forward; benchmarks/step_profile.py profiles the same step."""

  import jax
  import jax.numpy as jnp
  import numpy as np
  import optax

  from vidjax import steps

  model = _jax_model(name)
  tx = optax.adamw(1e-3, weight_decay=1e-4)
  state = steps.make_init(model, tx, shape[1:])(jax.random.key(0))
  params = sum(x.size for x in jax.tree.leaves(state.params))
  rng = np.random.default_rng(0)
  video = jnp.asarray(rng.integers(0, 255, shape, dtype=np.uint8))
  batch = {"video": video, "label": jnp.asarray(rng.integers(0, NUM_CLASSES, shape[0]).astype(np.int32))}
  if mode == "train":
    f = steps.make_train_step(class_weights=jnp.ones(NUM_CLASSES))
    compiled = f.lower(state, batch, jax.random.key(1)).compile()
    holder = {"state": state}

    def call():
      holder["state"], m = compiled(holder["state"], batch, jax.random.key(1))
      jax.block_until_ready(m)
  else:
    def fwd(state, video):
      x = steps.normalize(video, 0.45, 0.225)
      return state.apply_fn({"params": state.params, "batch_stats": state.batch_stats}, x, train=False)
    compiled = jax.jit(fwd).lower(state, video).compile()

    def call():
      jax.block_until_ready(compiled(state, video))
  return compiled, call, params


def run_jax(name: str, mode: str, shape: tuple[int, ...], reps: int) -> dict:
  compiled, call, params = jax_step(name, mode, shape)
  cost = compiled.cost_analysis()
  cost = cost[0] if isinstance(cost, list) else cost
  mem = compiled.memory_analysis()
  first, med = _timed(call, reps)
  return {"params": int(params), "first_s": first, "median_s": med, "flops": float(cost.get("flops", 0.0)),
          "xla_temp_mb": getattr(mem, "temp_size_in_bytes", 0) / 2**20, "peak_rss_mb": _peak_rss_mb()}


def jax_matmul_peak() -> float:
  import jax
  import jax.numpy as jnp

  a = jnp.ones((2048, 2048), jnp.float32)
  f = jax.jit(lambda a: a @ a)
  jax.block_until_ready(f(a))
  _, med = _timed(lambda: jax.block_until_ready(f(a)), 5)
  return 2 * 2048**3 / med


# ----------------------------------------------------------------------------------------------- torch side
def _torch_model(name: str):
  import torch
  from torch import nn

  if name in VIDEO_RESNETS:
    import torchvision

    return getattr(torchvision.models.video, name)(num_classes=NUM_CLASSES)

  if name == "csn":  # configs/csn.py: stem 3x3x3/16 stride (1,2,2) + 1x3x3 max pool, ir-CSN stages (32, 64, 128) x 1
    class Block(nn.Module):
      def __init__(self, cin, cout, stride):
        super().__init__()
        s = (stride, stride, stride)
        self.conv1, self.bn1 = nn.Conv3d(cin, cout, 1, bias=False), nn.BatchNorm3d(cout)
        self.dw, self.bn2 = nn.Conv3d(cout, cout, 3, s, 1, groups=cout, bias=False), nn.BatchNorm3d(cout)
        self.conv3, self.bn3 = nn.Conv3d(cout, cout, 1, bias=False), nn.BatchNorm3d(cout)
        self.proj = nn.Sequential(nn.Conv3d(cin, cout, 1, s, bias=False), nn.BatchNorm3d(cout))

      def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = torch.relu(self.bn2(self.dw(y)))
        return torch.relu(self.proj(x) + self.bn3(self.conv3(y)))

    class CSN(nn.Module):
      def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv3d(3, 16, 3, (1, 2, 2), 1, bias=False), nn.BatchNorm3d(16), nn.ReLU(),
                                  nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1)))
        self.stages = nn.Sequential(Block(16, 32, 1), Block(32, 64, 2), Block(64, 128, 2))
        self.head = nn.Linear(128, NUM_CLASSES)

      def forward(self, x):
        return self.head(self.stages(self.stem(x)).mean((2, 3, 4)))
    return CSN()

  class CNNLSTM(nn.Module):  # configs/cnn_lstm_bn_leaky.py
    def __init__(self):
      super().__init__()
      layers, cin = [], 3
      for w in (32, 64, 128):
        layers += [nn.Conv2d(cin, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w), nn.LeakyReLU(0.01), nn.MaxPool2d(2)]
        cin = w
      self.cnn = nn.Sequential(*layers)
      self.lstm = nn.LSTM(128, 256, batch_first=True)
      self.head = nn.Linear(256, NUM_CLASSES)

    def forward(self, x):  # N, C, T, H, W
      n, c, t, h, w = x.shape
      f = self.cnn(x.transpose(1, 2).reshape(n * t, c, h, w)).mean((2, 3)).reshape(n, t, -1)
      _, (h_n, _) = self.lstm(f)
      return self.head(h_n[-1])
  return CNNLSTM()


def run_torch(name: str, mode: str, shape: tuple[int, ...], reps: int, threads: int) -> dict:
  import torch

  torch.set_num_threads(threads)
  torch.manual_seed(0)
  model = _torch_model(name)
  params = sum(p.numel() for p in model.parameters())
  n, t, h, w, c = shape
  video = torch.randint(0, 255, (n, c, t, h, w), dtype=torch.uint8)
  labels = torch.randint(0, NUM_CLASSES, (n,))
  opt = torch.optim.AdamW(model.parameters(), 1e-3, weight_decay=1e-4)
  loss_fn = torch.nn.CrossEntropyLoss(weight=torch.ones(NUM_CLASSES))

  def normalize(v):
    return (v.float() / 255.0 - 0.45) / 0.225

  if mode == "train":
    model.train()

    def call():
      opt.zero_grad(set_to_none=True)
      loss = loss_fn(model(normalize(video)), labels)
      loss.backward()
      opt.step()
      float(loss)
  else:
    model.eval()

    def call():
      with torch.inference_mode():
        model(normalize(video)).sum().item()
  first, med = _timed(call, reps)
  return {"params": int(params), "first_s": first, "median_s": med, "peak_rss_mb": _peak_rss_mb(),
          "threads": torch.get_num_threads(), "version": torch.__version__}


def torch_matmul_peak(threads: int) -> float:
  import torch

  torch.set_num_threads(threads)
  a = torch.ones(2048, 2048)
  _, med = _timed(lambda: a @ a, 5)
  return 2 * 2048**3 / med


# ----------------------------------------------------------------------------------------------- driver
def _worker(argv: list[str], python: str, env: dict | None = None) -> dict:
  out = subprocess.run([python, os.path.abspath(__file__), *argv], capture_output=True, text=True, env=env,
                       cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  if out.returncode:
    raise RuntimeError(f"worker {argv} failed:\n{out.stderr[-3000:]}")
  return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
  ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  ap.add_argument("--torch-python", required=False, help="python of a venv with torch + torchvision")
  ap.add_argument("--models", default=",".join(MODELS))
  ap.add_argument("--modes", default="train,infer")
  ap.add_argument("--batch", type=int, default=4)
  ap.add_argument("--frames", type=int, default=16)
  ap.add_argument("--size", type=int, default=112)
  ap.add_argument("--reps", type=int, default=3)
  ap.add_argument("--torch-threads", type=int, default=os.cpu_count())
  ap.add_argument("--worker", choices=["jax", "torch", "jax-peak", "torch-peak"])
  ap.add_argument("--model")
  ap.add_argument("--mode")
  ap.add_argument("--json", help="also write the results here")
  ap.add_argument("--malloc", choices=["kept", "default"], default="kept",
                  help="kept: both workers keep freed memory (vidjax/host_memory.py); default: glibc's own")
  a = ap.parse_args()
  shape = (a.batch, a.frames, a.size, a.size, 3)
  if a.worker:
    from vidjax import host_memory  # stdlib only: the torch venv imports it too

    malloc = host_memory.keep_freed_memory()  # before either framework starts
  if a.worker == "jax":
    print(json.dumps({**run_jax(a.model, a.mode, shape, a.reps), "malloc": malloc}))
    return
  if a.worker == "torch":
    print(json.dumps({**run_torch(a.model, a.mode, shape, a.reps, a.torch_threads), "malloc": malloc}))
    return
  if a.worker == "jax-peak":
    print(json.dumps({"flops_per_s": jax_matmul_peak()}))
    return
  if a.worker == "torch-peak":
    print(json.dumps({"flops_per_s": torch_matmul_peak(a.torch_threads)}))
    return

  common = ["--batch", str(a.batch), "--frames", str(a.frames), "--size", str(a.size), "--reps", str(a.reps),
            "--torch-threads", str(a.torch_threads)]
  env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}  # one device: the same CPU as torch's
  env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  env["VIDJAX_KEEP_FREED_MEMORY"] = "1" if a.malloc == "kept" else "0"
  peaks = [_worker(["--worker", "jax-peak", *common], sys.executable, env)["flops_per_s"]]
  if a.torch_python:
    peaks.append(_worker(["--worker", "torch-peak", *common], a.torch_python, env)["flops_per_s"])
  peak = max(peaks)
  print(f"input {shape} (N, T, H, W, C); {os.cpu_count()} CPUs; float32 matmul peak {peak / 1e9:.1f} GFLOP/s "
        f"(jax {peaks[0] / 1e9:.1f}" + (f", torch {peaks[1] / 1e9:.1f})" if len(peaks) > 1 else ")")
        + f"; malloc {a.malloc}", flush=True)
  rows = []
  for model in a.models.split(","):
    for mode in a.modes.split(","):
      j = _worker(["--worker", "jax", "--model", model, "--mode", mode, *common], sys.executable, env)
      t = _worker(["--worker", "torch", "--model", model, "--mode", mode, *common], a.torch_python, env) \
          if a.torch_python else None
      row = {"model": model, "mode": mode, "jax": j, "torch": t,
             "jax_clips_per_s": a.batch / j["median_s"], "pct_peak": 100 * j["flops"] / j["median_s"] / peak}
      if t:
        row["torch_clips_per_s"] = a.batch / t["median_s"]
        row["ratio"] = row["jax_clips_per_s"] / row["torch_clips_per_s"]
      rows.append(row)
      print(f"{model:12s} {mode:5s} vidjax {row['jax_clips_per_s']:7.2f} clips/s (median {j['median_s']:.3f} s, "
            f"first {j['first_s']:.1f} s, {j['flops'] / 1e9:.1f} GFLOP, {row['pct_peak']:.1f}% peak, "
            f"RSS {j['peak_rss_mb']:.0f} MB, XLA temp {j['xla_temp_mb']:.0f} MB, {j['params']:,} params)"
            + (f" | torch {row['torch_clips_per_s']:7.2f} clips/s (median {t['median_s']:.3f} s, RSS "
               f"{t['peak_rss_mb']:.0f} MB, {t['params']:,} params) | ratio {row['ratio']:.2f}" if t else ""),
            flush=True)
  if a.json:
    with open(a.json, "w") as f:
      json.dump({"shape": shape, "peak_flops_per_s": peaks, "malloc": a.malloc, "rows": rows}, f, indent=1)


if __name__ == "__main__":
  main()
