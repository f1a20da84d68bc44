"""vidjax.features: --mode=extract writes a feature store once; heads train and t-SNE looks at it."""

import json
import os

import cv2
import numpy as np
import pytest

import input_pipeline
from input_pipeline import clips, feature_store
from tests.conftest import TINY, shrink
from tests.helpers import FIXTURES
from tests.helpers.golden_weights import make_weights
from tests.helpers.runs import final_params
from vidjax import evaluate, train, weights
from vidjax.features import extract, tsne

GOLDEN = FIXTURES / "golden_torch.npz"


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
    video = clips.eval_views(frames[i], spec)[0]  # [4, 32, 32, 3]
    want = GoogLeNet().apply(v, normalize(video, c.input.mean, c.input.std), train=False)
    np.testing.assert_allclose(feats[i]["features"], want, rtol=1e-4, atol=1e-4)


def test_a_head_trains_and_evaluates_from_the_store_taking_its_shape_from_it(extracted):
  """No config setting names the store's frames x dimension: the run takes (4, 1024) from it, records it with its
  checkpoints, and its evaluation is the trained head applied to the stored rows (recomputed here in numpy)."""
  from vidjax import checkpointing
  from vidjax import run as run_lib

  c, tmp, _, _, _ = extracted
  workdir = str(tmp / "head")
  report = train.train_and_evaluate(c, workdir)
  ckpt = checkpointing.Checkpointer(workdir, 3)
  assert run_lib.saved_identity(ckpt)["input"] == {"reads": "features", "shape": [4, 1024]}
  ckpt.close()
  p, _, _ = final_params(c, workdir)
  test = feature_store.open_store(c.features.out).split("test")
  x = np.stack([test[i]["features"] for i in range(len(test))]).mean(1)  # the study's head: the time mean
  h = np.maximum(x @ p["fc1"]["kernel"] + p["fc1"]["bias"], 0)
  predicted = (h @ p["head"]["kernel"] + p["head"]["bias"]).argmax(-1)
  assert report["accuracy"] == pytest.approx(float(np.mean(predicted == np.asarray(test.labels))))
  assert report["num_videos"] == len(test) == 20
  again = evaluate.evaluate_checkpoint(c, workdir)
  assert again["accuracy"] == report["accuracy"]
  assert os.path.exists(os.path.join(workdir, "eval", "test_1x1_step30_metrics.json"))
  lstm = c.copy_and_resolve_references()
  lstm.model.head = "lstm"
  assert np.isfinite(train.train_and_evaluate(lstm, str(tmp / "head_lstm"))["loss"])


def test_a_store_that_does_not_fit_the_config_is_refused(extracted, tmp_path):
  c, _, _, _, _ = extracted
  bad = c.copy_and_resolve_references()
  bad.dataset.classes = ("MoveLeft", "MoveRight")
  with pytest.raises(ValueError, match=r"config.dataset.classes=\('MoveLeft', 'MoveRight'\) but the feature store"):
    train.train_and_evaluate(bad, str(tmp_path / "b"))
  missing = c.copy_and_resolve_references()
  missing.features.out = ""
  with pytest.raises(FileNotFoundError, match=r"No feature store at .*features: .*--mode=extract"):
    train.train_and_evaluate(missing, str(tmp_path / "c"))
  video_model = c.copy_and_resolve_references()
  with video_model.unlocked():
    from vidjax.models import model_config

    video_model.model = model_config("mean_frame")
  video_model.dataset.name, video_model.dataset.data_dir = "features", c.features.out
  with pytest.raises(ValueError, match=r"config.dataset.name='features' is a feature store, but config.model.name="
                                       r"'mean_frame' reads video frames"):
    train.train_and_evaluate(video_model, str(tmp_path / "d"))


def test_tsne_writes_an_image_and_the_knn_accuracy(extracted):
  """The k-NN accuracy is scikit-learn's cosine k-NN over each video's centre-frame features (train -> test)."""
  from sklearn.neighbors import KNeighborsClassifier

  c, tmp, _, _, _ = extracted
  assert tsne.tsne(c, str(tmp / "drawn"))["train_videos"] == c.features.tsne_max_videos == 40  # a stratified draw
  c = c.copy_and_resolve_references()
  c.features.tsne_max_videos = 1000
  result = tsne.tsne(c, str(tmp / "look"))
  img = cv2.imread(result["png"])
  assert img is not None and img.shape[0] > 300 and img.shape[1] > 300
  fs = feature_store.open_store(c.features.out)
  train_split, test_split = fs.split("train"), fs.split("test")
  assert result["train_videos"] == len(train_split) == 60 and result["eval_videos"] == len(test_split)

  def centre(split):
    return np.stack([split[i]["features"][2] for i in range(len(split))])  # 4 frames: the centre is index 2

  knn = KNeighborsClassifier(n_neighbors=c.features.knn_k, metric="cosine").fit(centre(train_split), train_split.labels)
  assert result["knn_accuracy"] == pytest.approx(float(np.mean(knn.predict(centre(test_split)) == test_split.labels)))
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
    # the run's own config reads its store, taking frames x dimension from it (no setting to copy by hand)
    look = tsne.tsne(c, str(tmp_path / f"{name}_feats"))
    assert look["train_videos"] == len(fs.split("train")) and os.path.isfile(look["png"])


def test_an_extraction_batch_the_devices_cannot_share_is_refused_before_any_work(tmp_path):
  from configs.frozen_mlp import get_config
  from vidjax import config as config_lib

  c = get_config()
  c.features.batch_size = 3
  config_lib.validate(c, device_count=8)  # training never reads it
  with pytest.raises(ValueError, match=r"config.features.batch_size=3 is invalid: must be divisible by the 8 devices"):
    extract.extract(c, str(tmp_path))
  assert not os.listdir(tmp_path)

