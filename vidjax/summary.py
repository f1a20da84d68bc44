"""`--mode=summary`: the studies' model tables -- per-layer output shape and parameters, totals, size, FLOPs, and
(--tensors) every parameter tensor with its shape and count, as the HMDB51 study listed them.

For a config alone the class count comes from the config (never a dataset listing); for a workdir, from the
identity its newest checkpoint carries.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from vidjax.models import build_model
from vidjax.ops import forms
from vidjax.optim import is_frozen


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
  # the model as written: XLA's own convs, whatever forms run (Winograd does fewer multiplications, im2col more)
  with forms.use("xla"):
    cost = jax.jit(lambda v, x: model.apply(v, x, train=False)).lower(variables, x).cost_analysis() or {}
  cost = cost[0] if isinstance(cost, list) else cost
  tensors = [{"name": ".".join(str(getattr(k, "key", k)) for k in path), "shape": tuple(leaf.shape),
              "count": int(np.prod(leaf.shape)), "frozen": is_frozen(str(getattr(path[0], "key", path[0])))}
             for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]]
  call_order = {r["layer"]: i for i, r in enumerate(rows)}
  tensors.sort(key=lambda t: call_order.get(t["name"].split(".")[0], len(rows)))  # stable: sorted within a module
  return {"rows": rows, "tensors": tensors, "parameters": total, "batch_stats": stats,
          "size_mb": 4 * (total + stats) / 2**20, "gflops_per_clip": float(cost.get("flops", np.nan)) / 1e9 / input_shape[0]}


def format_summary(name: str, input_shape: tuple[int, ...], s: dict) -> str:
  what = "(stored features: rows, dimension)" if len(input_shape) == 3 else "(frames, height, width, channels)"
  lines = [f"{name}: input {input_shape[1:]} {what}",
           f"{'layer':<24} {'output shape':<22} {'parameters':>12}", "-" * 60]
  for r in s["rows"]:
    lines.append(f"{r['layer']:<24} {r['output']!s:<22} {r['params']:>12,}")
  lines += ["-" * 60,
            f"total parameters {s['parameters']:,} (+ {s['batch_stats']:,} BatchNorm statistics)",
            f"size {s['size_mb']:.2f} MB as float32",
            f"{s['gflops_per_clip']:.3f} GFLOPs per clip (XLA cost analysis, inference)"]
  return "\n".join(lines)


def format_tensors(s: dict) -> str:
  """Every parameter tensor: dotted name, shape, count (frozen ones marked), then the totals."""
  width = max([len(t["name"]) for t in s["tensors"]] + [24])
  lines = [f"{'parameter':<{width}} {'shape':<22} {'count':>12}", "-" * (width + 36)]
  for t in s["tensors"]:
    lines.append(f"{t['name']:<{width}} {t['shape']!s:<22} {t['count']:>12,}" + ("  frozen" if t["frozen"] else ""))
  frozen = sum(t["count"] for t in s["tensors"] if t["frozen"])
  lines += ["-" * (width + 36), f"Total {s['parameters']:,}" + (f" ({s['parameters'] - frozen:,} trained, {frozen:,} frozen)"
                                                                if frozen else "")]
  return "\n".join(lines)


def print_summary(config: ml_collections.ConfigDict | None = None, workdir: str | None = None,
                  tensors: bool = False) -> dict:
  """The model table of a config (classes counted from the config) or of a trained workdir (from its identity)."""
  from input_pipeline.sources import count_classes
  from vidjax import checkpointing
  from vidjax import config as config_lib
  from vidjax import run as run_lib

  if workdir:
    config = config or config_lib.read_run_config(workdir)
    identity = run_lib.saved_identity(checkpointing.Checkpointer(workdir, config.max_checkpoints_to_keep))
    num_classes, example = len(identity["classes"]), tuple(run_lib.identity_input(identity)["shape"])
  else:
    config_lib.validate(config, check_data_dir=False)
    num_classes, example = count_classes(config.dataset), run_lib.example_shape(config)
  shape = (1, *example)
  s = summarize(build_model(config.model, num_classes, config.train.compute_dtype), shape)
  print(format_summary(f"{config.model.name} ({num_classes} classes)", shape, s), flush=True)
  if tensors:
    print("\n" + format_tensors(s), flush=True)
  return s
