"""The config schema every experiment starts from, and the checks run before any work.

Configs are locked: a misspelt `--config.x.y` override fails at parse time, and
ml_collections refuses a value of the wrong type. `validate` then checks
choices, ranges and paths, naming the setting and what would be valid.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import os
import sys

import ml_collections

import input_pipeline
from input_pipeline import sampling
from input_pipeline.sources import SOURCES
from vidjax import models
from vidjax.models import check_model_config, model_config

OPTIMIZERS = ("adamw", "sgd")
SCHEDULES = ("cosine", "step", "constant")
CLASS_WEIGHTS = ("balanced", "none")
COMPUTE_DTYPES = ("float32", "bfloat16")
SELECT_METRICS = ("accuracy", "top5", "balanced_accuracy", "macro_f1")


def base_config(model: str = "csn") -> ml_collections.ConfigDict:
  """The whole schema, locked: `config.model` holds every setting of `model` at its defaults (see models/).

  Config files change values; a key this schema lacks (a typo) fails where it is written. Switch families with
  `c.model = model_config("cnn_lstm", ...)`.
  """
  c = ml_collections.ConfigDict()
  c.seed = 0

  c.dataset = ml_collections.ConfigDict()
  c.dataset.name = "synthetic_motion"
  c.dataset.data_dir = ""  # '' = $VIDJAX_CACHE_DIR/<name>, default ~/.cache/vidjax/<name> (synthetic sets go there)
  c.dataset.store_dir = ""  # '' = $VIDJAX_CACHE_DIR/store, default ~/.cache/vidjax/store: decoded frames, built once
  c.dataset.split = 1  # official split 1..3 (ucf101, hmdb51, synthetic_motion)
  c.dataset.classes = ()  # a subset of class names, e.g. the UCF101 study's 9 classes; () = all
  c.dataset.max_train_per_class = 0  # cap on train videos per class (the HMDB51 study: ~30); 0 = all
  c.dataset.max_test_per_class = 0
  c.dataset.val_fraction = 0.0  # carve 'val' from train: stratified, group-aware for UCF101
  c.dataset.test_fraction = 0.1  # video_folder only: stratified held-out test share (the HMDB51 study: 10 %)
  c.dataset.split_seed = 0  # seeds the subset, cap and split draws
  c.dataset.train_split = "train"
  c.dataset.eval_split = "test"
  c.dataset.store_short_side = 128
  c.dataset.store_fps = 0.0  # 0 keeps the source rate
  c.dataset.store_max_frames = 0
  c.dataset.decode_workers = 0  # 0 = one per CPU core
  c.dataset.synthetic_groups = 80  # synthetic_motion only: scenes (a quarter held out per split)
  c.dataset.synthetic_clips_per_group = 1  # per class and scene: many scenes, few clips, generalise best

  c.input = ml_collections.ConfigDict()
  c.input.num_frames = 16
  c.input.frame_size = 112
  c.input.channels = 3
  c.input.train_sampling = "segment"
  c.input.frame_stride = 2
  c.input.eval_clips = 1  # K evenly spaced clips per test video
  c.input.eval_crops = 1  # 1 (centre) or 3 (along the long side); scores are averaged over clips x crops
  c.input.crop_scale = (0.6, 1.0)
  c.input.crop_aspect = (0.75, 1.333)
  c.input.flip = False  # on for data whose classes a mirror image keeps (ucf101, hmdb51); synthetic_motion's it swaps
  c.input.brightness = 0.0
  c.input.contrast = 0.0
  c.input.mean = 0.45  # applied on device, after uint8 -> float
  c.input.std = 0.225
  c.input.loader_threads = 4

  c.model = model_config(model)

  c.init = ml_collections.ConfigDict()
  c.init.path = ""  # converted weights (python -m vidjax.weights ...) to start from; '' = random init
  c.init.prefix = ""  # module that receives them: '' = the whole model, 'backbone' / 'frozen_backbone' = a 2D backbone

  c.train = ml_collections.ConfigDict()
  c.train.batch_size = 32  # global, over all devices and hosts
  c.train.num_steps = 1000
  c.train.optimizer = "adamw"
  c.train.learning_rate = 1e-3
  c.train.warmup_steps = 0
  c.train.schedule = "cosine"  # cosine | step | constant, after the linear warmup
  c.train.step_decay_every = 0  # step schedule: multiply the rate by step_decay_factor every this many steps
  c.train.step_decay_factor = 0.1
  c.train.ema_decay = 0.0  # > 0 keeps an exponential moving average of the parameters; evaluation uses it
  c.train.weight_decay = 1e-4
  c.train.momentum = 0.9  # sgd only
  c.train.grad_clip_norm = 0.0  # 0 = off
  c.train.label_smoothing = 0.0
  c.train.mixup_alpha = 0.0  # > 0: blend clip pairs and their losses, lam ~ Beta(alpha, alpha) per step (0.2 is usual)
  c.train.class_weights = "balanced"
  c.train.compute_dtype = "float32"  # or "bfloat16": activations in bf16, parameters and optimizer state in float32
  c.train.grad_accum_steps = 1  # split each batch into this many micro-batches: same update, smaller passes

  c.analysis = ml_collections.ConfigDict()  # --mode=analyze: what it samples from each stored video
  c.analysis.frames_per_video = 8  # evenly spaced frames for the RGB histograms
  c.analysis.flow_pairs = 4  # evenly spaced pairs of consecutive frames for optical flow
  c.analysis.flow_side = 112  # frames shrunk to at most this short side before the flow (bounds its cost)

  c.features = ml_collections.ConfigDict()  # --mode=extract (a feature store) and --mode=tsne (a look at one)
  c.features.backbone = "googlenet"  # googlenet | resnet18 (ImageNet, converted torchvision weights) | run
  c.features.weights = ""  # python -m vidjax.weights --arch googlenet|resnet18 output; '' = random init (a baseline)
  c.features.run = ""  # backbone='run': a trained vidjax workdir (CNN+LSTM: its frame encoder; else pre-logits)
  c.features.checkpoint = "latest"  # of that run: latest, best or a step
  c.features.frames = 16  # N evenly spaced frames per video (2D backbones and CNN+LSTM runs); the studies' 16
  c.features.clips = 4  # K evenly spaced clips per video (video-model runs)
  c.features.splits = ("train", "test")
  c.features.out = ""  # '' = <workdir>/features
  c.features.shard_size = 256  # videos per shard: the unit an interrupted extraction redoes
  c.features.batch_size = 8  # videos per encoder call (x frames or clips each), over all devices
  c.features.tsne_pool = "centre"  # --mode=tsne: each video's centre frame (the study's), or "mean" over frames
  c.features.tsne_max_videos = 2000  # per split, stratified draw; t-SNE is O(n log n) but not free
  c.features.knn_k = 5  # the k of the k-nearest-neighbour accuracy it reports

  c.eval_batch_size = 32
  c.log_every_steps = 50
  c.eval_every_steps = 0  # 0 = only at the end
  c.checkpoint_every_steps = 200
  c.max_checkpoints_to_keep = 3  # the newest ones; the best-so-far (by `select_metric`) is kept besides them
  c.select_metric = "accuracy"  # what `--checkpoint=best` maximises over the evaluations made while training
  c.lock()
  return c


def _import_file(path: str, name: str):
  spec = importlib.util.spec_from_file_location(name, path)
  if spec is None or spec.loader is None:
    raise ValueError(f"{path}: not a Python config file")
  module = importlib.util.module_from_spec(spec)
  repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  if repo not in sys.path:  # config files import each other as `configs.x`
    sys.path.insert(0, repo)
  spec.loader.exec_module(module)
  return module


def load_config_file(ref: str) -> ml_collections.ConfigDict:
  """`configs/x.py` or `configs/x.py:arg` (as --config takes it) -> the config it returns."""
  path, _, arg = ref.partition(":")
  if not os.path.isfile(path):
    raise FileNotFoundError(f"config file {path!r} not found")
  module = _import_file(path, "vidjax_config_" + os.path.splitext(os.path.basename(path))[0])
  if not callable(getattr(module, "get_config", None)):
    raise ValueError(f"{path}: a config file defines get_config() returning a ConfigDict")
  config = module.get_config(arg) if arg else module.get_config()
  if not isinstance(config, ml_collections.ConfigDict):
    raise ValueError(f"{path}: get_config() returned {type(config).__name__}, not a ConfigDict: start from "
                     "vidjax.config.base_config()")
  return config


def did_you_mean(key: str, options, prefix: str = "") -> str:
  close = difflib.get_close_matches(key, list(options), n=1, cutoff=0.5)
  return f"; did you mean config.{prefix}{close[0]}?" if close else f"; settings here: {', '.join(sorted(options))}"


def check_override(c: ml_collections.ConfigDict, dotted: str) -> str | None:
  """A problem with the command-line override `--config.<dotted>`, or None if the key exists."""
  node, parts = c, dotted.split(".")
  for i, part in enumerate(parts):
    if not isinstance(node, ml_collections.ConfigDict | dict) or part not in node:
      prefix = ".".join(parts[:i])
      options = node.keys() if isinstance(node, ml_collections.ConfigDict | dict) else []
      where = f"{prefix}." if prefix else ""
      return f"--config.{dotted}: config.{where}{part} is not a setting" + did_you_mean(part, options, where)
    node = node[part]
  return None


def override_problem(argv: list[str]) -> str | None:
  """The problem with a command line's --config / --config.x overrides, in one line: a config file that cannot be
  loaded, or an override that names no setting (with the closest valid one)."""
  ref = next((a.split("=", 1)[1] for a in argv if a.startswith("--config=")), None)
  if ref is None:
    return None
  try:
    config = load_config_file(ref)
  except (FileNotFoundError, ValueError) as e:
    return f"--config={ref}: {' '.join(str(e).split())}"
  except Exception as e:
    return f"--config={ref}: {type(e).__name__}: {' '.join(str(e).split())}"
  for arg in argv:
    if arg.startswith("--config."):
      problem = check_override(config, arg[len("--config."):].split("=", 1)[0])
      if problem:
        return problem
  return None


def _to_schema_types(value):
  return tuple(_to_schema_types(v) for v in value) if isinstance(value, list) else value


def from_dict(saved: dict) -> ml_collections.ConfigDict:
  """A run's saved config.json -> a locked config of the current schema (settings it lacks keep defaults)."""
  c = base_config(saved.get("model", {}).get("name", "csn"))

  def fill(node, values, prefix):
    for k, v in values.items():
      if k not in node:
        continue  # a setting an older vidjax had: ignored
      if isinstance(node[k], ml_collections.ConfigDict):
        fill(node[k], v, f"{prefix}{k}.")
      else:
        node[k] = _to_schema_types(v)
  fill(c, saved, "")
  return c


def read_run_config(workdir: str) -> ml_collections.ConfigDict:
  path = os.path.join(workdir, "config.json")
  if not os.path.isfile(path):
    raise FileNotFoundError(f"--workdir {workdir!r} has no config.json: it holds no vidjax run "
                            "(train one with --config=... --workdir=...)")
  try:
    with open(path, encoding="utf-8") as f:
      saved = json.load(f)
    if not isinstance(saved, dict):
      raise ValueError("not a JSON object")
    return from_dict(saved)
  except (ValueError, UnicodeDecodeError, AttributeError, TypeError) as e:
    raise ValueError(f"{path} is not a vidjax run's config ({type(e).__name__}: {' '.join(str(e).split())[:200]}); "
                     "restore it from a copy, or pass --config= the file the run was trained with") from None


def _model_probe(c: ml_collections.ConfigDict) -> tuple[int, ...]:
  """An example shape to trace the model on while validating: the clip's, or the feature store's N x D (a stand-in
  D before the store exists: a head's settings do not depend on it)."""
  reads = models.reads(c.model)
  if reads == "features" and SOURCES[c.dataset.name].gives == "frames" and not c.features.out:
    return (c.features.frames, models.FEATURE_DIMS.get(c.features.backbone, 8))
  try:
    shape = input_pipeline.example_shape(c, reads)
  except ValueError:  # a damaged store: named when it is opened
    shape = None
  return shape or (c.features.frames, models.FEATURE_DIMS.get(c.features.backbone, 8))


def _fail(setting: str, value, expected: str) -> None:
  raise ValueError(f"config.{setting}={value!r} is invalid: {expected}")


def validate(c: ml_collections.ConfigDict, process_count: int = 1, device_count: int = 1,
             check_data_dir: bool = True) -> None:
  """Raises ValueError naming the first bad setting, before any data is listed, generated or stored: it touches no
  data, and traces the model on one example's shape (shapes only) so every model value is checked too.

  check_data_dir=False (predict, summary): the dataset need not exist any more.
  """
  if c.dataset.name not in SOURCES:
    _fail("dataset.name", c.dataset.name, f"choose one of {sorted(SOURCES)}")
  source = SOURCES[c.dataset.name]
  if source.needs_data_dir and check_data_dir:
    if not c.dataset.data_dir:
      _fail("dataset.data_dir", c.dataset.data_dir, f"{c.dataset.name} is read from disk; set it to the dataset root")
    if not os.path.isdir(c.dataset.data_dir):
      _fail("dataset.data_dir", c.dataset.data_dir, "no such directory")
  if len(c.dataset.classes) == 1:
    _fail("dataset.classes", c.dataset.classes, "a classifier needs at least 2 classes; () keeps them all")
  if c.dataset.split not in (1, 2, 3):
    _fail("dataset.split", c.dataset.split, "official splits are 1, 2 or 3")
  for key in ("val_fraction", "test_fraction"):
    if not 0 <= c.dataset[key] < 1:
      _fail(f"dataset.{key}", c.dataset[key], "must be in [0, 1)")
  splits = ("train", "test", "val") if c.dataset.val_fraction > 0 else ("train", "test")
  for key in ("train_split", "eval_split"):
    if c.dataset[key] not in splits:
      _fail(f"dataset.{key}", c.dataset[key], f"choose one of {splits} ('val' needs dataset.val_fraction > 0)")
  if c.init.path and not os.path.isfile(os.path.join(c.init.path, "weights.json")):
    _fail("init.path", c.init.path, "no converted weights there (weights.json); make them with "
          "`python -m vidjax.weights --pth FILE --arch ARCH --out DIR`")
  for key in ("num_frames", "frame_size", "eval_clips", "frame_stride", "loader_threads"):
    if c.input[key] < 1:
      _fail(f"input.{key}", c.input[key], "must be >= 1")
  if models.reads(c.model) == "features":
    if (c.input.eval_clips, c.input.eval_crops) != (1, 1):
      _fail("input.eval_clips", c.input.eval_clips, "stored features are one view per video: eval_clips and "
            "eval_crops must be 1 (extract K clips per video to score several)")
  if c.input.eval_crops not in (1, 3):
    _fail("input.eval_crops", c.input.eval_crops, "1 (centre crop) or 3 (start, centre, end of the long side)")
  if c.input.channels not in (1, 3):
    _fail("input.channels", c.input.channels, "1 (grey) or 3 (RGB)")
  if c.input.train_sampling not in sampling.SAMPLINGS:
    _fail("input.train_sampling", c.input.train_sampling, f"choose one of {sampling.SAMPLINGS}")
  lo, hi = c.input.crop_scale
  if not 0 < lo <= hi <= 1:
    _fail("input.crop_scale", c.input.crop_scale, "need 0 < min <= max <= 1")
  if c.input.flip and not source.flip_safe:
    _fail("input.flip", c.input.flip, f"{c.dataset.name} has left/right classes that a flip would swap; set False")
  if c.input.std <= 0:
    _fail("input.std", c.input.std, "must be > 0")
  for key in ("frames_per_video", "flow_pairs", "flow_side"):
    if c.analysis[key] < 1:
      _fail(f"analysis.{key}", c.analysis[key], "must be >= 1")
  fe = c.features
  if fe.backbone not in (*models.FEATURE_DIMS, "run"):
    _fail("features.backbone", fe.backbone, f"choose one of {(*models.FEATURE_DIMS, 'run')}")
  for key in ("frames", "clips", "shard_size", "batch_size", "tsne_max_videos", "knn_k"):
    if fe[key] < 1:
      _fail(f"features.{key}", fe[key], "must be >= 1")
  if fe.tsne_pool not in ("centre", "mean"):
    _fail("features.tsne_pool", fe.tsne_pool, "choose 'centre' or 'mean'")
  if fe.weights and not os.path.isfile(os.path.join(fe.weights, "weights.json")):
    _fail("features.weights", fe.weights, "no converted weights there (weights.json); make them with "
          "`python -m vidjax.weights --pth FILE --arch googlenet --out DIR`")
  t = c.train
  if t.optimizer not in OPTIMIZERS:
    _fail("train.optimizer", t.optimizer, f"choose one of {OPTIMIZERS}")
  if t.schedule not in SCHEDULES:
    _fail("train.schedule", t.schedule, f"choose one of {SCHEDULES}")
  if t.schedule == "step" and t.step_decay_every < 1:
    _fail("train.step_decay_every", t.step_decay_every, "the step schedule needs it >= 1")
  if not 0 <= t.ema_decay < 1:
    _fail("train.ema_decay", t.ema_decay, "must be in [0, 1) (0 = off)")
  if t.class_weights not in CLASS_WEIGHTS:
    _fail("train.class_weights", t.class_weights, f"choose one of {CLASS_WEIGHTS}")
  if t.num_steps < 1:
    _fail("train.num_steps", t.num_steps, "must be >= 1")
  if not 0 <= t.warmup_steps < t.num_steps:
    _fail("train.warmup_steps", t.warmup_steps, f"must be in [0, train.num_steps={t.num_steps})")
  if t.learning_rate <= 0:
    _fail("train.learning_rate", t.learning_rate, "must be > 0")
  if not 0 <= t.label_smoothing < 1:
    _fail("train.label_smoothing", t.label_smoothing, "must be in [0, 1)")
  if t.mixup_alpha < 0:
    _fail("train.mixup_alpha", t.mixup_alpha, "must be >= 0 (0 = off)")
  if t.compute_dtype not in COMPUTE_DTYPES:
    _fail("train.compute_dtype", t.compute_dtype, f"choose one of {COMPUTE_DTYPES}")
  for key, bs in (("train.batch_size", t.batch_size), ("eval_batch_size", c.eval_batch_size)):
    if bs < 1 or bs % device_count or bs % process_count:
      _fail(key, bs, f"must be a positive multiple of the device count ({device_count})")
  if t.grad_accum_steps < 1 or t.batch_size % (device_count * t.grad_accum_steps):
    _fail("train.grad_accum_steps", t.grad_accum_steps,
          f"must be >= 1 and divide train.batch_size / device count ({t.batch_size} / {device_count})")
  for key in ("log_every_steps", "checkpoint_every_steps", "max_checkpoints_to_keep"):
    if c[key] < 1:
      _fail(key, c[key], "must be >= 1")
  if c.select_metric not in SELECT_METRICS:
    _fail("select_metric", c.select_metric, f"choose one of {SELECT_METRICS}")
  if c.eval_every_steps < 0:
    _fail("eval_every_steps", c.eval_every_steps, "must be >= 0 (0 = only at the end)")
  check_model_config(c.model, _model_probe(c))  # last: the probe takes the input settings checked above
