"""`python main.py ... --config.dataset.name=ucf101|hmdb51|video_folder --config.dataset.data_dir=DIR` runs
end to end on trees in the official layouts, written here with real encoded videos."""

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import dataset_trees as trees

COMMON = ["--config=configs/csn.py", "--config.input.num_frames=8", "--config.input.frame_size=24",
          "--config.input.channels=3", "--config.input.flip=True", "--config.input.brightness=0.1",
          "--config.dataset.store_short_side=28", "--config.dataset.decode_workers=2",
          "--config.train.batch_size=8", "--config.eval_batch_size=8", "--config.train.num_steps=4",
          "--config.train.warmup_steps=1", "--config.log_every_steps=2", "--config.checkpoint_every_steps=4"]


@pytest.mark.slow
@pytest.mark.parametrize("name,writer,extra", [
    ("ucf101", trees.write_ucf101, ["--config.dataset.val_fraction=0.3", "--config.dataset.eval_split=val"]),
    ("hmdb51", trees.write_hmdb51, []),
    ("video_folder", trees.write_video_folder, ["--config.dataset.test_fraction=0.25"]),
])
def test_main_runs_on_dataset_tree(name, writer, extra, tmp_path, repo_root):
  root = tmp_path / f"{name} data (copy) #1"
  writer(str(root))
  workdir = tmp_path / "run"
  cmd = [sys.executable, "main.py", *COMMON, f"--workdir={workdir}", f"--config.dataset.name={name}",
         f"--config.dataset.data_dir={root}", f"--config.dataset.store_dir={tmp_path / 'store'}", *extra]
  out = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True, timeout=300)
  assert out.returncode == 0, out.stderr[-4000:]
  assert "Done in" in out.stderr
  split = "val" if name == "ucf101" else "test"
  with open(workdir / "eval" / f"{split}_1x1_step4_metrics.json") as f:
    report = json.load(f)
  assert report["split"] == split and report["num_videos"] > 0
  if name == "video_folder":  # the three broken files were skipped, named, and counted
    assert "were skipped as unreadable" in out.stderr
    assert "zero.avi" in out.stderr and "not a video.avi" in out.stderr and "short.mp4" in out.stderr
  assert os.path.isdir(workdir / "checkpoints" / "4")
