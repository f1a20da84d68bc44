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


def test_rendering_is_deterministic():
  a, fps_a = sm.render_video(0, sm.CLASSES.index("RotateCW"), 3, 1, TINY)
  b, fps_b = sm.render_video(0, sm.CLASSES.index("RotateCW"), 3, 1, TINY)
  np.testing.assert_array_equal(a, b)
  assert fps_a == fps_b


def test_classes_are_translation_rotation_and_zoom_each_way():
  assert sm.CLASSES == ("MoveDown", "MoveLeft", "MoveRight", "MoveUp", "RotateCCW", "RotateCW", "ZoomIn", "ZoomOut")
  assert {sm.MOTIONS[c] for c in sm.CLASSES} == {(a, d) for a in sm.AXES for d in (-1, 1)}


def _along(plan: sm.Plan, k: int) -> np.ndarray:
  """Object k's coordinate along its own axis."""
  return {"x": plan.x, "y": plan.y, "angle": plan.angle, "scale": np.log(plan.radius)}[sm.AXES[k]][k]


@pytest.mark.parametrize("cls", sm.CLASSES)
def test_the_actor_moves_one_way_and_every_distractor_comes_back(cls):
  axis, direction = sm.MOTIONS[cls]
  for clip in range(1, 6):
    plan = sm.plan_video(0, sm.CLASSES.index(cls), 2, clip, sm.GenerationSpec())
    for k, ax in enumerate(sm.AXES):
      path = _along(plan, k)
      others = [v[k] for name, v in (("x", plan.x), ("y", plan.y), ("angle", plan.angle), ("scale", plan.radius))
                if name != ax]
      assert all(np.ptp(v) == 0 for v in others)  # each object moves along its own axis only
      steps = np.diff(path) * (direction if ax == axis else 1)
      if ax == axis:
        assert (steps >= 0).all() and steps.sum() > 0.2, (cls, ax)  # steady, one way, the whole range
      else:
        assert abs(path[-1] - path[0]) < 1e-9 and np.ptp(path) > 0.2, (cls, ax)  # back and forth: net zero


def _flow_about(frames: np.ndarray, plan: sm.Plan, k: int) -> tuple[float, float, float, float]:
  """Mean optical flow (vx, vy), curl and divergence in a window round object k, from the pixels."""
  import cv2

  side = min(plan.size)
  ox, oy = (plan.size[0] - side) / 2, (plan.size[1] - side) / 2
  grey = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in frames]
  total = np.zeros(4)
  for i in range(len(grey) - 1):
    flow = cv2.calcOpticalFlowFarneback(grey[i], grey[i + 1], None, 0.5, 3, 9, 3, 5, 1.1, 0)
    cx, cy = ox + plan.x[k, i] * side, oy + plan.y[k, i] * side
    r = int(0.2 * side)
    y0, x0 = int(cy) - r, int(cx) - r
    win = flow[max(y0, 0):int(cy) + r, max(x0, 0):int(cx) + r]
    yy, xx = np.mgrid[0:win.shape[0], 0:win.shape[1]]
    rx, ry = xx + max(x0, 0) - cx, yy + max(y0, 0) - cy
    vx, vy = win[..., 0], win[..., 1]
    total += [vx.mean(), vy.mean(), (rx * vy - ry * vx).mean(), (rx * vx + ry * vy).mean()]
  return tuple(total)


@pytest.mark.parametrize("cls", sm.CLASSES)
def test_the_pixels_move_as_the_class_says(cls):
  """Farneback flow round the actor: translation, spin (clockwise on screen) and zoom as named."""
  label = sm.CLASSES.index(cls)
  plan = sm.plan_video(0, label, 1, 1, sm.GenerationSpec())
  frames, _ = sm.render_video(0, label, 1, 1, sm.GenerationSpec())
  axis, direction = sm.MOTIONS[cls]
  vx, vy, curl, div = _flow_about(frames, plan, sm.AXES.index(axis))
  measured = {"x": vx, "y": vy, "angle": curl, "scale": div}[axis]
  assert measured * direction > 0, (cls, vx, vy, curl, div)


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
