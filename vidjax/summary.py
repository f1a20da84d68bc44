"""`--mode=summary`: the studies' model table -- per-layer output shape and parameters, totals, size, FLOPs."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from vidjax.models import build_model


def summarize(model: nn.Module, input_shape: tuple[int, ...]) -> dict:
  """Shapes only (jax.eval_shape): nothing is computed, any model size works on any machine."""
  x = jax.ShapeDtypeStruct(input_shape, jnp.float32)
  variables = jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros(input_shape), train=False))

  order: list[str] = []  # call order (pytrees come back with sorted keys)

  def top_level(mdl, method):
    if method == "__call__" and len(mdl.path) == 1:
      order.append(mdl.name)
      return True
    return False

  _, state = jax.eval_shape(lambda v, x: model.apply(v, x, train=False, capture_intermediates=top_level,
                                                      mutable=["intermediates"]), variables, x)
  outputs = state["intermediates"]
  params = variables["params"]
  rows = []
  for name in dict.fromkeys(order + [n for n in params if n not in order]):
    if name not in params:
      continue
    count = sum(int(np.prod(p.shape)) for p in jax.tree.leaves(params[name]))
    out = outputs.get(name, {}).get("__call__", (None,))[0]
    out = jax.tree.leaves(out)[0] if out is not None else None  # an LSTM returns (sequence, state)
    rows.append({"layer": name, "output": tuple(out.shape[1:]) if out is not None else None, "params": count})
  total = sum(r["params"] for r in rows)
  stats = sum(int(np.prod(p.shape)) for p in jax.tree.leaves(variables.get("batch_stats", {})))
  cost = jax.jit(lambda v, x: model.apply(v, x, train=False)).lower(variables, x).cost_analysis() or {}
  cost = cost[0] if isinstance(cost, list) else cost
  return {"rows": rows, "parameters": total, "batch_stats": stats,
          "size_mb": 4 * (total + stats) / 2**20, "gflops_per_clip": float(cost.get("flops", np.nan)) / 1e9 / input_shape[0]}


def format_summary(name: str, input_shape: tuple[int, ...], s: dict) -> str:
  lines = [f"{name}: input {input_shape[1:]} (frames, height, width, channels)",
           f"{'layer':<24} {'output shape':<22} {'parameters':>12}", "-" * 60]
  for r in s["rows"]:
    lines.append(f"{r['layer']:<24} {r['output']!s:<22} {r['params']:>12,}")
  lines += ["-" * 60,
            f"total parameters {s['parameters']:,} (+ {s['batch_stats']:,} BatchNorm statistics)",
            f"size {s['size_mb']:.2f} MB as float32",
            f"{s['gflops_per_clip']:.3f} GFLOPs per clip (XLA cost analysis, inference)"]
  return "\n".join(lines)


def print_summary(config: ml_collections.ConfigDict) -> dict:
  from input_pipeline.sources import list_videos
  from vidjax import config as config_lib

  config_lib.validate(config)
  num_classes = list_videos(config.dataset).num_classes
  i = config.input
  shape = (1, i.num_frames, i.frame_size, i.frame_size, i.channels)
  s = summarize(build_model(config.model, num_classes, config.train.compute_dtype), shape)
  print(format_summary(f"{config.model.name} ({num_classes} classes)", shape, s), flush=True)
  return s
