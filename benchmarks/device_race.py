"""vidjax against PyTorch on one accelerator (or, in smoke mode, the CPU), float32 and bfloat16, in one run.

  python benchmarks/device_race.py --framework=jax --model=r2plus1d_18 --batch=64     # one worker
  (benchmarks/device_check.py runs the workers, one process per framework and model, and collects the lines)

Per model and framework one process measures train and inference steps, each in float32 and in bfloat16
(JAX: the model's compute dtype, parameters float32; PyTorch: `torch.autocast` to bfloat16, the usual mixed
precision), and prints one JSON line per measurement as soon as it has it, so a run cut short keeps what it
measured. A measurement: one warm-up call (JAX compiles there; cuDNN autotunes), then the median of --reps
timed calls, device-synchronised. Peak device memory: JAX's from XLA's compiled memory analysis (arguments +
outputs + temporaries, minus donated aliases), PyTorch's from `torch.cuda.max_memory_allocated` after a reset.
FLOPs: XLA's cost analysis of the JAX step (the same network in both); "% of peak" divides FLOPs per second by
the best bfloat16 matmul rate measured in the same run. Models: torchvision's R(2+1)D-18, ir-CSN-152 (Tran et al.
2019; `--csn-blocks` shrinks it for smoke runs without changing its code) and the HMDB51 study's CNN+LSTM.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from speed_race import NUM_CLASSES, _timed, _torch_model  # one definition of the PyTorch models and the timing

MODELS = ("r2plus1d_18", "ir_csn_152", "cnn_lstm")
CSN_152 = (3, 8, 36, 3)


def _emit(row: dict) -> None:
  print(json.dumps(row), flush=True)


# ----------------------------------------------------------------------------------------------- JAX
def jax_model(name: str, dtype: str, csn_blocks: tuple[int, ...]):
  from vidjax.models import build_model, model_config

  if name == "ir_csn_152":
    cfg = model_config("csn", depth=0, stage_blocks=csn_blocks, variant="ir")
  elif name == "r2plus1d_18":
    cfg = model_config("video_resnet", arch="r2plus1d", depth=18)
  else:
    from configs.cnn_lstm_bn_leaky import get_config

    cfg = get_config().model
  return build_model(cfg, NUM_CLASSES, dtype)


def _jax_step(mode: str, state, batch):
  """(compiled step, a call that runs it once and waits), for the train step or inference."""
  import jax
  import jax.numpy as jnp

  from vidjax import steps

  if mode == "train":
    compiled = steps.make_train_step(class_weights=jnp.ones(NUM_CLASSES), donate=True).lower(
        state, batch, jax.random.key(1)).compile()
    holder = {"state": jax.tree.map(jnp.copy, state)}  # donated at every call

    def call():
      holder["state"], m = compiled(holder["state"], batch, jax.random.key(1))
      jax.block_until_ready(m)
    return compiled, call

  def fwd(state, video):
    x = steps.normalize(video, 0.45, 0.225)
    return state.apply_fn({"params": state.params, "batch_stats": state.batch_stats}, x, train=False)
  compiled = jax.jit(fwd).lower(state, batch["video"]).compile()
  return compiled, lambda: jax.block_until_ready(compiled(state, batch["video"]))


def run_jax(a) -> None:

  import jax
  import jax.numpy as jnp
  import numpy as np
  import optax

  from vidjax import steps

  shape = (a.batch, a.frames, a.size, a.size, 3)
  rng = np.random.default_rng(0)
  video = jnp.asarray(rng.integers(0, 255, shape, dtype=np.uint8))
  batch = {"video": video, "label": jnp.asarray(rng.integers(0, NUM_CLASSES, shape[0]).astype(np.int32))}
  for dtype in a.dtypes.split(","):
    model = jax_model(a.model, dtype, tuple(a.csn_blocks))
    tx = optax.adamw(1e-3, weight_decay=1e-4)
    state = steps.make_init(model, tx, shape[1:])(jax.random.key(0))
    params = int(sum(x.size for x in jax.tree.leaves(state.params)))
    for mode in a.modes.split(","):
      row = {"framework": "jax", "model": a.model, "mode": mode, "dtype": dtype, "batch": a.batch, "params": params}
      try:
        t = time.perf_counter()
        compiled, call = _jax_step(mode, state, batch)
        row["compile_s"] = round(time.perf_counter() - t, 2)
        cost = compiled.cost_analysis()
        cost = cost[0] if isinstance(cost, list) else cost
        mem = compiled.memory_analysis()
        first, med = _timed(call, a.reps)
        peak = (mem.argument_size_in_bytes + mem.output_size_in_bytes + mem.temp_size_in_bytes
                - mem.alias_size_in_bytes) if mem is not None else 0
        row.update(first_s=round(first, 4), median_s=med, clips_per_s=a.batch / med, flops=float(cost.get("flops", 0)),
                   peak_mem_mb=round(peak / 2**20, 1))
      except Exception as e:  # an out-of-memory batch, say: recorded, and the race goes on
        row["error"] = f"{type(e).__name__}: {str(e).strip().splitlines()[0][:300] if str(e).strip() else ''}"
      _emit(row)


def jax_peak(a) -> None:
  import jax
  import jax.numpy as jnp

  n = a.matmul
  x = jnp.ones((n, n), jnp.bfloat16)
  f = jax.jit(lambda x: x @ x)
  _, med = _timed(lambda: jax.block_until_ready(f(x)), 10)
  dev = jax.devices()[0]
  _emit({"framework": "jax", "bf16_matmul_flops_per_s": 2 * n**3 / med, "device": dev.device_kind,
         "backend": jax.default_backend(), "jax": jax.__version__})


# ----------------------------------------------------------------------------------------------- PyTorch
def torch_model(name: str, csn_blocks: tuple[int, ...]):
  if name != "ir_csn_152":
    return _torch_model(name)
  from torch import nn

  class Bottleneck(nn.Module):  # vidjax.models.csn.CSNBlock, variant "ir"
    def __init__(self, cin, cout, stride):
      super().__init__()
      mid = cout // 4
      self.conv1, self.bn1 = nn.Conv3d(cin, mid, 1, bias=False), nn.BatchNorm3d(mid)
      self.dw, self.bn2 = nn.Conv3d(mid, mid, 3, stride, 1, groups=mid, bias=False), nn.BatchNorm3d(mid)
      self.conv3, self.bn3 = nn.Conv3d(mid, cout, 1, bias=False), nn.BatchNorm3d(cout)
      self.proj = (nn.Sequential(nn.Conv3d(cin, cout, 1, stride, bias=False), nn.BatchNorm3d(cout))
                   if cin != cout or stride != 1 else nn.Identity())

    def forward(self, x):
      y = self.bn1(self.conv1(x)).relu()
      y = self.bn2(self.dw(y)).relu()
      return (self.proj(x) + self.bn3(self.conv3(y))).relu()

  class IrCSN(nn.Module):
    def __init__(self):
      super().__init__()
      self.stem = nn.Sequential(nn.Conv3d(3, 64, (3, 7, 7), (1, 2, 2), (1, 3, 3), bias=False), nn.BatchNorm3d(64),
                                nn.ReLU(), nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1)))
      blocks, cin = [], 64
      for s, (cout, n) in enumerate(zip((256, 512, 1024, 2048), csn_blocks, strict=True)):
        for b in range(n):
          blocks.append(Bottleneck(cin, cout, 2 if s > 0 and b == 0 else 1))
          cin = cout
      self.blocks = nn.Sequential(*blocks)
      self.head = nn.Linear(2048, NUM_CLASSES)

    def forward(self, x):
      return self.head(self.blocks(self.stem(x)).mean((2, 3, 4)))

  return IrCSN()


def _torch_step(mode, model, opt, cast, video, labels, loss_fn, sync):
  import torch

  def normalized():
    return (video.float() / 255.0 - 0.45) / 0.225

  if mode == "train":
    model.train()

    def call():
      opt.zero_grad(set_to_none=True)
      with cast:
        loss = loss_fn(model(normalized()), labels)
      loss.backward()
      opt.step()
      sync()
    return call
  model.eval()

  def infer():
    with torch.inference_mode(), cast:
      model(normalized())
    sync()
  return infer


def run_torch(a) -> None:
  import torch

  dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
  torch.backends.cudnn.benchmark = True
  torch.manual_seed(0)
  n, t, h, w, c = a.batch, a.frames, a.size, a.size, 3
  video = torch.randint(0, 255, (n, c, t, h, w), dtype=torch.uint8, device=dev)
  labels = torch.randint(0, NUM_CLASSES, (n,), device=dev)
  loss_fn = torch.nn.CrossEntropyLoss(weight=torch.ones(NUM_CLASSES, device=dev))

  def sync():
    if dev.type == "cuda":
      torch.cuda.synchronize()

  for dtype in a.dtypes.split(","):
    model = torch_model(a.model, tuple(a.csn_blocks)).to(dev)
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), 1e-3, weight_decay=1e-4)
    cast = torch.autocast(dev.type, dtype=torch.bfloat16, enabled=dtype == "bfloat16")
    for mode in a.modes.split(","):
      row = {"framework": "torch", "model": a.model, "mode": mode, "dtype": dtype, "batch": a.batch, "params": params,
             "torch": torch.__version__}
      try:
        if dev.type == "cuda":
          torch.cuda.empty_cache()
          torch.cuda.reset_peak_memory_stats()
        call = _torch_step(mode, model, opt, cast, video, labels, loss_fn, sync)
        first, med = _timed(call, a.reps)
        row.update(first_s=round(first, 4), median_s=med, clips_per_s=a.batch / med,
                   peak_mem_mb=round(torch.cuda.max_memory_allocated() / 2**20, 1) if dev.type == "cuda" else 0.0)
      except Exception as e:
        row["error"] = f"{type(e).__name__}: {str(e).strip().splitlines()[0][:300] if str(e).strip() else ''}"
      _emit(row)
    del model, opt


def torch_peak(a) -> None:
  import torch

  dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
  x = torch.ones(a.matmul, a.matmul, dtype=torch.bfloat16, device=dev)

  def call():
    x @ x
    if dev.type == "cuda":
      torch.cuda.synchronize()
  _, med = _timed(call, 10)
  _emit({"framework": "torch", "bf16_matmul_flops_per_s": 2 * a.matmul**3 / med, "torch": torch.__version__,
         "device": torch.cuda.get_device_name() if dev.type == "cuda" else "cpu"})


def main() -> None:
  ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  ap.add_argument("--framework", choices=["jax", "torch"], required=True)
  ap.add_argument("--model", choices=[*MODELS, "peak"], required=True)
  ap.add_argument("--batch", type=int, default=32)
  ap.add_argument("--frames", type=int, default=16)
  ap.add_argument("--size", type=int, default=112)
  ap.add_argument("--reps", type=int, default=5)
  ap.add_argument("--modes", default="train,infer")
  ap.add_argument("--dtypes", default="float32,bfloat16")
  ap.add_argument("--csn-blocks", type=int, nargs=4, default=list(CSN_152))
  ap.add_argument("--matmul", type=int, default=8192, help="side of the bf16 matmul that measures the peak")
  a = ap.parse_args()
  if a.model == "peak":
    (jax_peak if a.framework == "jax" else torch_peak)(a)
  else:
    (run_jax if a.framework == "jax" else run_torch)(a)


if __name__ == "__main__":
  main()
