"""input_pipeline.loader: batches as a pure function of (seed, step), shared out over hosts."""

import numpy as np

from input_pipeline import loader, records
from tests.helpers.dataset_trees import jpeg_record


class _Source(records.ClipRecords):
  """A frame store's split whose frames encode their own record's index, so batches can be traced back."""

  def __init__(self, n):
    self.records = [jpeg_record([np.full((20, 20, 3), 10 * i, np.uint8)] * 6) | {"label": i} for i in range(n)]

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

