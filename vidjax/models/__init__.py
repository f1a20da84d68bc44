"""Model registry, the only place that builds a model: configs name a family (MODELS, `config.model`), weight
import and feature extraction name a published architecture (ARCHS), and the style transfer its networks."""

from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from vidjax.models.backbones2d import ResNet2D
from vidjax.models.cnn_lstm import CNNLSTM
from vidjax.models.csn import CSN
from vidjax.models.cyclegan import ResnetGenerator
from vidjax.models.feature_head import FeatureHead
from vidjax.models.frozen_features import FrozenFeatureHead
from vidjax.models.googlenet import GoogLeNet
from vidjax.models.mean_frame import MeanFrameCNN
from vidjax.models.vgg19 import VGG19Features
from vidjax.models.video_resnet import VideoResNet
from vidjax.models.video_vit import VideoViT

MODELS: dict[str, type[nn.Module]] = {
    "cnn_lstm": CNNLSTM,
    "csn": CSN,
    "feature_head": FeatureHead,
    "frozen_features": FrozenFeatureHead,
    "mean_frame": MeanFrameCNN,
    "video_resnet": VideoResNet,
    "video_vit": VideoViT,
}
_READS_FEATURES = ("feature_head",)  # every other family reads video clips

# published architecture -> (module, its settings, an input shape to initialise it with)
ARCHS: dict[str, tuple[type[nn.Module], dict, tuple[int, ...]]] = {
    "r2plus1d_18": (VideoResNet, {"arch": "r2plus1d", "depth": 18}, (1, 4, 32, 32, 3)),
    "r3d_18": (VideoResNet, {"arch": "r3d", "depth": 18}, (1, 4, 32, 32, 3)),
    "mc3_18": (VideoResNet, {"arch": "mc3", "depth": 18}, (1, 4, 32, 32, 3)),
    "resnet18": (ResNet2D, {}, (1, 32, 32, 3)),
    "googlenet": (GoogLeNet, {}, (1, 32, 32, 3)),
    "vgg19": (VGG19Features, {}, (1, 32, 32, 3)),  # only `features` (Gatys style transfer)
    "cyclegan": (ResnetGenerator, {}, (1, 32, 32, 3)),  # the official CycleGAN release's generator
}
CLASSIFIER_ARCHS = ("r2plus1d_18", "r3d_18", "mc3_18", "resnet18", "googlenet")  # take num_classes (0: features)
FEATURE_DIMS = {"googlenet": 1024, "resnet18": 512}  # ImageNet 2D backbones --mode=extract runs, per frame

_SET_BY_TRAINER = ("parent", "name", "num_classes", "dtype")


def build_arch(arch: str, num_classes: int = 0, **settings) -> tuple[nn.Module, tuple[int, ...]]:
  """A published architecture's module (num_classes=0: its pooled features, for classifiers) and an input shape
  to initialise it with."""
  if arch not in ARCHS:
    raise ValueError(f"--arch={arch!r} is not one of {sorted(ARCHS)}")
  cls, fixed, shape = ARCHS[arch]
  if arch in CLASSIFIER_ARCHS:
    settings = {**settings, "num_classes": num_classes}
  return cls(**fixed, **settings), shape


def model_fields(name: str) -> set[str]:
  cls = MODELS[name]
  return {f.name for f in dataclasses.fields(cls) if f.init and f.name not in _SET_BY_TRAINER}


def reads(cfg: ml_collections.ConfigDict) -> str:
  """What a family's model takes: "frames" (clips [B, T, H, W, C]) or "features" (stored [B, N, D])."""
  return "features" if cfg.name in _READS_FEATURES else "frames"


def model_config(name: str, **values) -> ml_collections.ConfigDict:
  """`config.model` for one family: its name and every setting the model takes, at the model's defaults, locked.

  The schema of `config.model` is the model's own dataclass: a setting the model does not take cannot be set.
  """
  if name not in MODELS:
    raise ValueError(f"config.model.name={name!r} is not a model; choose one of {sorted(MODELS)}")
  fields = {f.name: f.default for f in dataclasses.fields(MODELS[name]) if f.name in model_fields(name)}
  unknown = set(values) - set(fields)
  if unknown:
    raise ValueError(f"model {name!r} does not take {sorted(unknown)}; it takes {sorted(fields)}")
  c = ml_collections.ConfigDict({"name": name, **fields, **values})
  c.lock()
  return c


def check_model_config(cfg: ml_collections.ConfigDict, example_shape: tuple[int, ...] | None = None) -> None:
  """Raises ValueError naming the setting when `config.model` cannot build a model. With `example_shape` the model
  is also traced on it (shapes only: nothing is computed), so every value its layers check is checked."""
  _check_fields(cfg)
  if "dropout" in cfg and not 0 <= cfg.dropout < 1:
    raise ValueError(f"config.model.dropout={cfg.dropout!r} is invalid: must be in [0, 1)")
  if example_shape is None:
    return
  model = build_model(cfg, num_classes=2)
  x = jax.ShapeDtypeStruct((1, *example_shape), jnp.float32)
  try:
    jax.eval_shape(lambda x: model.init(jax.random.key(0), x, train=False), x)
  except ValueError as e:
    if str(e).startswith("config."):  # the model named the setting
      raise
    problem = e
  except Exception as e:  # settings that do not fit together or an input too small for the strides
    problem = e
  else:
    return
  raise ValueError(f"config.model ({cfg.name}) cannot run on an input of {tuple(example_shape)}: "
                   f"{type(problem).__name__}: {' '.join(str(problem).split())[:300]}; check its settings "
                   "(lengths of per-stage tuples, widths, strides) and config.input") from None


def _check_fields(cfg: ml_collections.ConfigDict) -> None:
  if cfg.name not in MODELS:
    raise ValueError(f"config.model.name={cfg.name!r} is not a model; choose one of {sorted(MODELS)}")
  unknown = set(cfg.keys()) - {"name"} - model_fields(cfg.name)
  if unknown:
    raise ValueError(f"config.model has settings {sorted(unknown)} that model {cfg.name!r} does not take; "
                     f"it takes {sorted(model_fields(cfg.name))}")


def build_model(cfg: ml_collections.ConfigDict, num_classes: int, compute_dtype: str = "float32") -> nn.Module:
  """compute_dtype (config.train.compute_dtype) sets activations; parameters stay float32."""
  _check_fields(cfg)
  kwargs = {k: v for k, v in cfg.items() if k != "name"}
  dtype = None if compute_dtype == "float32" else jnp.dtype(compute_dtype)
  return MODELS[cfg.name](num_classes=num_classes, dtype=dtype, **kwargs)
