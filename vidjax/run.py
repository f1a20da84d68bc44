"""One place assembles a run, for every mode (train, eval, predict, summary of a workdir, sweeps).

A run is: a checked config, a workdir whose identity matches it, the data (or, for inference, the identity a
checkpoint carries instead), the model, and a freshly initialised sharded state that restores target.

A run's identity travels with every checkpoint: class names, the clip spec, the model config and the data
fingerprint. Eval, predict and summary on a workdir read it from there and need neither the dataset nor
its store to know what the model was trained on.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
from typing import Any

import jax
import ml_collections
import numpy as np
from absl import logging

import input_pipeline
from vidjax import checkpointing, models, sharding, steps, weights
from vidjax import config as config_lib
from vidjax.workdir_lock import WorkdirLock

# What defines a trained model and what its "test" means; eval split, views, store and loader settings may differ.
IDENTITY_SETTINGS = (("model", None), ("train", "ema_decay"), ("train", "optimizer")) + tuple(
    ("dataset", k) for k in ("name", "data_dir", "classes", "split", "split_seed", "val_fraction", "test_fraction",
                             "max_train_per_class")) + tuple(
    ("input", k) for k in ("num_frames", "frame_size", "channels", "mean", "std"))


@dataclasses.dataclass
class Run:
  config: ml_collections.ConfigDict
  workdir: str
  mesh: Any
  classes: tuple[str, ...]
  model: Any
  state: steps.TrainState  # freshly initialised, sharded; restore targets this
  checkpointer: checkpointing.Checkpointer
  data: input_pipeline.StoredDataset | None = None  # None for inference from a checkpoint's identity
  lock: WorkdirLock | None = None  # held by process 0 while it trains; release() when done

  def close(self) -> None:
    self.checkpointer.close()
    if self.lock is not None:
      self.lock.release()

  example_shape: tuple[int, ...] = ()  # one example: a clip [T, H, W, C] or stored features [N, D]


def example_shape(config: ml_collections.ConfigDict, workdir: str | None = None) -> tuple[int, ...]:
  """One example's shape for a config alone (no listing, no generation): a clip, or the feature store's own N x D;
  a feature store not extracted yet has the shape --mode=extract will give it (ImageNet backbones)."""
  reads = models.reads(config.model)
  shape = input_pipeline.example_shape(config, reads, workdir)
  if shape is None and config.features.backbone in models.FEATURE_DIMS:
    shape = (config.features.frames, models.FEATURE_DIMS[config.features.backbone])
  if shape is None:
    raise FileNotFoundError("No feature store to read its frames x dimension from: extract it first "
                            "(--mode=extract with the same --config and --workdir)")
  return shape


def identity(config: ml_collections.ConfigDict, classes: tuple[str, ...], fingerprint: str,
             example_shape: tuple[int, ...]) -> dict:
  """What a checkpoint must carry to be used without its dataset (saved in every checkpoint's meta)."""
  i, d = config.input, config.dataset
  return {
      "classes": list(classes),
      "input": {"reads": models.reads(config.model), "shape": list(example_shape)},
      "clip": {"num_frames": i.num_frames, "frame_size": i.frame_size, "channels": i.channels,
               "train_sampling": i.train_sampling, "frame_stride": i.frame_stride, "mean": i.mean, "std": i.std,
               "store_short_side": d.store_short_side, "store_fps": d.store_fps, "store_max_frames": d.store_max_frames},
      "model": {**config.model.to_dict(), "compute_dtype": config.train.compute_dtype},
      "data": {"name": d.name, "split": d.split, "split_seed": d.split_seed, "classes": list(d.classes),
               "fingerprint": fingerprint},
  }


def identity_input(identity: dict) -> dict:
  """{"reads": "frames" | "features", "shape": one example's} of a checkpoint's identity (older ones: from the clip)."""
  if "input" in identity:
    return identity["input"]
  if identity["model"].get("name") in ("feature_head",):
    raise ValueError("This checkpoint predates recorded input shapes and reads stored features: retrain it")
  c = identity["clip"]
  return {"reads": "frames", "shape": [c["num_frames"], c["frame_size"], c["frame_size"], c["channels"]]}


def _normalised(section: str, key: str | None, value):
  if (section, key) == ("dataset", "data_dir") and value:
    return os.path.normpath(os.path.abspath(os.path.expanduser(value)))
  return value


def check_workdir(config: ml_collections.ConfigDict, workdir: str) -> None:
  """A workdir belongs to one model and dataset; refuses a config that differs in what defines them."""
  path = os.path.join(workdir, "config.json")
  current = json.loads(config.to_json_best_effort())
  if os.path.exists(path):
    with open(path) as f:
      saved = json.load(f)
    for section, key in IDENTITY_SETTINGS:
      a, b = saved.get(section, {}), current.get(section, {})
      if key is None:  # the model: name the first setting that differs (ones an older run lacks take defaults;
        #                ones this vidjax no longer has, such as the compute forms an older run recorded, are dropped)
        a = {k: v for k, v in {**b, **a}.items() if k in b} if a.get("name") == b.get("name") else a
        key = next((k for k in ["name", *sorted(set(a) | set(b))] if a.get(k) != b.get(k)), None)
        if key is None:
          continue
      a, b = _normalised(section, key, a.get(key)), _normalised(section, key, b.get(key))
      if a != b:
        raise ValueError(f"--workdir {workdir!r} holds a run with a different config.{section}.{key}: the run's is "
                         f"{a!r}, yours is {b!r} ({path}). Use a new --workdir, or the run's settings to resume or "
                         "evaluate it.")


def record_config(config: ml_collections.ConfigDict, workdir: str) -> None:
  """Writes config.json once the run has started cleanly, so a failed start never blocks the corrected command."""
  path = os.path.join(workdir, "config.json")
  if os.path.exists(path) or jax.process_index() != 0:
    return
  with open(path + ".tmp", "w") as f:  # other processes may read it at any moment: write, then rename
    json.dump(json.loads(config.to_json_best_effort()), f, indent=1)
  os.replace(path + ".tmp", path)


def setup(config: ml_collections.ConfigDict, workdir: str, *, splits: tuple[str, ...] = (), with_data: bool = True,
          train: bool = True) -> Run:
  """Everything the modes share: checked config, workdir identity, data, model, sharded state.

  with_data=False (predict): the classes come from the newest checkpoint's identity, not from the dataset.
  """
  config_lib.validate(config, jax.process_count(), jax.device_count(), check_data_dir=with_data)
  workdir = os.path.abspath(os.path.expanduser(workdir))
  lock = WorkdirLock(workdir) if train and jax.process_index() == 0 else None  # before anything is written
  try:
    return _assemble(config, workdir, splits, with_data, train, lock)
  except BaseException:
    if lock is not None:
      lock.release()
    raise


def _assemble(config: ml_collections.ConfigDict, workdir: str, splits: tuple[str, ...], with_data: bool, train: bool,
              lock: WorkdirLock | None) -> Run:
  check_workdir(config, workdir)
  if not train and not os.path.isdir(os.path.join(workdir, "checkpoints")):
    raise FileNotFoundError(f"No checkpoint in {os.path.join(workdir, 'checkpoints')}: train first with the same "
                            "--workdir")
  checkpointer = checkpointing.Checkpointer(workdir, config.max_checkpoints_to_keep)
  data = None
  if with_data:
    splits = splits or (config.dataset.train_split, config.dataset.eval_split)
    data = input_pipeline.open_dataset(config, splits=splits, reads=models.reads(config.model), workdir=workdir,
                                       process_index=jax.process_index())
    classes = data.classes
    if len(classes) < 2:
      raise ValueError(f"{data.name} lists {len(classes)} class ({list(classes)}): a classifier needs at least 2; "
                       "check config.dataset.classes and config.dataset.data_dir")
    shape = data.sources[splits[0]].example_shape(input_pipeline.clip_spec(config))
  else:
    saved = saved_identity(checkpointer)
    classes, shape = tuple(saved["classes"]), identity_input(saved)["shape"]
  model = models.build_model(config.model, len(classes), config.train.compute_dtype)
  mesh = sharding.make_mesh()
  state = steps.init_from_config(config, model, tuple(shape), mesh)(jax.random.key(config.seed))
  if config.init.path and train:
    state = _init_from_weights(state, config, mesh)
  if train:
    record_config(config, workdir)
  return Run(config, workdir, mesh, classes, model, state, checkpointer, data, lock, tuple(shape))


def saved_identity(checkpointer: checkpointing.Checkpointer, step: int | str = "latest") -> dict:
  """The identity (classes, clip spec, model, data) saved with a checkpoint; 'latest' skips unreadable records."""
  _, meta = checkpointer.newest_meta(step)
  return identity_of(meta, checkpointer)


def identity_of(meta: dict, checkpointer: checkpointing.Checkpointer) -> dict:
  if "identity" not in meta:
    raise ValueError(f"The checkpoints in {checkpointer.directory} predate run identities (no class names saved): "
                     "evaluate them with the dataset (--mode=eval), or retrain")
  return meta["identity"]


def with_clip_of(config: ml_collections.ConfigDict, identity: dict) -> ml_collections.ConfigDict:
  """A copy of config whose clip spec (sampling, decode size and rate) is the one the checkpoint was trained with."""
  c = copy.deepcopy(config)
  clip = identity["clip"]
  for key in ("num_frames", "frame_size", "channels", "train_sampling", "frame_stride", "mean", "std"):
    c.input[key] = clip[key]
  for key in ("store_short_side", "store_fps", "store_max_frames"):
    c.dataset[key] = clip[key]
  return c


def check_classes(run: Run, meta: dict) -> None:
  """Eval on a dataset whose classes differ from the checkpoint's (`meta`, its run record) would score the wrong
  labels."""
  step = meta["step"]
  saved = meta.get("identity", {}).get("classes")
  if saved is not None and tuple(saved) != tuple(run.classes):
    raise ValueError(f"The checkpoint at step {step} was trained on classes {saved[:5]}... ({len(saved)}); the "
                     f"dataset now lists {list(run.classes[:5])}... ({len(run.classes)}). Check config.dataset.")


def _init_from_weights(state: steps.TrainState, config: ml_collections.ConfigDict, mesh) -> steps.TrainState:
  """Fine-tuning start: imported weights replace the random init (a resumed run then overrides both)."""
  fresh = jax.tree.map(lambda x: np.asarray(x.addressable_data(0)),  # replicated: any local copy is the value
                       {"params": state.params, "batch_stats": state.batch_stats})
  merged, notes = weights.merge_into(fresh, weights.load(config.init.path), config.init.prefix)
  for note in notes:
    logging.info("init from %s: %s", config.init.path, note)
  merged = sharding.replicate(merged, mesh)
  return state.replace(params=merged["params"], batch_stats=merged["batch_stats"],
                       ema_params=merged["params"] if state.ema_params is not None else None)
