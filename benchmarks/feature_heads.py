"""Frozen features, timed: extraction videos/s, and an epoch of the HMDB51 study's head from the feature store
against the same head over the frozen backbone run inside every step (configs/frozen_backbone.py).

  .venv/bin/python benchmarks/feature_heads.py --workdir=/tmp/feature_heads

On the default synthetic_motion (600 train videos), with configs/frozen_mlp.py's input: 16 evenly spaced
112 x 112 RGB frames per video through GoogLeNet (random init: the speed is the weights'), batch 8. An epoch is
600 / 8 = 75 steps of the one train-step factory, timed after 3 warm-up steps (compilation excluded), data
loading included. Prints one markdown table.
"""

from __future__ import annotations

import os
import sys
import time

from absl import app, flags, logging

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", "/tmp/feature_heads", "Where the store and the runs go (reused if there).")


def _epoch_seconds(config, workdir: str) -> tuple[float, int]:
  import jax
  import numpy as np

  import input_pipeline
  from input_pipeline import loader
  from vidjax import losses, sharding, steps
  from vidjax import run as run_lib

  run = run_lib.setup(config, workdir)
  try:
    data, cfg = run.data, run.config
    counts = data.class_counts[cfg.dataset.train_split]
    n = sum(counts)
    epoch = n // cfg.train.batch_size
    train_fn = steps.train_step_from_config(cfg, run.mesh, losses.class_weights("none", counts))
    batches = sharding.prefetch_to_devices(loader.train_batches(
        data.sources[cfg.dataset.train_split], input_pipeline.clip_spec(cfg), seed=0,
        global_batch=cfg.train.batch_size, threads=cfg.input.loader_threads), run.mesh)
    state, rng = run.state, jax.random.key(0)
    for _ in range(3):
      state, m = train_fn(state, next(batches), rng)
    jax.block_until_ready(state)
    start = time.perf_counter()
    for _ in range(epoch):
      state, m = train_fn(state, next(batches), rng)
    jax.block_until_ready(state)
    assert np.isfinite(float(m.compute()["loss"]))
    return time.perf_counter() - start, epoch
  finally:
    run.close()


def main(argv):
  del argv
  from configs import frozen_backbone, frozen_mlp
  from vidjax.features import extract

  logging.set_verbosity(logging.WARNING)
  os.makedirs(FLAGS.workdir, exist_ok=True)
  c = frozen_mlp.get_config()
  c.features.batch_size = 8
  store = os.path.join(FLAGS.workdir, "store", "features")
  fresh = not os.path.exists(os.path.join(store, "features.json"))
  start = time.perf_counter()
  c.features.out = store
  extract.extract(c, os.path.join(FLAGS.workdir, "store"))
  extract_s = time.perf_counter() - start
  from input_pipeline import feature_store

  videos = sum(s["videos"] for s in feature_store.open_store(store).index["splits"].values())

  head_s, epoch = _epoch_seconds(c, os.path.join(FLAGS.workdir, "head_from_store"))
  b = frozen_backbone.get_config()
  b.model.backbone, b.model.widths, b.model.depths = "googlenet", (), ()
  b.init.path = ""
  for key in ("channels", "frame_size", "num_frames", "mean", "std", "flip"):
    b.input[key] = c.input[key]
  b.input.train_sampling = "uniform"
  b.input.crop_scale = (1.0, 1.0)
  for key in ("head", "hidden", "dropout"):
    b.model[key] = c.model[key]
  for key in ("optimizer", "learning_rate", "weight_decay", "schedule", "batch_size"):
    b.train[key] = c.train[key]
  b.eval_batch_size = 8
  backbone_s, _ = _epoch_seconds(b, os.path.join(FLAGS.workdir, "head_over_backbone"))
  print("| what | seconds | per unit | ratio |\n|---|---|---|---|")
  if fresh:
    print(f"| extraction, {videos} videos x 16 frames (GoogLeNet, 112 x 112) | {extract_s:.1f} | "
          f"{videos / extract_s:.1f} videos/s | |")
  print(f"| one epoch ({epoch} steps of 8) of the MLP head from the store | {head_s:.2f} | "
        f"{epoch / head_s:.1f} steps/s | 1 |")
  print(f"| one epoch of the same head over the frozen GoogLeNet every step | {backbone_s:.1f} | "
        f"{epoch / backbone_s:.2f} steps/s | {backbone_s / head_s:.0f}x slower |")


if __name__ == "__main__":
  app.run(main)
