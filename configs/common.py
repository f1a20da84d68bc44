"""Settings shared by the paper-size configs: the studies' 16 x 112 x 112 RGB clips."""

import ml_collections


def study_input(c: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """16 frames, 112 x 112 RGB crops from a 128-pixel short side (the UCF101 study's input).

  Flip stays off because the default dataset (synthetic_motion) has left/right classes;
  on UCF101 or HMDB51 add --config.input.flip=True.
  """
  c.dataset.store_short_side = 128
  c.input.num_frames = 16
  c.input.frame_size = 112
  c.input.channels = 3
  c.input.train_sampling = "segment"
  c.input.flip = False
  c.train.batch_size = 32
  c.train.num_steps = 10_000
  c.train.warmup_steps = 500
  c.eval_every_steps = 2000
  c.checkpoint_every_steps = 1000
  return c
