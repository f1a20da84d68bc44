"""Frozen features: extract into a feature store (and resume), train and evaluate a head from it, look at it."""

import json
import os

import cv2
import jax
import numpy as np
import pytest

import input_pipeline
from input_pipeline import feature_store, loader
from tests.conftest import TINY, shrink
from tests.golden_weights import make_weights
from vidjax import evaluate, train, weights
from vidjax.features import extract, tsne

GOLDEN = os.path.join(os.path.dirname(__file__), "fixtures", "golden_torch.npz")


@pytest.fixture(scope="module")
def googlenet_weights(tmp_path_factory):
  """Random torchvision-layout GoogLeNet weights (aux classifiers included), converted as a user's .pth would be."""
  with np.load(GOLDEN, allow_pickle=False) as g:
    shapes = {k: tuple(v) for k, v in json.loads(str(g["googlenet/shapes"])).items()}
  d = tmp_path_factory.mktemp("googlenet")
  np.savez(d / "googlenet (random).npz", **make_weights(shapes))
  weights.main(["--pth", str(d / "googlenet (random).npz"), "--arch", "googlenet", "--out", str(d / "converted")])
  return str(d / "converted")


def _config(root, store_dir, googlenet_weights, out):
  from configs.frozen_mlp import get_config

  c = shrink(get_config(), root, TINY, store_dir, frames=4)
  c.features.frames = 4
  c.features.weights = googlenet_weights
  c.features.shard_size = 16
  c.features.batch_size = 8
  c.features.out = out
  c.features.tsne_max_videos = 40
  c.train.num_steps = 30
  c.train.learning_rate = 3e-3
  c.checkpoint_every_steps = 30
  c.eval_every_steps = 0
  return c


@pytest.fixture(scope="module")
def extracted(tiny_motion_root, googlenet_weights, tmp_path_factory):
  """The store, extracted with an interruption after two shards and then resumed."""
  tmp = tmp_path_factory.mktemp("features")
  c = _config(tiny_motion_root, str(tmp / "frames"), googlenet_weights, str(tmp / "store"))
  written = []
  real = feature_store.write_shard

  def failing(*args, **kwargs):
    if len(written) == 2:
      raise KeyboardInterrupt("interrupted")
    written.append(args[1:3])
    return real(*args, **kwargs)

  mp = pytest.MonkeyPatch()
  mp.setattr(feature_store, "write_shard", failing)
  with pytest.raises(KeyboardInterrupt):
    extract.extract(c, str(tmp / "run"))
  mp.undo()
  first = list(written)
  mtimes = {p: os.stat(p).st_mtime_ns for p in (tmp / "store").rglob("*.npy")}
  resumed = []
  mp.setattr(feature_store, "write_shard", lambda *a, **k: (resumed.append(a[1:3]), real(*a, **k))[1])
  extract.extract(c, str(tmp / "run"))
  mp.undo()
  return c, tmp, first, resumed, mtimes


def test_an_interrupted_extraction_resumes_without_redoing_finished_shards(extracted):
  c, _, first, resumed, mtimes = extracted
  fs = feature_store.open_store(c.features.out)
  shards = [(s, k) for s in ("train", "test") for k in range(len(feature_store.shard_ranges(
      fs.index["splits"][s]["videos"], 16)))]
  assert len(first) == 2 and len(mtimes) == 2
  assert sorted(first + resumed) == sorted(shards) and not set(first) & set(resumed)
  for p, t in mtimes.items():
    assert os.stat(p).st_mtime_ns == t, f"{p} was rewritten"


def test_stored_features_are_the_backbone_on_evenly_spaced_frames(extracted, googlenet_weights):
  c, _, _, _, _ = extracted
  fs = feature_store.open_store(c.features.out)
  assert (fs.frames, fs.dim) == (4, 1024) and fs.index["backbone"]["name"] == "googlenet"
  data = input_pipeline.open_dataset(c)
  feats = fs.split("test")
  frames = data.sources["test"]
  assert len(feats) == len(frames) and fs.classes == data.classes
  assert [feats[i]["label"] for i in range(len(feats))] == [frames[i]["label"] for i in range(len(frames))]
  assert [feats.path(i) for i in range(len(feats))] == data.paths("test")
  # recompute three videos by hand: 4 uniform frames, centre crop, the converted GoogLeNet
  from vidjax.models.googlenet import GoogLeNet
  from vidjax.steps import normalize

  loaded = weights.load(googlenet_weights)
  v = {col: {k: x for k, x in loaded[col].items() if k != "fc"} for col in ("params", "batch_stats")}
  spec = extract.make_encoder(c).spec
  for i in (0, len(feats) // 2, len(feats) - 1):
    video = loader.EvalClips(spec).map((frames[i], True))["video"][0]  # [4, 32, 32, 3]
    want = GoogLeNet().apply(v, normalize(video, c.input.mean, c.input.std), train=False)
    np.testing.assert_allclose(feats[i]["features"], want, rtol=1e-4, atol=1e-4)


def test_a_head_trains_and_evaluates_from_the_store(extracted):
  c, tmp, _, _, _ = extracted
  workdir = str(tmp / "head")
  report = train.train_and_evaluate(c, workdir)
  assert 0.0 <= report["accuracy"] <= 1.0 and np.isfinite(report["loss"])
  again = evaluate.evaluate_checkpoint(c, workdir)
  assert again["accuracy"] == report["accuracy"]
  assert os.path.exists(os.path.join(workdir, "eval", "test_1x1_step30_metrics.json"))
  lstm = c.copy_and_resolve_references()
  lstm.model.head = "lstm"
  assert np.isfinite(train.train_and_evaluate(lstm, str(tmp / "head_lstm"))["loss"])


def test_a_store_that_does_not_fit_the_config_is_refused(extracted, tmp_path):
  c, _, _, _, _ = extracted
  bad = c.copy_and_resolve_references()
  bad.input.feature_dim = 512
  with pytest.raises(ValueError, match=r"holds 4 x 1024 features per video; .*num_frames=4 x config.input.feature_dim=512"):
    train.train_and_evaluate(bad, str(tmp_path / "a"))
  bad = c.copy_and_resolve_references()
  bad.dataset.classes = ("MoveLeft", "MoveRight")
  with pytest.raises(ValueError, match=r"config.dataset.classes=\('MoveLeft', 'MoveRight'\) but the feature store"):
    train.train_and_evaluate(bad, str(tmp_path / "b"))
  missing = c.copy_and_resolve_references()
  missing.features.out = ""
  with pytest.raises(FileNotFoundError, match=r"No feature store at .*features: .*--mode=extract"):
    train.train_and_evaluate(missing, str(tmp_path / "c"))


def test_tsne_writes_an_image_and_the_knn_accuracy(extracted):
  c, tmp, _, _, _ = extracted
  result = tsne.tsne(c, str(tmp / "look"))
  img = cv2.imread(result["png"])
  assert img is not None and img.shape[0] > 300 and img.shape[1] > 300
  assert 0.0 <= result["knn_accuracy"] <= 1.0 and result["train_videos"] == 40
  with open(tmp / "look" / "tsne" / "tsne.json") as f:
    assert json.load(f)["knn_accuracy"] == result["knn_accuracy"]


def test_a_trained_runs_features_per_frame_and_per_clip(tiny_motion_root, tmp_path):
  """A CNN+LSTM's frame encoder gives one vector per frame; a CSN's pre-logits one per clip."""
  from configs import zoo_small

  for name, per, n, dim in (("cnn_lstm_bn_leaky", "frame", 5, 64), ("ir_csn", "clip", 3, 128)):
    run = shrink(zoo_small.get_config(name), tiny_motion_root, TINY, str(tmp_path / "frames"))
    run.train.num_steps, run.train.warmup_steps = 2, 0
    run.checkpoint_every_steps = 2
    run.train.batch_size = run.eval_batch_size = 8
    train.train_and_evaluate(run, str(tmp_path / name))
    c = shrink(zoo_small.get_config(name), tiny_motion_root, TINY, str(tmp_path / "frames"))
    c.features.backbone, c.features.run = "run", str(tmp_path / name)
    c.features.frames, c.features.clips, c.features.batch_size = 5, 3, 8
    out = extract.extract(c, str(tmp_path / f"{name}_feats"))
    fs = feature_store.open_store(out)
    assert (fs.frames, fs.dim, fs.index["backbone"]["per"]) == (n, dim, per)
    row = fs.split("train")[0]["features"]
    assert row.shape == (n, dim) and np.all(np.isfinite(row)) and np.abs(row).sum() > 0


def test_hostile_feature_stores_are_refused_with_the_file_named(tmp_path):
  path = str(tmp_path / "store")
  index = {"format": 1, "backbone": {"name": "x"}, "frames": 2, "dim": 3, "classes": ["a", "b"], "source": {},
           "splits": {"train": {"videos": 2, "shard_size": 2}}}
  feature_store.write_index(path, index)
  feature_store.write_shard(path, "train", 0, np.zeros((2, 2, 3), np.float32), [0, 1], ["a.avi", "b.avi"])
  assert feature_store.open_store(path).split("train")[1]["label"] == 1
  np.save(os.path.join(path, "train", "00000.npy"), np.zeros((2, 2, 4), np.float32))  # wrong D
  with pytest.raises(feature_store.FeatureStoreError, match=r"00000.npy holds float32 \(2, 2, 4\)"):
    feature_store.open_store(path).split("train")
  with open(os.path.join(path, "train", "00000.npy"), "wb") as f:
    f.write(b"\x93NUMPY garbage")
  with pytest.raises(feature_store.FeatureStoreError, match=r"00000.npy cannot be read"):
    feature_store.open_store(path).split("train")
  np.save(os.path.join(path, "train", "00000.npy"), np.array([{"a": 1}], dtype=object), allow_pickle=True)
  with pytest.raises(feature_store.FeatureStoreError, match=r"00000.npy cannot be read"):  # never unpickled
    feature_store.open_store(path).split("train")
  feature_store.write_index(path, {**index, "dim": 10**9})
  with pytest.raises(feature_store.FeatureStoreError, match=r"out of range"):
    feature_store.open_store(path)
  with open(os.path.join(path, "features.json"), "w") as f:
    f.write("{not json")
  with pytest.raises(feature_store.FeatureStoreError, match=r"features.json: not valid JSON"):
    feature_store.open_store(path)
  assert jax.device_count() == 8  # the extraction above ran data-parallel over 8 devices


def test_an_extraction_batch_the_devices_cannot_share_is_refused_before_any_work(tmp_path):
  from configs.frozen_mlp import get_config
  from vidjax import config as config_lib

  c = get_config()
  c.features.batch_size = 3
  config_lib.validate(c, device_count=8)  # training never reads it
  with pytest.raises(ValueError, match=r"config.features.batch_size=3 is invalid: must be divisible by the 8 devices"):
    extract.extract(c, str(tmp_path))
  assert not os.listdir(tmp_path)
