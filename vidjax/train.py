"""The outer loop of training: all I/O, logging and checkpointing lives here; steps stay pure."""

from __future__ import annotations

import math
import os
import time

import jax
import ml_collections
import numpy as np
from absl import logging

import input_pipeline
from input_pipeline import loader
from vidjax import evaluate, losses, metric_writer, optim, sharding, steps, summary
from vidjax import run as run_lib
from vidjax.reports import plots


def describe_model(run: run_lib.Run) -> dict:
  """Parameter count, size and XLA's FLOP estimate for one clip (logged at start, Scenic-style; kept in checkpoints)."""
  s = summary.summarize(run.model, (1, *run.example_shape))
  return {"parameters": s["parameters"], "size_mb": s["size_mb"], "gflops_per_clip": s["gflops_per_clip"]}


def _fmt_time(seconds: float) -> str:
  if not math.isfinite(seconds):
    return "?"
  m, s = divmod(int(seconds), 60)
  h, m = divmod(m, 60)
  return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str) -> dict:
  """Trains (resuming from the latest checkpoint in workdir), then evaluates and reports."""
  start_time = time.time()
  run = run_lib.setup(config, workdir)
  try:
    return _train(run, start_time)
  finally:
    run.close()


def _train(run: run_lib.Run, start_time: float) -> dict:
  cfg, mesh, data = run.config, run.mesh, run.data
  is_chief = jax.process_index() == 0
  writer = metric_writer.create_default_writer(run.workdir, just_logging=not is_chief)

  counts = data.class_counts[cfg.dataset.train_split]
  class_weights = losses.class_weights(cfg.train.class_weights, counts)
  info = describe_model(run)
  identity = run_lib.identity(cfg, data.classes, data.fingerprint, run.example_shape)
  logging.info("Dataset %s: %d classes, train %d / %s %d videos; store %s", data.name, data.num_classes,
               sum(counts), cfg.dataset.eval_split, sum(data.class_counts[cfg.dataset.eval_split]), data.path)
  logging.info("Train class counts %s -> %s class weights %s", counts, cfg.train.class_weights, np.round(class_weights, 3))
  logging.info("Model %s: %s parameters, %.3f GFLOPs per clip %s; %d devices (%s), %d processes",
               cfg.model.name, f"{info['parameters']:,}", info["gflops_per_clip"], run.example_shape,
               jax.device_count(), jax.default_backend(), jax.process_count())
  if is_chief:
    writer.write_hparams({k: (v if isinstance(v, (int, float, str, bool)) else str(v))
                          for k, v in _flatten(cfg.to_dict()).items()})

  state, start_step, train_seconds = run.state, 0, 0.0
  num_steps = cfg.train.num_steps
  if run.checkpointer.latest_step() is not None:
    state, meta = run.checkpointer.restore(run.state, quarantine=True)
    start_step, train_seconds = int(meta["step"]), float(meta.get("train_seconds", 0.0))
    logging.info("Resumed from %s at step %d", run.checkpointer.directory, start_step)
    if start_step > num_steps:
      raise ValueError(f"--workdir {run.workdir!r} already holds step {start_step}, past config.train.num_steps="
                       f"{num_steps}; evaluate it with --mode=eval, or use a new --workdir")

  _, lr_fn = optim.make_optimizer(cfg.train)
  train_fn = steps.train_step_from_config(cfg, mesh, class_weights)
  eval_fn = evaluate.make_eval_step(cfg, mesh)
  rng = jax.random.key(cfg.seed + 1)
  batches = loader.train_batches(
      data.sources[cfg.dataset.train_split], input_pipeline.clip_spec(cfg), seed=cfg.seed,
      global_batch=cfg.train.batch_size, start_step=start_step, process_index=jax.process_index(),
      process_count=jax.process_count(), threads=cfg.input.loader_threads)
  device_batches = sharding.prefetch_to_devices(batches, mesh)
  split = cfg.dataset.eval_split
  last_saved = start_step if start_step else None  # the newest checkpoint, always finite (see save)

  def save(step: int) -> None:
    """Saves only a finite state: a checkpoint is something to resume from, and NaN is nothing to resume."""
    nonlocal last_saved
    if not bool(steps.all_finite(state)):
      raise FloatingPointError(
          f"Non-finite parameters, statistics or optimizer state at step {step}; not saved. Newest finite "
          f"checkpoint: {os.path.join(run.checkpointer.directory, str(last_saved)) if last_saved else 'none'}. "
          "Lower config.train.learning_rate or set config.train.grad_clip_norm, then rerun from it (or a new "
          "--workdir).")
    elapsed = train_seconds + time.time() - loop_start
    run.checkpointer.save(step, state, {"step": step, "identity": identity, "model_info": info,
                                        "train_seconds": elapsed})
    last_saved = step

  def evaluate_now(step: int, write: bool) -> dict:
    report = evaluate.evaluate_split(run, state, split, step, eval_fn, write=write)
    writer.write_scalars(step, {f"{split}_{k}": report[k] for k in
                                ("loss", "accuracy", "top5", "balanced_accuracy", "macro_f1", "weighted_f1")})
    writer.write_images(step, {f"{split}_confusion": plots.confusion_heatmap(np.asarray(report["confusion_matrix"]))})
    save(step)  # the evaluated state must exist to be `best`
    if run.checkpointer.record_evaluation(step, split, cfg.select_metric, report[cfg.select_metric]):
      logging.info("New best %s %s %.4f at step %d", split, cfg.select_metric, report[cfg.select_metric], step)
    return report

  loop_start = time.time()
  acc_metrics, last_log_time, last_log_step = None, time.time(), start_step
  for step in range(start_step + 1, num_steps + 1):
    state, m = train_fn(state, next(device_batches), rng)
    acc_metrics = m if acc_metrics is None else acc_metrics.merge(m)
    if step % cfg.log_every_steps == 0 or step == num_steps:
      scalars = {f"train_{k}": float(v) for k, v in acc_metrics.compute().items()}
      acc_metrics = None
      if not math.isfinite(scalars["train_loss"]):
        raise FloatingPointError(
            f"Non-finite training loss at step {step}; newest finite checkpoint: "
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
      evaluate_now(step, write=False)
    if step % cfg.checkpoint_every_steps == 0 or step == num_steps:
      save(step)  # the step alone fixes the data position

  step = num_steps
  report = evaluate_now(step, write=True)
  run.checkpointer.wait_until_finished()
  writer.close()  # flushes
  paths = report.get("paths", {})
  logging.info("Done in %s.\n  checkpoints: %s\n  TensorBoard: tensorboard --logdir %s\n  metrics:     %s\n"
               "  confusion:   %s", _fmt_time(time.time() - start_time), run.checkpointer.directory, run.workdir,
               paths.get("metrics"), paths.get("confusion_matrix"))
  return {**report, "step": step, "paths": paths, **info}


def _flatten(d: dict, prefix: str = "") -> dict:
  out = {}
  for k, v in d.items():
    if isinstance(v, dict):
      out.update(_flatten(v, f"{prefix}{k}."))
    else:
      out[f"{prefix}{k}"] = v
  return out
