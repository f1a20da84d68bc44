"""input_pipeline.sampling: which frames make a clip."""

import numpy as np
import pytest

from input_pipeline import sampling


def test_uniform_is_the_studies_16_evenly_spaced_frames():
  np.testing.assert_array_equal(sampling.uniform(32, 16), np.arange(16) * 2 + 1)
  np.testing.assert_array_equal(sampling.uniform(16, 16), np.arange(16))
  assert list(sampling.uniform(4, 8)) == [0, 0, 1, 1, 2, 2, 3, 3]  # short videos repeat frames


def test_segment_draws_one_frame_per_segment():
  rng = np.random.default_rng(0)
  for n in (16, 17, 50, 301):
    for _ in range(20):
      idx = sampling.segment(n, 16, rng)
      starts = np.arange(16) * n // 16
      ends = np.maximum(np.append(starts[1:], n), starts + 1)
      assert np.all((starts <= idx) & (idx < ends)), (n, idx)


def test_window_and_multi_clip():
  rng = np.random.default_rng(0)
  idx = sampling.window(100, 8, 3, rng)
  assert np.all(np.diff(idx) == 3) and idx[0] >= 0 and idx[-1] < 100
  clips = sampling.multi_clip(100, 8, 4, 3, "window")
  assert clips.shape == (4, 8) and clips[0, 0] == 0 and clips[-1, -1] == 99
  grid = sampling.multi_clip(64, 16, 2, 1, "segment")
  assert grid.shape == (2, 16) and not np.array_equal(grid[0], grid[1])
  with pytest.raises(ValueError, match="unknown sampling"):
    sampling.train_indices(10, 4, "bogus", 1, rng)

