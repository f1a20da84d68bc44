"""Which frames a clip takes, and that augmentation treats every frame of a clip alike."""

import numpy as np
import pytest

from input_pipeline import augment, loader, sampling


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


def _record(frames):
  from input_pipeline import decode

  blobs = [decode.encode_jpeg(f, 95) for f in frames]
  return {"jpeg": np.frombuffer(b"".join(blobs), np.uint8),
          "offsets": np.cumsum([0] + [len(b) for b in blobs]).astype(np.int64), "label": 3}


def test_train_clip_applies_one_crop_flip_and_colour_to_all_frames():
  # Every frame identical: any per-frame difference in the output is per-frame augmentation.
  rng = np.random.default_rng(0)
  import cv2

  base = cv2.GaussianBlur(rng.integers(0, 255, (60, 80, 3), dtype=np.uint8), (7, 7), 0)
  rec = _record([base] * 12)
  spec = loader.ClipSpec(num_frames=8, frame_size=32, crop_scale=(0.3, 0.6), flip=True, brightness=0.3,
                         contrast=0.3)
  outs = [loader.train_clip(rec, spec, np.random.default_rng(s)) for s in range(8)]
  for clip in outs:
    assert clip.shape == (8, 32, 32, 3) and clip.dtype == np.uint8
    assert np.all(clip == clip[:1])
  assert len({o.tobytes() for o in outs}) == 8  # but different clips get different draws


@pytest.mark.parametrize("channels", [1, 3])
def test_train_clip_is_deterministic_given_the_generator_and_fills_a_batch_slot(channels):
  rng = np.random.default_rng(0)
  rec = _record([rng.integers(0, 256, (40, 52, 3), dtype=np.uint8) for i in range(10)])
  spec = loader.ClipSpec(num_frames=4, frame_size=16, channels=channels, flip=True, brightness=0.2, contrast=0.2)
  a = loader.train_clip(rec, spec, np.random.default_rng(7))
  b = loader.train_clip(rec, spec, np.random.default_rng(7))
  np.testing.assert_array_equal(a, b)
  batch = np.zeros((3, 4, 16, 16, channels), np.uint8)
  loader.train_clip(rec, spec, np.random.default_rng(7), out=batch[1])
  np.testing.assert_array_equal(batch[1], a)
  assert not batch[0].any() and not batch[2].any()


def test_eval_clips_centre_crop_and_grey():
  frames = [np.zeros((40, 60, 3), np.uint8) for _ in range(20)]
  for f in frames:
    f[:, 10:50] = 200  # the centre 40x40 square is bright, the side strips dark
  out = loader.EvalClips(loader.ClipSpec(num_frames=4, frame_size=20, eval_clips=3, channels=1)).map(
      (_record(frames), True))
  assert out["video"].shape == (3, 4, 20, 20, 1) and bool(out["mask"])
  assert out["video"].min() > 150


def test_eval_three_crops_cover_the_long_side_clip_major():
  # frame i has brightness 10*i; the left third of every frame is 0, the right third 255
  frames = []
  for i in range(20):
    f = np.full((40, 80, 3), 10 * i, np.uint8)
    f[:, :20], f[:, 60:] = 0, 255
    frames.append(f)
  spec = loader.ClipSpec(num_frames=4, frame_size=20, eval_clips=2, eval_crops=3, train_sampling="uniform")
  out = loader.EvalClips(spec).map((_record(frames), True))["video"]
  assert out.shape == (6, 4, 20, 20, 3)
  # order: (clip 0: left, centre, right), (clip 1: left, centre, right)
  left, right = out[0], out[2]
  assert left[..., :5, :].max() == 0 and right[..., -5:, :].min() == 255
  for view in (out[1], out[4]):  # the centre crop sees only the middle: one value per frame (JPEG ringing aside)
    inner = view[:, :, 5:15].astype(int)
    assert all(frame.max() - frame.min() <= 6 for frame in inner), [(f.min(), f.max()) for f in inner]
  assert out[4].mean() > out[1].mean()  # clip 1 samples later, brighter frames
  assert augment.eval_crop_boxes(80, 40, 3) == [(0, 0, 40, 40), (20, 0, 40, 40), (40, 0, 40, 40)]


def test_random_crop_box_stays_inside():
  rng = np.random.default_rng(1)
  for _ in range(200):
    y, x, h, w = augment.random_crop_box(48, 64, (0.2, 1.0), (0.75, 1.333), rng)
    assert 0 <= y and y + h <= 48 and 0 <= x and x + w <= 64 and h > 0 and w > 0


class _Source:
  """Records whose frames encode their own index, so batches can be traced back to records."""

  def __init__(self, n):
    self.records = [_record([np.full((20, 20, 3), 10 * i, np.uint8)] * 6) | {"label": i} for i in range(n)]

  def __len__(self):
    return len(self.records)

  def __getitem__(self, i):
    return self.records[i]


def test_hosts_read_disjoint_parts_of_the_same_global_batches():
  source = _Source(12)
  spec = loader.ClipSpec(num_frames=4, frame_size=16, crop_scale=(0.5, 1.0), brightness=0.2)
  one = loader.train_batches(source, spec, seed=3, global_batch=6, threads=1)
  two = [loader.train_batches(source, spec, seed=3, global_batch=6, process_index=h, process_count=2, threads=1)
         for h in range(2)]
  for _ in range(5):  # 2.5 epochs: reshuffled each epoch
    full = next(one)
    parts = [next(it) for it in two]
    assert not set(parts[0]["label"]) & set(parts[1]["label"])
    # Host 0 holds the first half of the global batch, host 1 the second: same clips, same augmentation,
    # same positions (position-dependent randomness such as dropout then matches too).
    np.testing.assert_array_equal(np.concatenate([p["video"] for p in parts]), full["video"])
    np.testing.assert_array_equal(np.concatenate([p["label"] for p in parts]), full["label"])


def test_each_epoch_visits_every_record_once_in_a_new_order():
  source = _Source(12)
  spec = loader.ClipSpec(num_frames=4, frame_size=16)
  run = loader.train_batches(source, spec, seed=5, global_batch=4, threads=2)
  epochs = [np.concatenate([next(run)["label"] for _ in range(3)]) for _ in range(3)]
  for labels in epochs:
    assert sorted(labels) == list(range(12))
  assert not np.array_equal(epochs[0], epochs[1]) and not np.array_equal(epochs[1], epochs[2])
  other_seed = loader.train_batches(source, spec, seed=6, global_batch=4, threads=1)
  assert not np.array_equal(np.concatenate([next(other_seed)["label"] for _ in range(3)]), epochs[0])


@pytest.mark.parametrize("channels", [1, 3])
def test_flip_mirrors_every_frame(channels):
  clip = np.random.default_rng(0).integers(0, 256, (3, 5, 7, channels), dtype=np.uint8)
  np.testing.assert_array_equal(augment.flip_horizontal(clip), clip[:, :, ::-1])


def test_resuming_at_a_step_replays_the_same_batches():
  source = _Source(10)
  spec = loader.ClipSpec(num_frames=4, frame_size=16, crop_scale=(0.5, 1.0))
  run = loader.train_batches(source, spec, seed=0, global_batch=4, threads=2)
  batches = [next(run) for _ in range(7)]
  resumed = loader.train_batches(source, spec, seed=0, global_batch=4, start_step=4, threads=2)
  for b in batches[4:]:
    r = next(resumed)
    np.testing.assert_array_equal(r["video"], b["video"])
    np.testing.assert_array_equal(r["label"], b["label"])


def test_eval_counts_every_video_once_across_hosts():
  source = _Source(11)
  spec = loader.ClipSpec(num_frames=4, frame_size=16)
  seen = []
  for h in range(2):
    for batch in loader.eval_batches(source, spec, global_batch=4, process_index=h, process_count=2, threads=1):
      seen += list(batch["label"][batch["mask"]])
  assert sorted(seen) == list(range(11))


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
