"""--mode=analyze on a small real-video tree whose every number is known: counts, sizes, rates, lengths, colour,
motion, a corrupt file, a too-short file and a duplicated file."""

import json
import os
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from input_pipeline.sources import synthetic_motion as sm
from tests.helpers import REPO_ROOT

# class folder -> (videos, width, height, fps, frames, background BGR, square moves?)
TREE = {
    "moving blue": (6, 64, 48, 20.0, 30, (200, 60, 40), True),
    "still red": (3, 80, 60, 10.0, 20, (40, 50, 200), False),
    "ñ green (b&w)": (2, 48, 36, 15.0, 24, (60, 190, 60), False),
}


def _write(path, w, h, fps, n, bgr, moving, seed):
  rng = np.random.default_rng(seed)
  frames = np.empty((n, h, w, 3), np.uint8)
  frames[:] = np.array(bgr, np.uint8)  # OpenCV writes BGR
  frames += rng.integers(0, 8, frames.shape, dtype=np.uint8)
  for i in range(n):
    x = int(i * (w - 14) / (n - 1)) if moving else w // 3
    frames[i, h // 3:h // 3 + 12, x:x + 12] = 255
  sm.write_video(path, frames, fps, "MJPG")


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
  repo_root = str(REPO_ROOT)
  root = tmp_path_factory.mktemp("eda") / "my videos #1"
  for c, (count, w, h, fps, n, bgr, moving) in enumerate(TREE.values()):
    folder = root / list(TREE)[c]
    folder.mkdir(parents=True)
    for v in range(count):
      _write(str(folder / f"clip {v}.avi"), w, h, fps, n, bgr, moving, seed=10 * c + v)
  green = root / "ñ green (b&w)"
  shutil.copy(root / "still red" / "clip 0.avi", green / "copy of red.avi")  # a duplicate, in another class
  (green / "broken (1).avi").write_bytes(b"RIFF" + os.urandom(3000))  # not a video
  _write(str(green / "short!.avi"), 48, 36, 15.0, 5, (60, 190, 60), False, seed=99)  # 5 frames < 8 a clip needs
  workdir = tmp_path_factory.mktemp("eda_run")
  cmd = [sys.executable, "main.py", "--config=configs/csn.py", f"--workdir={workdir}", "--mode=analyze",
         "--config.dataset.name=video_folder", f"--config.dataset.data_dir={root}", "--config.dataset.test_fraction=0.3",
         f"--config.dataset.store_dir={workdir / 'store'}", "--config.dataset.store_short_side=36",
         "--config.dataset.decode_workers=2", "--config.input.num_frames=8"]
  proc = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-3000:]
  out = workdir / "analysis"
  with open(out / "analysis.json") as f:
    result = json.load(f)
  return root, out, result, (out / "analysis.md").read_text()


def test_class_counts_imbalance_and_weights(analysed):
  _, _, r, md = analysed
  c = r["classes"]
  expected = {"moving blue": 6, "still red": 3, "ñ green (b&w)": 3}  # 2 clips + the duplicate; broken/short skipped
  assert c["classes"] == sorted(expected)
  stored_all = {name: sum(c["stored"][s][i] for s in r["splits"]) for i, name in enumerate(c["classes"])}
  assert stored_all == expected
  listed_green = sum(c["listed"][s][c["classes"].index("ñ green (b&w)")] for s in r["splits"])
  assert listed_green == 5
  train = c["stored"]["train"]
  im = c["imbalance"]["train"]
  assert im["largest"]["class"] == "moving blue" and im["largest"]["videos"] == max(train)
  assert im["largest_over_smallest"] == pytest.approx(max(train) / min(train))
  second = sorted(train)[-2]
  assert im["largest_over_second"] == pytest.approx(max(train) / second)
  w = c["balanced_class_weights"]["weights"]
  for i, name in enumerate(c["classes"]):
    assert w[name] == pytest.approx(sum(train) / (3 * train[i]), rel=1e-5)
  assert (f"- train: largest class moving blue: {max(train)} videos, {max(train) / second:.2f}x the next" in md)


def test_durations_rates_and_sizes_come_from_what_was_written(analysed):
  _, _, r, md = analysed
  p = r["properties"]["all"]
  assert (p["width"]["min"], p["width"]["max"]) == (48, 80)
  assert (p["height"]["min"], p["height"]["max"]) == (36, 60)
  assert p["fps"]["min"] == pytest.approx(10) and p["fps"]["max"] == pytest.approx(20)
  assert (p["frames"]["min"], p["frames"]["max"]) == (20, 30)
  assert p["duration_s"]["min"] == pytest.approx(1.5, abs=0.01) and p["duration_s"]["max"] == pytest.approx(2.0, abs=0.01)
  # 6 x 1.5 s, 2 x 1.6 s, 4 x 2.0 s (3 red + the copy): the median of 12 is between the 6th and 7th
  assert p["duration_s"]["median"] == pytest.approx(1.55, abs=0.01)
  assert "- durations: 1.5-2 s, median 1.55 s" in md
  assert sum(len(r["properties"][s]["width"]) > 0 for s in r["splits"]) == len(r["splits"])


def test_colour_and_motion_tell_the_classes_apart(analysed):
  _, _, r, md = analysed
  col = r["colour"]["per_class"]
  red, blue, green = col["still red"]["mean_rgb"], col["moving blue"]["mean_rgb"], col["ñ green (b&w)"]["mean_rgb"]
  assert red[0] > red[2] + 50 and blue[2] > blue[0] + 50 and green[1] > green[0] + 20  # a third of 'green' is the red copy
  m = r["motion"]["per_class"]
  assert m["moving blue"]["median_px"] > 0.2 > m["still red"]["median_px"]
  assert m["moving blue"]["mean_vx"] > 0.1 and abs(m["still red"]["mean_vx"]) < 0.05
  assert "motion (median per-video flow" in md and "fastest moving blue" in md


def test_health_names_every_unusable_and_duplicated_file(analysed):
  root, _, r, md = analysed
  h = r["health"]
  green = root / "ñ green (b&w)"
  assert [i["path"] for i in h["skipped"]["too short"]] == [str(green / "short!.avi")]
  assert [i["path"] for i in h["skipped"]["unreadable"]] == [str(green / "broken (1).avi")]
  assert len(h["duplicates"]) == 1
  assert sorted(f["path"] for f in h["duplicates"][0]["files"]) == sorted(
      [str(green / "copy of red.avi"), str(root / "still red" / "clip 0.avi")])
  assert f"`{green / 'short!.avi'}`" in md and "2 of 14 listed files not usable (1 too short, 1 unreadable)" in md


def test_every_figure_opens_as_an_image(analysed):
  _, out, _, md = analysed
  pngs = sorted(p.name for p in out.glob("*.png"))
  assert pngs == ["class_distribution.png", "flow_direction.png", "flow_magnitude.png", "rgb_histograms.png",
                  "video_properties.png"]
  for name in pngs:
    img = cv2.imread(str(out / name))
    assert img is not None and img.shape[0] > 200 and img.shape[1] > 200, name
    assert f"({name})" in md


def test_duplicates_are_found_by_content_not_name(tmp_path):
  from vidjax.analysis import health

  a, b, c, d = (tmp_path / n for n in ("a.avi", "b c.avi", "same size.avi", "ñ.avi"))
  a.write_bytes(b"x" * 100)
  b.write_bytes(b"x" * 100)
  c.write_bytes(b"y" * 100)  # same size, other content
  d.write_bytes(b"x" * 99)
  groups = health.duplicate_files({"train": [str(a), str(c), str(d)], "test": [str(b), str(tmp_path / "gone.avi")]})
  assert len(groups) == 1 and groups[0]["across_splits"]
  assert {f["path"] for f in groups[0]["files"]} == {str(a), str(b)}
  assert health.duplicate_files({"train": [str(a)], "test": [str(a)]}) == []  # one file listed twice


def test_reason_kinds():
  from vidjax.analysis import health

  assert health.reason_kind("/x/a.avi: no such file") == "missing"
  assert health.reason_kind("/x/a.avi: empty file (0 bytes)") == "empty"
  assert health.reason_kind("/x/a.avi: 3 frames after resampling, fewer than the 8 a clip needs") == "too short"
  assert health.reason_kind("/x/a.avi: OpenCV/FFmpeg cannot open it") == "unreadable"


@pytest.mark.parametrize("source", ["ucf101", "hmdb51"])
def test_the_official_layouts_are_analysed_too(source, tmp_path):
  """The same command on the UCF101 and HMDB51 layouts (their own split lists), in-process."""
  from configs.csn import get_config
  from tests.helpers import dataset_trees
  from vidjax.analysis import dataset_report

  root = tmp_path / source
  getattr(dataset_trees, f"write_{source}")(str(root))
  c = get_config()
  c.dataset.name, c.dataset.data_dir, c.dataset.store_dir = source, str(root), str(tmp_path / "store")
  c.dataset.store_short_side, c.dataset.decode_workers, c.input.num_frames, c.input.flip = 36, 1, 8, True
  paths = dataset_report.analyze(c, str(tmp_path / "run"))
  with open(paths["json"]) as f:
    r = json.load(f)
  stored = {s: sum(v) for s, v in r["classes"]["stored"].items()}
  expected = {"ucf101": {"train": 12, "test": 6}, "hmdb51": {"train": 4, "test": 2}}[source]
  assert stored == expected and not r["health"]["skipped"]
  # write_ucf101 writes clips c01 and c02 of a group from the same seed: 9 pairs of identical files, each pair
  # within one split (a group is never split); write_hmdb51's are all different
  dups = r["health"]["duplicates"]
  assert len(dups) == (9 if source == "ucf101" else 0)
  assert all(len(g["files"]) == 2 and not g["across_splits"] for g in dups)
  w = 48 if source == "ucf101" else 40
  assert r["properties"]["all"]["width"]["min"] == r["properties"]["all"]["width"]["max"] == w
  assert r["properties"]["all"]["fps"]["median"] == pytest.approx(15.0)
  for name in ("class_distribution", "video_properties", "rgb_histograms", "flow_magnitude", "flow_direction"):
    assert cv2.imread(paths[name]) is not None, name
