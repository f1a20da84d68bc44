"""input_pipeline.store: a listing decoded once into a frame store; unreadable files skipped and listed."""

import glob
import os
import shutil

import numpy as np
import pytest

from input_pipeline import decode, store
from input_pipeline.sources.listing import VideoListing, VideoRecord
from tests.helpers.dataset_trees import ODD_NAME, write_clip, write_ramp


def test_store_skips_and_reports_corrupt_files(tmp_path):
  root = tmp_path / "videos"
  (root / "a").mkdir(parents=True)
  (root / "b").mkdir()
  good = []
  for i in range(3):
    for cls in ("a", "b"):
      p = root / cls / f"{i} {ODD_NAME}"
      write_ramp(p, n=18 + i)
      good.append((str(p), 0 if cls == "a" else 1))
  (root / "a" / "zero.avi").write_bytes(b"")
  (root / "b" / "text.avi").write_text("not a video")
  write_ramp(root / "b" / "short.avi", n=5)
  bad = [str(root / "a" / "zero.avi"), str(root / "b" / "text.avi"), str(root / "b" / "short.avi")]
  train = tuple(VideoRecord(p, lab) for p, lab in good[:4]) + tuple(VideoRecord(p, 1) for p in bad)
  test = tuple(VideoRecord(p, lab) for p, lab in good[4:])
  listing = VideoListing("folder", str(root), ("a", "b"), {"train": train, "test": test})
  spec = store.StoreSpec(short_side=16, min_frames=8, workers=1)

  data = store.open_store(listing, spec, str(tmp_path / "store"))
  assert len(data.sources["train"]) == 4 and len(data.sources["test"]) == 2
  assert sorted(s["path"] for s in data.skipped["train"]) == sorted(bad)
  assert any("fewer than the 8" in s["reason"] for s in data.skipped["train"])
  assert data.class_counts["train"] == [2, 2]
  rec = data.sources["train"][0]
  n = len(rec["offsets"]) - 1
  frame = decode.decode_jpeg(rec["jpeg"][rec["offsets"][0]:rec["offsets"][1]])
  assert frame.shape == (16, 21, 3) and n >= 18
  assert data.examples["train"][0]["path"].decode().endswith(ODD_NAME)
  # The loader's lean view of each record agrees with tfds's full parse.
  for split in ("train", "test"):
    for i in range(len(data.sources[split])):
      lean, full = data.sources[split][i], data.examples[split][i]
      assert bytes(lean["jpeg"]) == full["jpeg"] and lean["label"] == full["label"]
      np.testing.assert_array_equal(lean["offsets"], full["offsets"])

  # Reopening reuses the store: the source files are no longer needed.
  shutil.rmtree(root)
  again = store.open_store(listing, spec, str(tmp_path / "store"))
  assert len(again.sources["train"]) == 4 and again.path == data.path


def test_a_build_killed_midway_leaves_nothing_behind(tmp_path, caplog):
  """tfds builds into incomplete.XXXXXX_<version>/; a kill -9 leaves it. The next build removes it, under a lock."""
  root = tmp_path / "videos"
  for cls in ("a", "b"):
    (root / cls).mkdir(parents=True)
    for i in range(2):
      write_ramp(root / cls / f"{i}.avi")
  recs = tuple(VideoRecord(str(root / c / f"{i}.avi"), j) for j, c in enumerate("ab") for i in range(2))
  listing = VideoListing("folder", str(root), ("a", "b"), {"train": recs})
  spec = store.StoreSpec(short_side=16, min_frames=8, workers=1)
  built = store.open_store(listing, spec, str(tmp_path / "store"))
  version_dir = built.path.rstrip("/")
  config_dir, version = os.path.split(version_dir)
  shutil.rmtree(version_dir)  # as if the first build had been killed before tfds renamed its folder into place
  stale = os.path.join(config_dir, f"incomplete.K1LLED_{version}")
  os.makedirs(os.path.join(stale, "junk"))
  again = store.open_store(listing, spec, str(tmp_path / "store"))
  assert len(again.sources["train"]) == 4
  assert not os.path.exists(stale) and "left by a store build that did not finish" in caplog.text
  assert sorted(e for e in os.listdir(config_dir) if not e.startswith(".")) == sorted(["build.lock", version])


def test_store_with_no_decodable_video_says_so(tmp_path):
  (tmp_path / "x.avi").write_bytes(b"")
  listing = VideoListing("broken", str(tmp_path), ("a",), {"train": (VideoRecord(str(tmp_path / "x.avi"), 0),)})
  with pytest.raises(ValueError, match="no video of the train split could be decoded"):
    store.open_store(listing, store.StoreSpec(workers=1), str(tmp_path / "store"))


def test_parallel_decoding_matches_serial(tiny_motion_root, tmp_path):
  from input_pipeline.sources import ucf101

  listing = ucf101.list_ucf101(tiny_motion_root, 1)
  small = VideoListing(listing.name, listing.root, listing.classes,
                       {"test": listing.splits["test"][:10]})
  a = store.open_store(small, store.StoreSpec(short_side=24, workers=1), str(tmp_path / "s1"))
  b = store.open_store(small, store.StoreSpec(short_side=24, workers=2), str(tmp_path / "s2"))
  for i in range(10):
    np.testing.assert_array_equal(a.sources["test"][i]["jpeg"], b.sources["test"][i]["jpeg"])


def test_store_not_built_yet_is_not_ready(tmp_path):
  from input_pipeline.sources.listing import NotReadyError

  write_ramp(tmp_path / "a.avi")
  listing = VideoListing("x", str(tmp_path), ("a",), {"train": (VideoRecord(str(tmp_path / "a.avi"), 0),)})
  with pytest.raises(NotReadyError, match="process 0 builds it"):
    store.open_store(listing, store.StoreSpec(workers=1, min_frames=4), str(tmp_path / "store"), build=False)


def _folder_config(tiny_config, root, tmp_path):
  for label, cls in enumerate(("a", "b")):
    for i in range(3):
      write_clip(str(root / cls / f"{cls}{i}.avi"), n=20, seed=10 * label + i)
  c = tiny_config
  c.dataset.name, c.dataset.data_dir, c.dataset.test_fraction = "video_folder", str(root), 0.34
  c.dataset.store_dir = str(tmp_path / "store")
  return c


def test_a_video_replaced_in_place_is_decoded_again(tiny_config, tmp_path):
  import input_pipeline

  c = _folder_config(tiny_config, tmp_path / "videos", tmp_path)
  before = input_pipeline.open_dataset(c)
  frames_before = {p: len(before.sources[s][i]["offsets"]) - 1 for s in ("train", "test")
                   for i, p in enumerate(before.paths(s))}
  target = str(tmp_path / "videos" / "a" / "a0.avi")
  write_clip(target, n=30, seed=99)  # same path, new content and length
  after = input_pipeline.open_dataset(c)
  frames_after = {p: len(after.sources[s][i]["offsets"]) - 1 for s in ("train", "test")
                  for i, p in enumerate(after.paths(s))}
  assert frames_before[target] == 20 and frames_after[target] == 30


def test_a_corrupted_store_file_says_to_rebuild(tiny_config, tmp_path):
  import input_pipeline
  from input_pipeline import records

  c = _folder_config(tiny_config, tmp_path / "videos", tmp_path)
  data = input_pipeline.open_dataset(c)
  [shard] = glob.glob(os.path.join(glob.escape(data.path), "*-train.array_record-*"))
  with open(shard, "r+b") as f:
    f.seek(os.path.getsize(shard) // 3)
    f.write(b"\0" * (os.path.getsize(shard) // 3))
  data = input_pipeline.open_dataset(c)  # the same store, reopened
  with pytest.raises(records.CorruptRecordError, match=r"record \d+ cannot be read \(RuntimeError: Corrupted "
                                                       r"Riegeli.*\); delete this store folder and rerun to rebuild"):
    for i in range(len(data.sources["train"])):
      data.sources["train"][i]

