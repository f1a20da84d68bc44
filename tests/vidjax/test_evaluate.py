"""vidjax.evaluate: evaluations of other views or checkpoints are written beside each other."""

import csv
import json
import os

import pytest

from tests.helpers.runs import main


@pytest.mark.slow
def test_eval_views_and_checkpoints_are_named_so_nothing_is_overwritten(tiny_config, tmp_path, repo_root):
  from vidjax import evaluate, train

  c = tiny_config
  c.eval_every_steps = 3
  workdir = str(tmp_path / "run")
  train.train_and_evaluate(c, workdir)
  env = {**os.environ, "PYTHONPATH": str(repo_root)}
  p = main(f"--config=configs/workdir.py:{workdir}", f"--workdir={workdir}", "--mode=eval", "--checkpoint=3",
            "--config.input.eval_clips=2", "--config.input.eval_crops=3", cwd=repo_root, env=env)
  assert p.returncode == 0, p.stderr[-3000:]
  assert "Most confused pairs" in p.stderr or "Most confused pairs" in p.stdout
  one = evaluate.evaluate_checkpoint(c, workdir, "best")
  names = sorted(os.listdir(os.path.join(workdir, "eval")))
  tags = sorted({n.rsplit("_step", 1)[0] + "_step" + n.rsplit("_step", 1)[1].split("_")[0] for n in names})
  assert {"test_1x1_step6", "test_2x3_step3", f"test_1x1_step{one['step']}"} <= set(tags), names
  for tag in ("test_2x3_step3", "test_1x1_step6"):
    assert {f"{tag}_{k}" for k in ("metrics.json", "per_class.csv", "confusion.png", "videos.csv")} <= set(names)
  with open(os.path.join(workdir, "eval", "test_2x3_step3_per_class.csv"), newline="") as f:
    per_class = list(csv.DictReader(f))
  assert len(per_class) == 8 and set(per_class[0]) == {"class", "precision", "recall", "f1", "support",
                                                       "most_confused_with"}
  with open(os.path.join(workdir, "eval", "test_2x3_step3_metrics.json")) as f:
    m = json.load(f)
  assert (m["clips"], m["crops"], m["step"], m["views_per_video"]) == (2, 3, 3, 6)
  # a changed identity is refused before any work
  c.input.num_frames = 4
  with pytest.raises(ValueError, match=r"different config.input.num_frames: the run's is 8, yours is 4"):
    evaluate.evaluate_checkpoint(c, workdir)



@pytest.mark.slow
def test_a_run_trained_under_the_cpu_forms_evaluates_under_xlas_own_alike(tiny_config, tmp_path, repo_root):
  """The compute forms are a process setting, not the run's identity: the same checkpoint scores the same."""
  from vidjax import evaluate, train
  from vidjax.ops import forms

  c = tiny_config
  workdir = str(tmp_path / "run")
  with forms.use("cpu"):
    train.train_and_evaluate(c, workdir)
    under_cpu = evaluate.evaluate_checkpoint(c, workdir, "latest")
  env = {**os.environ, "PYTHONPATH": str(repo_root)}
  p = main(f"--config=configs/workdir.py:{workdir}", f"--workdir={workdir}", "--mode=eval", "--compute_forms=xla",
           cwd=repo_root, env=env)
  assert p.returncode == 0, p.stderr[-3000:]
  with open(os.path.join(workdir, "eval", f"test_1x1_step{under_cpu['step']}_metrics.json")) as f:
    under_xla = json.load(f)
  assert under_xla["step"] == under_cpu["step"] == c.train.num_steps
  assert under_xla["accuracy"] == under_cpu["accuracy"]
  assert under_xla["loss"] == pytest.approx(under_cpu["loss"], rel=1e-4)
