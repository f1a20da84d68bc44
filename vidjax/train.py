"""The outer loop: all I/O, logging and checkpointing lives here; steps stay pure."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from absl import logging
from clu import metric_writers

import input_pipeline
from input_pipeline import loader
from input_pipeline.sources.listing import NotReadyError
from vidjax import checkpointing, evaluate, losses, optim, sharding, steps, summary, weights
from vidjax import config as config_lib
from vidjax.models import build_model


@dataclasses.dataclass
class Run:
  config: ml_collections.ConfigDict
  workdir: str
  mesh: Any
  data: input_pipeline.StoredDataset
  model: Any
  state: steps.TrainState  # freshly initialised, sharded; restore targets this
  checkpointer: checkpointing.Checkpointer


def _input_shape(config: ml_collections.ConfigDict, batch: int = 1) -> tuple[int, ...]:
  i = config.input
  return (batch, i.num_frames, i.frame_size, i.frame_size, i.channels)


def _open_data(config: ml_collections.ConfigDict, splits: tuple[str, ...]) -> input_pipeline.StoredDataset:
  """Process 0 generates/builds; the others wait for the finished store on the shared filesystem.

  Polling the filesystem, not a device barrier: a UCF101 build takes far longer than collective timeouts.
  """
  if jax.process_index() == 0:
    return input_pipeline.open_dataset(config, splits=splits)
  waited = 0.0
  while True:
    try:
      return input_pipeline.open_dataset(config, is_builder=False, splits=splits)
    except NotReadyError as e:
      if waited % 60 < 2:
        logging.info("Process %d waiting for process 0: %s", jax.process_index(), e)
      time.sleep(2)
      waited += 2


def _check_workdir_config(config: ml_collections.ConfigDict, workdir: str) -> None:
  """A workdir belongs to one model and dataset; resuming another would fail obscurely."""
  path = os.path.join(workdir, "config.json")
  current = json.loads(config.to_json_best_effort())
  if os.path.exists(path):
    with open(path) as f:
      saved = json.load(f)
    # What defines the trained model and its saved state; eval split, store and loader settings may differ.
    identity = [("model", None), ("train", "ema_decay")] + [("dataset", k) for k in ("name", "data_dir", "classes", "split")]
    for section, key in identity:
      a, b = saved.get(section, {}), current.get(section, {})
      if key is not None:
        a, b = a.get(key), b.get(key)
      if a != b:
        setting = f"config.{section}" + (f".{key}" if key else "")
        raise ValueError(f"--workdir {workdir!r} holds a run with a different {setting} ({path}). "
                         "Use a new --workdir, or the same settings to resume/evaluate it.")
  elif jax.process_index() == 0:
    os.makedirs(workdir, exist_ok=True)
    with open(path + ".tmp", "w") as f:  # other processes may read it at any moment: write, then rename
      json.dump(current, f, indent=1)
    os.replace(path + ".tmp", path)


def setup(config: ml_collections.ConfigDict, workdir: str, splits: tuple[str, ...] = ()) -> Run:
  """Everything train and eval share: checked config, data, model, sharded state."""
  config_lib.validate(config, jax.process_count(), jax.device_count())
  workdir = os.path.abspath(os.path.expanduser(workdir))
  _check_workdir_config(config, workdir)
  data = _open_data(config, splits or (config.dataset.train_split, config.dataset.eval_split))
  model = build_model(config.model, data.num_classes, config.train.compute_dtype)
  mesh = sharding.make_mesh()
  tx, _ = optim.make_optimizer(config.train)
  init = jax.jit(partial(steps.init_state, model=model, tx=tx, input_shape=_input_shape(config),
                         ema=config.train.ema_decay > 0),
                 out_shardings=sharding.replicated(mesh))
  state = init(jax.random.key(config.seed))
  if config.init.path:
    state = _init_from_weights(state, config, mesh)
  return Run(config, workdir, mesh, data, model, state, checkpointing.Checkpointer(workdir, config.max_checkpoints_to_keep))


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


def describe_model(run: Run) -> dict:
  """Parameter count and XLA's FLOP estimate for one clip (logged at start, Scenic-style)."""
  s = summary.summarize(run.model, _input_shape(run.config))
  return {"parameters": s["parameters"], "gflops_per_clip": s["gflops_per_clip"]}


def _fmt_time(seconds: float) -> str:
  if not math.isfinite(seconds):
    return "?"
  m, s = divmod(int(seconds), 60)
  h, m = divmod(m, 60)
  return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str) -> dict:
  """Trains (resuming from the latest checkpoint in workdir), then evaluates and reports."""
  start_time = time.time()
  run = setup(config, workdir)
  cfg, mesh, data = run.config, run.mesh, run.data
  is_chief = jax.process_index() == 0
  writer = metric_writers.create_default_writer(run.workdir, just_logging=not is_chief, asynchronous=True)

  counts = data.class_counts[cfg.dataset.train_split]
  class_weights = losses.class_weights(cfg.train.class_weights, counts)
  info = describe_model(run)
  logging.info("Dataset %s: %d classes, train %d / %s %d videos; store %s", data.name, data.num_classes,
               sum(counts), cfg.dataset.eval_split, sum(data.class_counts[cfg.dataset.eval_split]), data.path)
  logging.info("Train class counts %s -> %s class weights %s", counts, cfg.train.class_weights, np.round(class_weights, 3))
  logging.info("Model %s: %s parameters, %.3f GFLOPs per clip %s; %d devices (%s), %d processes",
               cfg.model.name, f"{info['parameters']:,}", info["gflops_per_clip"], _input_shape(cfg)[1:],
               jax.device_count(), jax.default_backend(), jax.process_count())
  if is_chief:
    writer.write_hparams({k: (v if isinstance(v, (int, float, str, bool)) else str(v))
                          for k, v in _flatten(cfg.to_dict()).items()})

  state, start_step = run.state, 0
  if run.checkpointer.latest_step() is not None:
    state, meta = run.checkpointer.restore(run.state)
    start_step = int(meta["step"])
    logging.info("Resumed from %s at step %d", run.checkpointer.directory, start_step)

  _, lr_fn = optim.make_optimizer(cfg.train)
  train_fn = jax.jit(
      partial(steps.train_step, class_weights=jnp.asarray(class_weights), label_smoothing=cfg.train.label_smoothing,
              mean=cfg.input.mean, std=cfg.input.std, accum_steps=cfg.train.grad_accum_steps,
              ema_decay=cfg.train.ema_decay, mixup_alpha=cfg.train.mixup_alpha),
      in_shardings=(sharding.replicated(mesh), sharding.data_sharded(mesh), sharding.replicated(mesh)),
      out_shardings=(sharding.replicated(mesh), sharding.replicated(mesh)), donate_argnums=0)
  eval_fn = evaluate.make_eval_step(cfg, mesh)
  rng = jax.random.key(cfg.seed + 1)
  batches = loader.train_batches(
      data.sources[cfg.dataset.train_split], input_pipeline.clip_spec(cfg), seed=cfg.seed,
      global_batch=cfg.train.batch_size, start_step=start_step, process_index=jax.process_index(),
      process_count=jax.process_count(), threads=cfg.input.loader_threads)
  device_batches = sharding.prefetch_to_devices(batches, mesh)

  num_steps = cfg.train.num_steps
  acc_metrics, last_log_time, last_log_step = None, time.time(), start_step
  last_saved = start_step if start_step else None
  for step in range(start_step + 1, num_steps + 1):
    state, m = train_fn(state, next(device_batches), rng)
    acc_metrics = m if acc_metrics is None else acc_metrics.merge(m)
    if step % cfg.log_every_steps == 0 or step == num_steps:
      scalars = {f"train_{k}": float(v) for k, v in acc_metrics.compute().items()}
      acc_metrics = None
      if not math.isfinite(scalars["train_loss"]):
        raise FloatingPointError(
            f"Non-finite training loss at step {step}; last good checkpoint: "
            f"{os.path.join(run.checkpointer.directory, str(last_saved)) if last_saved else 'none'}. "
            "Lower config.train.learning_rate or set config.train.grad_clip_norm.")
      now = time.time()
      rate = (step - last_log_step) / max(now - last_log_time, 1e-9)
      scalars.update(learning_rate=float(lr_fn(step - 1)), steps_per_sec=rate,
                     clips_per_sec=rate * cfg.train.batch_size)
      writer.write_scalars(step, scalars)
      logging.info("step %d/%d | loss %.4f | acc %.1f%% | %.2f steps/s, %.1f clips/s | ETA %s | elapsed %s",
                   step, num_steps, scalars["train_loss"], 100 * scalars["train_accuracy"], rate,
                   scalars["clips_per_sec"], _fmt_time((num_steps - step) / max(rate, 1e-9)),
                   _fmt_time(now - start_time))
      last_log_time, last_log_step = now, step
    if cfg.eval_every_steps and step % cfg.eval_every_steps == 0 and step != num_steps:
      report = evaluate.classification_report(
          *evaluate.predict(state, data.sources[cfg.dataset.eval_split], cfg, mesh, eval_fn), data.classes)
      writer.write_scalars(step, {f"{cfg.dataset.eval_split}_{k}": report[k]
                                  for k in ("loss", "accuracy", "macro_f1", "weighted_f1")})
      evaluate.log_report(report, cfg.dataset.eval_split, step)
    if step % cfg.checkpoint_every_steps == 0 or step == num_steps:
      run.checkpointer.save(step, state, {"step": step})  # the step alone fixes the data position
      last_saved = step
  run.checkpointer.close()

  split = cfg.dataset.eval_split
  report = evaluate.classification_report(
      *evaluate.predict(state, data.sources[split], cfg, mesh, eval_fn), data.classes)
  paths = evaluate.write_report(report, run.workdir, num_steps, split)
  writer.write_scalars(num_steps, {f"{split}_{k}": report[k] for k in ("loss", "accuracy", "macro_f1", "weighted_f1")})
  writer.flush()
  evaluate.log_report(report, split, num_steps)
  logging.info("Done in %s.\n  checkpoints: %s\n  TensorBoard: tensorboard --logdir %s\n  metrics:     %s\n"
               "  confusion:   %s", _fmt_time(time.time() - start_time), run.checkpointer.directory, run.workdir,
               paths["metrics"], paths["confusion_matrix"])
  return {**report, "step": num_steps, "paths": paths, **info}


def _flatten(d: dict, prefix: str = "") -> dict:
  out = {}
  for k, v in d.items():
    if isinstance(v, dict):
      out.update(_flatten(v, f"{prefix}{k}."))
    else:
      out[f"{prefix}{k}"] = v
  return out
