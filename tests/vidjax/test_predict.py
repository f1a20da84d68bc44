"""vidjax.predict: a trained run classifies files with its dataset and store gone, as eval scored them."""


import json
import os
import shutil

import numpy as np
import pytest

from input_pipeline import decode
from tests.helpers.dataset_trees import write_camera_mp4, write_clip
from tests.helpers.runs import main, read_predictions


@pytest.mark.slow
def test_predict_with_dataset_and_store_deleted_matches_eval_per_video(tiny_config, tmp_path, repo_root):
  """Train on a test-written video folder, evaluate over 2 clips x 3 crops, delete data and store, predict."""
  data = tmp_path / "videos"
  for label, cls in enumerate(("left", "right", "still")):
    os.makedirs(data / cls)
    for i in range(6):
      write_clip(str(data / cls / f"{cls}_{i}.avi"), n=20, w=40, h=30, seed=10 * label + i)
  c = tiny_config
  c.dataset.name, c.dataset.data_dir, c.dataset.test_fraction = "video_folder", str(data), 0.34
  c.input.eval_clips, c.input.eval_crops = 2, 3
  workdir = tmp_path / "run"
  env = {**os.environ, "PYTHONPATH": str(repo_root)}
  from vidjax import train

  result = train.train_and_evaluate(c, str(workdir))
  per_video = read_predictions(result["paths"]["videos"])
  assert result["views_per_video"] == 6 and len(per_video) == 6

  source = sorted(per_video)[0]
  odd = tmp_path / "odd name #&()! ü"
  os.makedirs(odd)
  shutil.copy(source, odd / "clip 1.avi")
  (odd / "notes.txt").write_text("not a video")  # not a video extension: not picked up
  (odd / "broken.mp4").write_text("not a video either")  # picked up, unreadable, reported, the rest go on
  os.makedirs(odd / "sub")
  write_camera_mp4(str(odd / "sub" / "phone.mp4"), n=30, w=64, h=48)
  assert len(decode.read_video(str(odd / "sub" / "phone.mp4")).frames) == 30  # H.264 + B-frames + audio, read whole
  shutil.rmtree(data)
  shutil.rmtree(c.dataset.store_dir)

  out = tmp_path / "out" / "pred.json"
  p = main(f"--workdir={workdir}", "--mode=predict", f"--video={odd}", f"--output={out}", cwd=repo_root, env=env)
  assert p.returncode == 0, p.stderr[-3000:]
  assert "Cannot read" in p.stderr and "broken.mp4" in p.stderr
  assert "2 video(s) scored over 2 clip(s) x 3 crop(s)" in p.stdout and "1 could not be read" in p.stdout
  with open(out) as f:
    pred, phone = json.load(f)
  assert pred["video"] == str(odd / "clip 1.avi") and phone["video"] == str(odd / "sub" / "phone.mp4")
  assert len(phone["top5"]) == 3 and sum(t["probability"] for t in phone["top5"]) == pytest.approx(1.0, abs=1e-5)
  got = [(t["class"], t["probability"]) for t in pred["top5"]]
  want = per_video[source]
  assert [g[0] for g in got] == [w[0] for w in want[:len(got)]]
  np.testing.assert_allclose([g[1] for g in got], [w[1] for w in want[:len(got)]], atol=2e-6)

  # nothing readable: one line and a non-zero exit
  bad = main(f"--workdir={workdir}", "--mode=predict", f"--video={odd / 'broken.mp4'}", cwd=repo_root, env=env)
  assert bad.returncode == 1 and bad.stderr.strip().splitlines()[-1].startswith("main.py: none of the 1 video(s)")

  # the model's table from the workdir alone, every tensor listed
  s = main(f"--workdir={workdir}", "--mode=summary", "--tensors", cwd=repo_root, env=env)
  assert s.returncode == 0, s.stderr[-2000:]
  assert "csn (3 classes)" in s.stdout and "head.kernel" in s.stdout and "Total " in s.stdout

