"""Blocks of settings that several configs share: imported, never re-typed."""

import ml_collections


def cpu_motion_input(c: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """The default run's input: 8 grey frames of 48 x 48 from a 56-pixel short side, mild crops. The same clip
  length as the studies' 16 frames at half the cost; at 32 x 32 the spinning tips and size changes of
  synthetic_motion are a few pixels wide (BENCHMARKS.md, the zoo)."""
  c.dataset.store_short_side = 56
  c.input.num_frames = 8
  c.input.frame_size = 48
  c.input.channels = 1
  c.input.crop_scale = (0.8, 1.0)
  return c


def paper_schedule(c: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """The paper-size configs' training length on the studies' 16 x 112 x 112 RGB clips (base_config's input)."""
  c.train.num_steps = 10_000
  c.train.warmup_steps = 500
  c.eval_every_steps = 2000
  c.checkpoint_every_steps = 1000
  return c
