"""From trained runs to results: metrics a paper can cite, the best checkpoint, predict, sweeps and reports."""

import csv
import json
import os
import shutil
import subprocess
import sys

import jax.numpy as jnp
import numpy as np
import pytest

from input_pipeline import decode
from input_pipeline.sources import synthetic_motion as sm
from tests.dataset_trees import write_camera_mp4, write_clip
from vidjax import checkpointing, metrics, sweep
from vidjax.reports import eval_files, runs

# Three videos, two views each (clip x crop), six classes (so top-5 is not everything). Worked by hand:
# video 0 (label 0): views argmax 0 and 1; mean [.35 .25 .1 .1 .1 .1] -> 0, right.
# video 1 (label 1): views argmax 0 and 0; mean [.55 .35 .075 .025 0 0] -> 0, wrong; label is 2nd: top-5 right.
# video 2 (label 2): view 1 gives label 2 the unique lowest probability (not in its top-5); view 2 argmax 2;
#                    mean [.175 .15 .3 .15 .125 .1] -> 2, right.
VIEWS = np.array([
    [[0.5, 0.1, 0.1, 0.1, 0.1, 0.1], [0.2, 0.4, 0.1, 0.1, 0.1, 0.1]],
    [[0.6, 0.3, 0.05, 0.05, 0.0, 0.0], [0.5, 0.4, 0.1, 0.0, 0.0, 0.0]],
    [[0.3, 0.25, 0.0, 0.2, 0.15, 0.1], [0.05, 0.05, 0.6, 0.1, 0.1, 0.1]],
])
LABELS = np.array([0, 1, 2])


def test_clip_and_video_level_top1_top5_against_a_hand_computed_example():
  r = metrics.classification_report(VIEWS, LABELS, [f"c{i}" for i in range(6)])
  assert r["views_per_video"] == 2 and r["num_videos"] == 3
  assert r["accuracy"] == pytest.approx(2 / 3)  # video-level top-1
  assert r["top5"] == pytest.approx(1.0)  # video-level top-5
  assert r["clip_accuracy"] == pytest.approx(2 / 6)  # views 0a and 2b
  assert r["clip_top5"] == pytest.approx(5 / 6)  # all but view 2a
  assert r["mean_class_accuracy"] == pytest.approx(2 / 3) == pytest.approx(r["balanced_accuracy"])
  assert r["loss"] == pytest.approx(-(np.log(0.35) + np.log(0.35) + np.log(0.3)) / 3)
  assert r["per_class"]["c1"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1, "most_confused_with": "c0"}
  assert r["most_confused"] == [{"true": "c1", "predicted": "c0", "count": 1, "share_of_true": 1.0}]
  # fewer than five classes: top-5 is every class
  assert metrics.topk_accuracy(np.array([[0.1, 0.9]]), np.array([0]), 5) == 1.0


def test_best_checkpoint_survives_rotation_and_resolves(tmp_path):
  ckpt = checkpointing.Checkpointer(str(tmp_path), max_to_keep=1)
  for step, value in zip(range(1, 6), [0.2, 0.5, 0.3, 0.5, 0.1], strict=True):
    ckpt.save(step, {"w": jnp.full(3, float(step))}, {"step": step})
    ckpt.record_evaluation(step, "val", "accuracy", value)
  ckpt.close()
  again = checkpointing.Checkpointer(str(tmp_path), max_to_keep=1)  # a later process reads what was recorded
  assert again.all_steps() == [2, 5]  # the newest and the best (the first to reach 0.5: a tie does not replace it)
  assert again.resolve("best") == 2 and again.resolve("latest") == 5 and again.resolve("5") == 5
  assert again.best() == {"step": 2, "metric": "accuracy", "value": 0.5, "split": "val"}
  state, meta = again.restore({"w": jnp.zeros(3)}, "best")
  assert meta["step"] == 2 and float(state["w"][0]) == 2.0
  with pytest.raises(FileNotFoundError, match=r"no checkpoint at step 3 .* there are \[2, 5\]"):
    again.resolve("3")
  with pytest.raises(ValueError, match="use latest, best or a step number"):
    again.resolve("newest")


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


def test_a_failed_point_is_recorded_and_the_others_go_on(tiny_config, tmp_path, monkeypatch):
  from vidjax import train

  calls = []

  def fake_train(config, workdir):
    calls.append(os.path.basename(workdir))
    if config.train.learning_rate > 5e-3:
      raise FloatingPointError("Non-finite training loss at step 3")
    return {"accuracy": 0.5, "macro_f1": 0.4}

  monkeypatch.setattr(train, "train_and_evaluate", fake_train)
  monkeypatch.setattr(runs, "write_report", lambda d: {"markdown": os.path.join(d, "report.md")})
  status = sweep.run_sweep(_sweep_config(tiny_config), str(tmp_path / "s"))
  assert calls == ["lr_low", "lr_high_dropout"]
  assert status["lr_low"]["status"] == "done"
  assert status["lr_high_dropout"] == {"status": "failed", "workdir": str(tmp_path / "s" / "lr_high_dropout"),
                                       "error": "FloatingPointError: Non-finite training loss at step 3"}
  with open(tmp_path / "s" / "sweep.json") as f:
    assert json.load(f) == status


def _main(*args, cwd, env):
  return subprocess.run([sys.executable, "main.py", *args], cwd=cwd, env=env, capture_output=True, text=True,
                        timeout=300)


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
  per_video = eval_files.read_predictions(result["paths"]["videos"])
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
  p = _main(f"--workdir={workdir}", "--mode=predict", f"--video={odd}", f"--output={out}", cwd=repo_root, env=env)
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
  bad = _main(f"--workdir={workdir}", "--mode=predict", f"--video={odd / 'broken.mp4'}", cwd=repo_root, env=env)
  assert bad.returncode == 1 and bad.stderr.strip().splitlines()[-1].startswith("main.py: none of the 1 video(s)")

  # the model's table from the workdir alone, every tensor listed
  s = _main(f"--workdir={workdir}", "--mode=summary", "--tensors", cwd=repo_root, env=env)
  assert s.returncode == 0, s.stderr[-2000:]
  assert "csn (3 classes)" in s.stdout and "head.kernel" in s.stdout and "Total " in s.stdout


@pytest.mark.slow
def test_eval_views_and_checkpoints_are_named_so_nothing_is_overwritten(tiny_config, tmp_path, repo_root):
  from vidjax import evaluate, train

  c = tiny_config
  c.eval_every_steps = 3
  workdir = str(tmp_path / "run")
  train.train_and_evaluate(c, workdir)
  env = {**os.environ, "PYTHONPATH": str(repo_root)}
  p = _main(f"--config=configs/workdir.py:{workdir}", f"--workdir={workdir}", "--mode=eval", "--checkpoint=3",
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


def test_summary_of_a_config_never_lists_or_generates_a_dataset(tmp_path, monkeypatch, capsys):
  from configs.frozen_backbone import get_config
  from vidjax import summary

  monkeypatch.setenv("VIDJAX_CACHE_DIR", str(tmp_path / "cache"))
  c = get_config()
  c.dataset.name, c.dataset.data_dir = "hmdb51", str(tmp_path / "no such folder")
  s = summary.print_summary(c, tensors=True)
  assert not (tmp_path / "cache").exists()
  out = capsys.readouterr().out
  assert "frozen_features (51 classes)" in out
  frozen = [t for t in s["tensors"] if t["frozen"]]
  assert frozen and all(t["name"].startswith("frozen_backbone.") for t in frozen)
  assert sum(t["count"] for t in s["tensors"]) == s["parameters"]
  trained = s["parameters"] - sum(t["count"] for t in frozen)
  assert f"({trained:,} trained, " in out and "  frozen" in out
