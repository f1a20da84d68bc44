"""vidjax.sweep: every point trains, a rerun skips finished ones, a failed point is recorded."""

import csv
import json
import os

import numpy as np
import pytest

from input_pipeline.sources import synthetic_motion as sm
from vidjax import sweep
from vidjax.reports import eval_files, runs


def _sweep_config(tiny_config):
  c = tiny_config
  c.eval_every_steps = 2
  c.max_checkpoints_to_keep = 1
  return sweep.sweep(c, {"lr_low": {"train": {"learning_rate": 1e-3}},
                         "lr_high_dropout": {"train": {"learning_rate": 1e-2}, "model": {"dropout": 0.3}}})


def _png_ok(path):
  import matplotlib.pyplot as plt

  with open(path, "rb") as f:
    assert f.read(8) == b"\x89PNG\r\n\x1a\n", path
  image = plt.imread(path)
  assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100, path


@pytest.mark.slow
def test_two_point_sweep_then_report_then_rerun_skips(tiny_config, tmp_path):
  workdir = str(tmp_path / "sweep dir")
  config = _sweep_config(tiny_config)
  status = sweep.run_sweep(config, workdir)
  assert [s["status"] for s in status.values()] == ["done", "done"], status

  with open(os.path.join(workdir, "report.csv"), newline="") as f:
    rows = list(csv.DictReader(f))
  assert [r["run"] for r in rows] == ["lr_low", "lr_high_dropout"]
  for row in rows:
    point = os.path.join(workdir, row["run"])
    [found] = [e for e in eval_files.find(point) if e["step"] == 6]
    with open(found["path"]) as f:
      recorded = json.load(f)
    for col, key in (("top1", "accuracy"), ("top5", "top5"), ("balanced_accuracy", "balanced_accuracy"),
                     ("macro_f1", "macro_f1")):
      assert float(row[col]) == pytest.approx(recorded[key], abs=1e-12), (row["run"], col)
    assert int(row["steps"]) == 6 and int(row["parameters"]) > 0 and float(row["train_clips_per_sec"]) > 0
    assert row["model"] == "csn/ir" and float(row["gflops_per_clip"]) > 0 and float(row["train_minutes"]) > 0
    # `best` is the step whose recorded evaluation was highest (TensorBoard's own reader sees the same numbers)
    steps_, acc = runs.scalars(point)["test_accuracy"]
    assert list(steps_) == [2, 4, 6]
    with open(os.path.join(point, "best_checkpoint.json")) as f:
      best = json.load(f)
    assert best["step"] == int(steps_[int(np.argmax(acc))]) and best["value"] == pytest.approx(float(acc.max()))
    assert sorted(int(s) for s in os.listdir(os.path.join(point, "checkpoints"))) == sorted({best["step"], 6})
  with open(os.path.join(workdir, "report.md")) as f:
    md = f.read()
  assert "| lr_low | csn/ir |" in md and "report_train_loss.png" in md
  recall_rows = [line for line in md.splitlines() if line.startswith("| lr_low | ") and "csn/ir" not in line]
  [found] = [e for e in eval_files.find(os.path.join(workdir, "lr_low")) if e["step"] == 6]
  with open(found["path"]) as f:
    per_class = json.load(f)["per_class"]
  assert recall_rows == ["| lr_low | " + " | ".join(f"{100 * per_class[c]['recall']:.0f}" for c in sm.CLASSES) + " |"]
  for name in ("report_train_loss.png", "report_eval_accuracy.png", "report_per_class_f1.png"):
    _png_ok(os.path.join(workdir, name))
  for name in os.listdir(os.path.join(workdir, "lr_low", "eval")):
    if name.endswith(".png"):
      _png_ok(os.path.join(workdir, "lr_low", "eval", name))

  before = {p: os.path.getmtime(os.path.join(workdir, p, "checkpoints")) for p in ("lr_low", "lr_high_dropout")}
  again = sweep.run_sweep(config, workdir)
  assert [s["status"] for s in again.values()] == ["skipped (finished)"] * 2
  assert before == {p: os.path.getmtime(os.path.join(workdir, p, "checkpoints")) for p in before}


def test_a_failed_point_is_recorded_the_others_go_on_and_the_sweep_fails(tiny_config, tmp_path, monkeypatch):
  from vidjax import train

  calls = []

  def fake_train(config, workdir):
    calls.append(os.path.basename(workdir))
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "config.json"), "w") as f:
      json.dump(config.to_dict(), f, default=list)
    if config.train.learning_rate > 5e-3:
      raise FloatingPointError("Non-finite training loss at step 3")
    return {"accuracy": 0.5, "macro_f1": 0.4}

  monkeypatch.setattr(train, "train_and_evaluate", fake_train)
  with pytest.raises(sweep.SweepFailedError, match=r"1 of 2 sweep points failed \(lr_high_dropout\): each error is in"):
    sweep.run_sweep(_sweep_config(tiny_config), str(tmp_path / "s"))
  assert calls == ["lr_low", "lr_high_dropout"]
  with open(tmp_path / "s" / "sweep.json") as f:
    status = json.load(f)
  assert status["lr_low"]["status"] == "done"
  assert status["lr_high_dropout"] == {"status": "failed", "workdir": str(tmp_path / "s" / "lr_high_dropout"),
                                       "error": "FloatingPointError: Non-finite training loss at step 3"}
  md = (tmp_path / "s" / "report.md").read_text()  # the report is written, and names what failed
  assert "## Failed points (1 of 2)" in md
  assert "| lr_high_dropout | FloatingPointError: Non-finite training loss at step 3 |" in md


def test_a_point_override_of_the_wrong_type_names_its_point(tiny_config):
  with pytest.raises(ValueError, match=r"sweep point 'fast': config.train.learning_rate='high' does not fit the "
                                       r"setting, which is float"):
    sweep.sweep(tiny_config, {"slow": {"train": {"learning_rate": 1e-3}}, "fast": {"train": {"learning_rate": "high"}}})


def test_every_point_is_validated_before_the_first_trains(tiny_config, tmp_path, monkeypatch):
  from vidjax import train

  calls = []
  monkeypatch.setattr(train, "train_and_evaluate", lambda c, w: calls.append(w))
  config = sweep.sweep(tiny_config, {"ok": {"train": {"learning_rate": 1e-3}}, "bad": {"train": {"batch_size": 0}}})
  with pytest.raises(ValueError, match=r"sweep point 'bad': config.train.batch_size=0 is invalid.*no point was trained"):
    sweep.run_sweep(config, str(tmp_path / "s"))
  assert calls == [] and not os.path.exists(tmp_path / "s")
