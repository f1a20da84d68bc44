"""The embedded dataset: layout, split files, determinism, imbalance, and that it tests motion."""

import json
import os

import numpy as np
import pytest

from input_pipeline.sources import synthetic_motion as sm
from input_pipeline.sources import ucf101
from tests.conftest import TINY


def test_layout_and_official_split_files(tiny_motion_root):
  lists = os.path.join(tiny_motion_root, "ucfTrainTestlist")
  assert sorted(os.listdir(lists)) == ["classInd.txt"] + [f"{k}list0{s}.txt" for k in ("test", "train")
                                                           for s in (1, 2, 3)]
  with open(os.path.join(lists, "classInd.txt")) as f:
    assert f.read().splitlines() == [f"{i + 1} {c}" for i, c in enumerate(sm.CLASSES)]
  with open(os.path.join(lists, "trainlist01.txt")) as f:
    first = f.readline().split()
  assert first == ["MoveDown/v_MoveDown_g02_c01.avi", "1"]  # group 1 is held out in split 1
  with open(os.path.join(lists, "testlist01.txt")) as f:
    assert f.readline().strip() == "MoveDown/v_MoveDown_g01_c01.avi"  # test lists carry no label


def test_listing_splits_by_group_and_is_imbalanced(tiny_motion_root):
  listing = ucf101.list_ucf101(tiny_motion_root, 1)
  assert listing.classes == sm.CLASSES
  train_groups = {r.group.split(":")[1] for r in listing.splits["train"]}
  test_groups = {r.group.split(":")[1] for r in listing.splits["test"]}
  assert test_groups == {"g01"} and "g01" not in train_groups
  counts = listing.class_counts("train")
  big = sm.CLASSES.index(TINY.big_class)
  assert counts[big] == TINY.big_factor * counts[(big + 1) % 8]
  assert len(set(counts)) == 2
  assert all(os.path.isfile(r.path) for s in listing.splits.values() for r in s)


def test_videos_vary_in_size_fps_and_length(tiny_motion_root):
  import cv2

  props = set()
  for cls in sm.CLASSES[:4]:
    folder = os.path.join(tiny_motion_root, cls)
    for name in sorted(os.listdir(folder))[:4]:
      cap = cv2.VideoCapture(os.path.join(folder, name))
      props.add((int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FPS)),
                 int(cap.get(cv2.CAP_PROP_FRAME_COUNT))))
      cap.release()
  assert len({p[0] for p in props}) > 1 and len({p[1] for p in props}) > 1 and len({p[2] for p in props}) > 1


def test_rendering_is_deterministic_and_class_changes_only_the_order():
  a, fps_a = sm.render_video(0, sm.CLASSES.index("MoveLeft"), 3, 1, TINY)
  b, fps_b = sm.render_video(0, sm.CLASSES.index("MoveLeft"), 3, 1, TINY)
  np.testing.assert_array_equal(a, b)
  assert fps_a == fps_b


def test_generation_is_idempotent_and_refuses_other_settings(tiny_motion_root):
  before = os.path.getmtime(os.path.join(tiny_motion_root, "SPEC.json"))
  sm.generate(tiny_motion_root, TINY, workers=1)  # reused, not rewritten
  assert os.path.getmtime(os.path.join(tiny_motion_root, "SPEC.json")) == before
  with pytest.raises(FileExistsError, match="num_groups"):
    sm.generate(tiny_motion_root, sm.GenerationSpec(num_groups=8, clips_per_group=2))
  with open(os.path.join(tiny_motion_root, "SPEC.json")) as f:
    assert json.load(f)["num_groups"] == TINY.num_groups


def test_interrupted_generation_leaves_no_half_dataset(tmp_path, monkeypatch):
  calls = {"n": 0}
  real = sm._render_and_write

  def dies_midway(args):
    calls["n"] += 1
    if calls["n"] == 5:
      raise KeyboardInterrupt
    real(args)

  monkeypatch.setattr(sm, "_render_and_write", dies_midway)
  root = str(tmp_path / "sm")
  with pytest.raises(KeyboardInterrupt):
    sm.generate(root, TINY, workers=1)
  assert not os.path.exists(root)  # only the .partial folder exists; the next run starts over
  monkeypatch.setattr(sm, "_render_and_write", real)
  sm.generate(root, TINY, workers=1)
  assert os.path.exists(os.path.join(root, "SPEC.json"))


def test_non_builder_processes_never_write(tmp_path):
  from input_pipeline.sources.listing import NotReadyError

  root = str(tmp_path / "sm")
  with pytest.raises(NotReadyError):
    sm.list_synthetic_motion(root, 1, TINY, build=False)
  assert not os.listdir(tmp_path)  # nothing generated, no .partial folder either
  sm.generate(root, TINY, workers=1)
  assert len(sm.list_synthetic_motion(root, 1, TINY, build=False).splits["test"]) == 20
