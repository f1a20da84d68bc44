"""vidjax.run: a run's start refuses what cannot work and keeps nothing of a failed start."""

import glob
import os
import subprocess
import sys

import pytest

from tests.helpers.dataset_trees import write_clip
from vidjax import checkpointing, evaluate, train
from vidjax import config as config_lib
from vidjax import run as run_lib


@pytest.mark.slow
def test_failed_start_damaged_checkpoint_changed_split_settings_and_path_spelling(tiny_config, tmp_path, monkeypatch,
                                                                                   repo_root):
  workdir = tmp_path / "run"
  good_dir = tiny_config.dataset.data_dir
  # 1. A first start that fails (no videos where data_dir points) leaves nothing that refuses the corrected command.
  tiny_config.dataset.name, tiny_config.dataset.data_dir = "video_folder", str(tmp_path / "empty")
  os.makedirs(tmp_path / "empty")
  with pytest.raises(ValueError, match=r"No videos .* in class folders under .*empty"):
    train.train_and_evaluate(tiny_config, str(workdir))
  assert not (workdir / "config.json").exists()
  tiny_config.dataset.name, tiny_config.dataset.data_dir = "synthetic_motion", good_dir
  assert train.train_and_evaluate(tiny_config, str(workdir))["step"] == 6

  # 2. The same data_dir spelt relative and with a trailing '/' is the same run.
  monkeypatch.chdir(os.path.dirname(good_dir))
  tiny_config.dataset.data_dir = os.path.basename(good_dir) + "/"
  assert evaluate.evaluate_checkpoint(tiny_config, str(workdir))["step"] == 6

  # 3. Settings that change what "test" means are refused before any work, naming the setting and both values.
  tiny_config.dataset.split_seed = 7
  with pytest.raises(ValueError, match=r"different config.dataset.split_seed: the run's is 0, yours is 7"):
    evaluate.evaluate_checkpoint(tiny_config, str(workdir))
  tiny_config.dataset.split_seed = 0

  # 4. A damaged newest checkpoint: eval says so and uses the newest intact one; training resumes from it,
  #    sets the damaged one aside and trains the lost steps again.
  data_files = [p for p in glob.glob(str(workdir / "checkpoints" / "6" / "state" / "**" / "d" / "*"), recursive=True)
                if os.path.isfile(p)]
  assert data_files
  for path in data_files:  # every array-data file of the newest checkpoint cut in half
    with open(path, "r+b") as f:
      f.truncate(os.path.getsize(path) // 2)
  assert evaluate.evaluate_checkpoint(tiny_config, str(workdir))["step"] == 3
  # as a user runs it: one line about the damaged checkpoint, not orbax's ~900 lines of closed-event-loop tracebacks
  p = subprocess.run([sys.executable, "main.py", "--mode=eval", f"--workdir={workdir}"], cwd=repo_root,
                     capture_output=True, text=True, timeout=300)
  assert p.returncode == 0, p.stderr[-3000:]
  assert "checkpoints/6 cannot be restored" in p.stderr and "Event loop is closed" not in p.stderr, p.stderr[-3000:]
  assert train.train_and_evaluate(tiny_config, str(workdir))["step"] == 6
  assert sorted(os.listdir(workdir / "checkpoints")) == ["3", "6", "6.unreadable"]
  assert evaluate.evaluate_checkpoint(tiny_config, str(workdir))["step"] == 6

  # 5. A damaged run record (meta) in the newest checkpoint: one line naming it, and the newest readable one is used.
  meta_files = glob.glob(str(workdir / "checkpoints" / "6" / "meta" / "*"))
  assert meta_files
  for path in meta_files:
    with open(path, "w") as f:
      f.write('{"step": 6, "identi')
  ckpt = checkpointing.Checkpointer(str(workdir), tiny_config.max_checkpoints_to_keep)
  with pytest.raises(ValueError, match=r"checkpoints/6: its run record \(meta\) cannot be read \(.*\); the checkpoint is "
                                       r"damaged$"):
    ckpt.read_meta(6)
  assert ckpt.newest_meta()[0] == 3
  assert run_lib.saved_identity(ckpt)["classes"] == list(run_lib.saved_identity(ckpt, 3)["classes"])
  assert evaluate.evaluate_checkpoint(tiny_config, str(workdir))["step"] == 3


def test_a_one_class_dataset_is_refused(tiny_config, tmp_path):
  tiny_config.dataset.classes = ("MoveLeft",)
  with pytest.raises(ValueError, match=r"config.dataset.classes=\('MoveLeft',\) is invalid: a classifier needs at "
                                       r"least 2 classes"):
    config_lib.validate(tiny_config, device_count=8)
  tiny_config.dataset.classes = ()
  data = tmp_path / "one class"
  for i in range(4):
    write_clip(str(data / "only" / f"v{i}.avi"), n=20, seed=i)
  tiny_config.dataset.name, tiny_config.dataset.data_dir, tiny_config.dataset.test_fraction = "video_folder", str(
      data), 0.5
  with pytest.raises(ValueError, match=r"video_folder lists 1 class \(\['only'\]\): a classifier needs at least 2"):
    train.train_and_evaluate(tiny_config, str(tmp_path / "run"))
  assert not (tmp_path / "run" / "config.json").exists()

