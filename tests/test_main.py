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


# Bad command lines and hostile files: one line naming the file or setting and what to do, before any work.

def _refused(p, rc: int, *says: str) -> str:
  assert p.returncode == rc and "Traceback" not in p.stderr, p.stderr[-3000:]
  last = p.stderr.strip().splitlines()[-1]
  assert last.startswith("main.py: ") and all(s in last for s in says), last
  return last


@pytest.mark.parametrize("mode", ["eval", "predict"])
def test_a_run_whose_config_json_is_not_json_is_named(mode, tmp_path, repo_root):
  from tests.helpers.runs import main

  workdir = tmp_path / "run (copy)"
  workdir.mkdir()
  (workdir / "config.json").write_text('{"model": {"name": "csn", ')
  p = main(f"--workdir={workdir}", f"--mode={mode}", f"--video={tmp_path}", cwd=repo_root)
  _refused(p, 1, f"{workdir / 'config.json'} is not a vidjax run's config", "pass --config=")


@pytest.mark.parametrize("body,says", [
    (None, "config file 'configs/no_such.py' not found"),
    ("def get_config():\n  return {'model': 'csn'}\n", "get_config() returned dict, not a ConfigDict"),
    ("def get_config():\n  return 3\n", "get_config() returned int, not a ConfigDict"),
    ("def get_config():\n  return None\n", "get_config() returned NoneType, not a ConfigDict"),
])
def test_a_config_file_that_gives_no_config_is_one_line(body, says, tmp_path, repo_root):
  from tests.helpers.runs import main

  ref = "configs/no_such.py"
  if body is not None:
    ref = str(tmp_path / "my config.py")
    (tmp_path / "my config.py").write_text(body)
  p = main(f"--config={ref}", f"--workdir={tmp_path / 'run'}", cwd=repo_root)
  _refused(p, 2, f"--config={ref}", says)
  assert "--mode" not in p.stderr  # not absl's help


def test_a_workdir_or_output_that_cannot_be_written_is_refused_before_any_work(tmp_path, repo_root):
  from tests.helpers.runs import main

  a_file = tmp_path / "notes.txt"
  a_file.write_text("mine")
  cache = tmp_path / "cache"
  env = {**os.environ, "VIDJAX_CACHE_DIR": str(cache)}
  for workdir, says in ((a_file, "is a file, not a folder"), (a_file / "run", "cannot be written (Not a directory)")):
    p = main("--config=configs/csn.py", f"--workdir={workdir}", cwd=repo_root, env=env)
    _refused(p, 1, f"--workdir={workdir} {says}")
  assert not cache.exists() and a_file.read_text() == "mine"  # nothing generated, nothing overwritten
  # predict checks --output before it loads the run or scores a video
  for output, says in ((a_file / "top5.json", "--output's folder="), (tmp_path, "is a folder"),
                       (tmp_path / "top5.txt", "name a .json or .csv file")):
    p = main(f"--workdir={tmp_path / 'no run'}", "--mode=predict", f"--video={a_file}", f"--output={output}",
             cwd=repo_root)
    _refused(p, 1, says)


def test_nan_in_a_feature_store_names_the_shard(tmp_path, repo_root):
  import numpy as np

  from input_pipeline import feature_store
  from tests.helpers.runs import main

  store = str(tmp_path / "store #1")
  feature_store.write_index(store, {"format": 1, "backbone": {"name": "googlenet"}, "frames": 2, "dim": 4,
                                    "classes": ["a", "b"], "source": {},
                                    "splits": {s: {"videos": 8, "shard_size": 8} for s in ("train", "test")}})
  for split in ("train", "test"):
    features = np.random.default_rng(0).normal(size=(8, 2, 4)).astype(np.float32)
    if split == "train":
      features[5, 1, 2] = np.nan
    feature_store.write_shard(store, split, 0, features, [0, 1] * 4, [f"{split}_{i}.avi" for i in range(8)])
  p = main("--config=configs/frozen_mlp.py", f"--workdir={tmp_path / 'run'}", "--config.dataset.name=features",
           f"--config.dataset.data_dir={store}", "--config.train.num_steps=4", "--config.eval_every_steps=0",
           cwd=repo_root)
  _refused(p, 1, f"{store}/train/00000.npy: the features of 'train_5.avi' (row 5) hold NaN or infinite values",
           "rerun --mode=extract")
