"""input_pipeline.augment: one crop / flip / colour draw applied to every frame."""

import numpy as np
import pytest

from input_pipeline import augment


def test_random_crop_box_stays_inside():
  rng = np.random.default_rng(1)
  for _ in range(200):
    y, x, h, w = augment.random_crop_box(48, 64, (0.2, 1.0), (0.75, 1.333), rng)
    assert 0 <= y and y + h <= 48 and 0 <= x and x + w <= 64 and h > 0 and w > 0


@pytest.mark.parametrize("channels", [1, 3])
def test_flip_mirrors_every_frame(channels):
  clip = np.random.default_rng(0).integers(0, 256, (3, 5, 7, channels), dtype=np.uint8)
  np.testing.assert_array_equal(augment.flip_horizontal(clip), clip[:, :, ::-1])


def test_photometric_is_one_clipped_affine_map_of_the_clip():
  clip = np.random.default_rng(1).integers(0, 256, (4, 10, 12, 3), dtype=np.uint8)
  out = augment.photometric(clip, 0.3, 0.5, np.random.default_rng(7))
  draw = np.random.default_rng(7)
  b, c = draw.uniform(-0.3, 0.3) * 255.0, draw.uniform(0.5, 1.5)
  mean = clip[::4, ::4, ::4].mean()
  want = np.clip(np.round(c * (clip - mean) + mean + b), 0, 255)
  assert out.shape == clip.shape and out.dtype == np.uint8
  assert np.abs(out.astype(int) - want).max() <= 1  # cv2 rounds in float32
  assert (out == 0).any() and (out == 255).any()  # saturates rather than wrapping
  assert augment.photometric(clip, 0.0, 0.0, draw) is clip
  slot = np.zeros_like(clip)
  assert augment.photometric(clip, 0.0, 0.0, draw, out=slot) is slot and np.array_equal(slot, clip)


@pytest.mark.parametrize("box, size, interp", [((3, 10, 100, 90), 112, "INTER_LINEAR"), ((0, 0, 128, 128), 40, "INTER_AREA")])
def test_crop_resize_matches_resizing_each_cropped_frame(box, size, interp):
  import cv2

  frames = [np.random.default_rng(i).integers(0, 256, (128, 171, 3), dtype=np.uint8) for i in range(3)]
  y, x, ch, cw = box
  want = np.stack([cv2.resize(f[y:y + ch, x:x + cw], (size, size), interpolation=getattr(cv2, interp))
                   for f in frames])
  np.testing.assert_array_equal(augment.crop_resize(frames, box, size), want)

