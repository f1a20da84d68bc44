"""input_pipeline.clips: a stored record -> one augmented training clip, or the evaluation's views."""

import numpy as np
import pytest

from input_pipeline import augment, clips
from tests.helpers.dataset_trees import jpeg_record


def test_train_clip_applies_one_crop_flip_and_colour_to_all_frames():
  # Every frame identical: any per-frame difference in the output is per-frame augmentation.
  rng = np.random.default_rng(0)
  import cv2

  base = cv2.GaussianBlur(rng.integers(0, 255, (60, 80, 3), dtype=np.uint8), (7, 7), 0)
  rec = jpeg_record([base] * 12)
  spec = clips.ClipSpec(num_frames=8, frame_size=32, crop_scale=(0.3, 0.6), flip=True, brightness=0.3,
                         contrast=0.3)
  outs = [clips.train_clip(rec, spec, np.random.default_rng(s)) for s in range(8)]
  for clip in outs:
    assert clip.shape == (8, 32, 32, 3) and clip.dtype == np.uint8
    assert np.all(clip == clip[:1])
  assert len({o.tobytes() for o in outs}) == 8  # but different clips get different draws


@pytest.mark.parametrize("channels", [1, 3])
def test_train_clip_is_deterministic_given_the_generator_and_fills_a_batch_slot(channels):
  rng = np.random.default_rng(0)
  rec = jpeg_record([rng.integers(0, 256, (40, 52, 3), dtype=np.uint8) for i in range(10)])
  spec = clips.ClipSpec(num_frames=4, frame_size=16, channels=channels, flip=True, brightness=0.2, contrast=0.2)
  a = clips.train_clip(rec, spec, np.random.default_rng(7))
  b = clips.train_clip(rec, spec, np.random.default_rng(7))
  np.testing.assert_array_equal(a, b)
  batch = np.zeros((3, 4, 16, 16, channels), np.uint8)
  clips.train_clip(rec, spec, np.random.default_rng(7), out=batch[1])
  np.testing.assert_array_equal(batch[1], a)
  assert not batch[0].any() and not batch[2].any()


def test_eval_clips_centre_crop_and_grey():
  frames = [np.zeros((40, 60, 3), np.uint8) for _ in range(20)]
  for f in frames:
    f[:, 10:50] = 200  # the centre 40x40 square is bright, the side strips dark
  out = clips.eval_views(jpeg_record(frames), clips.ClipSpec(num_frames=4, frame_size=20, eval_clips=3, channels=1))
  assert out.shape == (3, 4, 20, 20, 1)
  assert out.min() > 150


def test_eval_three_crops_cover_the_long_side_clip_major():
  # frame i has brightness 10*i; the left third of every frame is 0, the right third 255
  frames = []
  for i in range(20):
    f = np.full((40, 80, 3), 10 * i, np.uint8)
    f[:, :20], f[:, 60:] = 0, 255
    frames.append(f)
  spec = clips.ClipSpec(num_frames=4, frame_size=20, eval_clips=2, eval_crops=3, train_sampling="uniform")
  out = clips.eval_views(jpeg_record(frames), spec)
  assert out.shape == (6, 4, 20, 20, 3)
  # order: (clip 0: left, centre, right), (clip 1: left, centre, right)
  left, right = out[0], out[2]
  assert left[..., :5, :].max() == 0 and right[..., -5:, :].min() == 255
  for view in (out[1], out[4]):  # the centre crop sees only the middle: one value per frame (JPEG ringing aside)
    inner = view[:, :, 5:15].astype(int)
    assert all(frame.max() - frame.min() <= 6 for frame in inner), [(f.min(), f.max()) for f in inner]
  assert out[4].mean() > out[1].mean()  # clip 1 samples later, brighter frames
  assert augment.eval_crop_boxes(80, 40, 3) == [(0, 0, 40, 40), (20, 0, 40, 40), (40, 0, 40, 40)]

