"""--mode=extract: run a backbone over every video of the chosen splits once, into a feature store.

  python -m vidjax.weights --pth googlenet-1378be20.pth --arch googlenet --out weights/googlenet
  python main.py --config=configs/frozen_mlp.py --workdir=runs/hmdb_feats --mode=extract \
      --config.features.weights=weights/googlenet --config.dataset.name=hmdb51 --config.dataset.data_dir=/data/hmdb51

Backbones (config.features.backbone): `googlenet` / `resnet18`, ImageNet 2D networks from converted torchvision
weights, on N evenly spaced frames per video (1024 / 512 features each); `run`, a trained vidjax run
(config.features.run): the frame encoder of a CNN+LSTM on N frames, or the pooled pre-classifier features of a
video model on K evenly spaced clips. Frames come from the frame store (built once, never decoded again), in
batches that a jit-compiled function encodes data-parallel over every device; process 0 writes the shards.
A finished shard is never recomputed: rerunning an interrupted extraction does the rest.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from absl import logging
from jax.experimental import multihost_utils

import input_pipeline
from input_pipeline import feature_store, loader
from vidjax import sharding, steps
from vidjax.models import FEATURE_DIMS, build_arch

BACKBONES = (*FEATURE_DIMS, "run")
_CLASSIFIERS = ("head", "fc")


@dataclasses.dataclass
class Encoder:
  """uint8 views [B, V, T, H, W, C] -> features [B, N, D], with what made them."""

  identity: dict  # goes into features.json: the backbone, its weights, frames/clips
  spec: loader.ClipSpec  # which frames of a stored video make the views
  data_config: ml_collections.ConfigDict  # the dataset and store settings the frames come from
  apply: Callable[[Any, jax.Array], jax.Array]
  variables: Any
  frames: int  # N
  dim: int  # D


def _capture(model: nn.Module, variables, x: jax.Array, module_name: str, take_input: bool) -> jax.Array:
  """Runs the model and returns what its top-level submodule `module_name` received (take_input) or returned:
  the pre-classifier features of any vidjax model, or a CNN+LSTM's per-frame backbone output."""
  seen: list[jax.Array] = []

  def interceptor(next_fun, args, kwargs, context):
    out = next_fun(*args, **kwargs)
    m = context.module
    top_level = isinstance(m.parent, nn.Module) and not isinstance(m.parent.parent, nn.Module)
    if context.method_name == "__call__" and m.name == module_name and top_level:
      seen.append(args[0] if take_input else out)
    return out

  with nn.intercept_methods(interceptor):
    model.apply(variables, x, train=False)
  if not seen:
    raise ValueError(f"the model has no top-level module {module_name!r} to take features from")
  return seen[0]


def _imagenet_encoder(config: ml_collections.ConfigDict) -> Encoder:
  from vidjax import weights

  f = config.features
  dim = FEATURE_DIMS[f.backbone]
  if config.input.channels != 3:
    raise ValueError(f"config.input.channels={config.input.channels}: {f.backbone} takes RGB frames; set it to 3")
  model, _ = build_arch(f.backbone)
  size = config.input.frame_size
  def init():
    return model.init(jax.random.key(0), jnp.zeros((1, size, size, 3)), train=False)

  if f.weights:
    loaded = weights.load(f.weights)
    loaded = {col: {k: v for k, v in loaded.get(col, {}).items() if k != "fc"} for col in ("params", "batch_stats")}
    weights.check_against(loaded, jax.eval_shape(init), f"config.features.weights={f.weights!r}")
    variables = loaded
  else:
    logging.warning("config.features.weights is empty: %s keeps its random init (a random-feature baseline, not "
                    "ImageNet features)", f.backbone)
    variables = jax.tree.map(np.asarray, init())
  n = f.frames
  spec = dataclasses.replace(input_pipeline.clip_spec(config), num_frames=n, train_sampling="uniform",
                             eval_clips=1, eval_crops=1)
  mean, std = config.input.mean, config.input.std

  def apply(v, video):
    b = video.shape[0]
    x = steps.normalize(video.reshape(b * n, *video.shape[3:]), mean, std)
    return model.apply(v, x, train=False).reshape(b, n, -1)

  identity = {"name": f.backbone, "weights": os.path.abspath(f.weights) if f.weights else "random init",
              "per": "frame", "frame_size": size, "mean": mean, "std": std}
  return Encoder(identity, spec, config, apply, variables, n, dim)


def _run_encoder(config: ml_collections.ConfigDict) -> Encoder:
  from vidjax import config as config_lib
  from vidjax import run as run_lib

  f = config.features
  if not f.run:
    raise ValueError("config.features.backbone='run' needs config.features.run: the workdir of a trained vidjax run")
  run_config = config_lib.read_run_config(f.run)
  run = run_lib.setup(run_config, f.run, with_data=False, train=False)
  state, meta = run.checkpointer.restore(run.state, f.checkpoint)
  identity = run_lib.identity_of(meta, run.checkpointer)
  run.checkpointer.close()
  if run_lib.identity_input(identity)["reads"] == "features":
    raise ValueError(f"config.features.run={f.run!r} was trained on stored features, not on video frames")
  data_config = run_lib.with_clip_of(config, identity)  # frames decoded and sized exactly as the run trained
  model, variables = run.model, {"params": steps.eval_params(state), "batch_stats": state.batch_stats}
  variables = jax.tree.map(lambda x: np.asarray(x.addressable_data(0)), variables)
  i = data_config.input
  per_frame = run_config.model.name == "cnn_lstm"
  if per_frame:  # the frame encoder: what the LSTM reads, one vector per frame
    n, views = f.frames, 1
    spec = dataclasses.replace(input_pipeline.clip_spec(data_config), num_frames=n, train_sampling="uniform",
                               eval_clips=1, eval_crops=1)
  else:  # the pooled features the classifier reads, one vector per clip
    n, views = f.clips, f.clips
    spec = dataclasses.replace(input_pipeline.clip_spec(data_config), eval_clips=f.clips, eval_crops=1)
  probe = (1, views, n if per_frame else i.num_frames, i.frame_size, i.frame_size, i.channels)

  def apply(v, video):
    b = video.shape[0]
    x = steps.normalize(video.reshape(b * video.shape[1], *video.shape[2:]), i.mean, i.std)
    if per_frame:
      return _capture(model, v, x, "backbone", take_input=False).reshape(b, n, -1)
    name = next(c for c in _CLASSIFIERS if c in v["params"])
    return _capture(model, v, x, name, take_input=True).reshape(b, n, -1)

  dim = int(jax.eval_shape(apply, variables, jax.ShapeDtypeStruct(probe, jnp.uint8)).shape[-1])
  ident = {"name": f"run:{run_config.model.name}", "run": os.path.abspath(f.run), "step": int(meta["step"]),
           "per": "frame" if per_frame else "clip", "model": identity["model"], "clip": identity["clip"],
           "classes": identity["classes"]}
  return Encoder(ident, spec, data_config, apply, variables, n, dim)


def make_encoder(config: ml_collections.ConfigDict) -> Encoder:
  if config.features.backbone not in BACKBONES:
    raise ValueError(f"config.features.backbone={config.features.backbone!r} is not one of {BACKBONES}")
  if config.features.backbone == "run":
    return _run_encoder(config)
  return _imagenet_encoder(config)


class _Range:
  """Records [a, b) of a split, as a source (its other attributes: the split's)."""

  def __init__(self, source, a: int, b: int):
    self.source, self.a, self.b = source, a, b

  def __getattr__(self, name: str):
    return getattr(self.source, name)

  def __len__(self) -> int:
    return self.b - self.a

  def __getitem__(self, i: int):
    return self.source[self.a + i]


def gathered_order(n: int, processes: int, local_batch: int) -> np.ndarray:
  """Which record (or -1 for padding) each row of the gathered eval batches holds: `loader.eval_batches` deals
  records round-robin over processes and pads each host to whole batches; a gather stacks hosts per batch."""
  hosts = [list(range(p, n, processes)) for p in range(processes)]
  per_host = math.ceil(math.ceil(n / processes) / local_batch) * local_batch
  order = []
  for j in range(0, per_host, local_batch):
    for h in hosts:
      part = h[j:j + local_batch]
      order += part + [-1] * (local_batch - len(part))
  return np.asarray(order, np.int64)


def _index(encoder: Encoder, data, splits: tuple[str, ...], shard_size: int) -> dict:
  return {
      "format": feature_store.FORMAT,
      "backbone": encoder.identity,
      "frames": encoder.frames,
      "dim": encoder.dim,
      "classes": list(data.classes),
      "source": {"dataset": data.name, "store": data.path, "fingerprint": data.fingerprint,
                 "sampling": dataclasses.asdict(encoder.spec)},
      "splits": {s: {"videos": len(data.sources[s]), "shard_size": shard_size} for s in splits},
  }


def _check_resumable(out: str, index: dict) -> None:
  path = os.path.join(out, "features.json")
  if not os.path.exists(path):
    return
  old = feature_store.open_store(out).index
  new = json.loads(json.dumps(index))  # as it would read back (tuples become lists)
  for key in ("backbone", "frames", "dim", "classes", "source", "splits"):
    a, b = old.get(key), new[key]
    if a != b:
      if isinstance(a, dict) and isinstance(b, dict):
        sub = next(k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k))
        key, a, b = f"{key}.{sub}", a.get(sub), b.get(sub)
      raise ValueError(f"{path} was written with {key}={str(a)[:200]}, this extraction has {str(b)[:200]}: choose "
                       "another config.features.out (or --workdir), or delete the old store")


def extract(config: ml_collections.ConfigDict, workdir: str) -> str:
  """Writes (or completes) the feature store; returns its path."""
  from tqdm.auto import tqdm

  from vidjax import config as config_lib

  config_lib.validate(config, jax.process_count(), jax.device_count())
  f = config.features
  if f.batch_size % jax.device_count():  # checked here, not in validate(): only extraction uses it
    raise ValueError(f"config.features.batch_size={f.batch_size} is invalid: must be divisible by the "
                     f"{jax.device_count()} devices")
  out = feature_store.extracted_path(f.out, workdir)
  encoder = make_encoder(config)
  splits = tuple(f.splits)
  data = input_pipeline.open_dataset(encoder.data_config, splits=splits, reads="frames",
                                     process_index=jax.process_index())
  index = _index(encoder, data, splits, f.shard_size)
  _check_resumable(out, index)
  chief = jax.process_index() == 0
  if chief:
    feature_store.write_index(out, index)
  mesh = sharding.make_mesh()
  variables = sharding.replicate(encoder.variables, mesh)
  encode = jax.jit(lambda v, batch: {"features": encoder.apply(v, batch["video"]), "mask": batch["mask"]})
  todo = [(s, k, a, b) for s in splits for k, (a, b) in enumerate(feature_store.shard_ranges(len(data.sources[s]),
                                                                                              f.shard_size))]
  done = [t for t in todo if feature_store.shard_done(out, t[0], t[1])]
  total = sum(b - a for _, _, a, b in todo)
  if done:
    logging.info("Feature store %s: %d of %d shards already written; extracting the other %d", out, len(done),
                 len(todo), len(todo) - len(done))
  bar = tqdm(total=total, initial=sum(b - a for _, _, a, b in done), desc=f"extract {encoder.identity['name']}",
             unit="video", disable=not chief)
  start, videos = time.time(), 0
  for split, k, a, b in todo:
    if feature_store.shard_done(out, split, k):
      continue
    source = data.sources[split]
    batches = loader.eval_batches(_Range(source, a, b), encoder.spec, global_batch=f.batch_size,
                                  process_index=jax.process_index(), process_count=jax.process_count(),
                                  threads=config.input.loader_threads)
    feats, masks = [], []
    for batch in sharding.prefetch_to_devices(batches, mesh):
      got = multihost_utils.process_allgather(encode(variables, batch), tiled=True)
      feats.append(got["features"])
      masks.append(got["mask"])
    if chief:
      order = gathered_order(b - a, jax.process_count(), f.batch_size // jax.process_count())
      mask = np.concatenate(masks).astype(bool)
      assert np.array_equal(mask, order >= 0), "gathered rows out of the loader's order"
      rows = np.concatenate(feats)[mask]
      shard = np.empty_like(rows)
      shard[order[mask]] = rows
      labels = [int(source[i]["label"]) for i in range(a, b)]
      feature_store.write_shard(out, split, k, shard, labels, [source.path(i) for i in range(a, b)])
    videos += b - a
    bar.update(b - a)
  bar.close()
  seconds = time.time() - start
  logging.info("Feature store %s: %d x %d features per video, %d videos extracted in %.1f s (%.1f videos/s)", out,
               encoder.frames, encoder.dim, videos, seconds, videos / max(seconds, 1e-9))
  return out
