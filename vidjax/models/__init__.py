"""Model registry: configs name a model; this is the only place that builds one."""

from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax.numpy as jnp
import ml_collections

from vidjax.models.cnn_lstm import CNNLSTM
from vidjax.models.csn import CSN
from vidjax.models.feature_head import FeatureHead
from vidjax.models.frozen_features import FrozenFeatureHead
from vidjax.models.mean_frame import MeanFrameCNN
from vidjax.models.video_resnet import VideoResNet

MODELS: dict[str, type[nn.Module]] = {
    "cnn_lstm": CNNLSTM,
    "csn": CSN,
    "feature_head": FeatureHead,
    "frozen_features": FrozenFeatureHead,
    "mean_frame": MeanFrameCNN,
    "video_resnet": VideoResNet,
}


_SET_BY_TRAINER = ("parent", "name", "num_classes", "dtype")


def model_fields(name: str) -> set[str]:
  cls = MODELS[name]
  return {f.name for f in dataclasses.fields(cls) if f.init and f.name not in _SET_BY_TRAINER}


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


def check_model_config(cfg: ml_collections.ConfigDict) -> None:
  """Raises ValueError naming the setting when `config.model` cannot build a model."""
  if cfg.name not in MODELS:
    raise ValueError(f"config.model.name={cfg.name!r} is not a model; choose one of {sorted(MODELS)}")
  unknown = set(cfg.keys()) - {"name"} - model_fields(cfg.name)
  if unknown:
    raise ValueError(f"config.model has settings {sorted(unknown)} that model {cfg.name!r} does not take; "
                     f"it takes {sorted(model_fields(cfg.name))}")


def build_model(cfg: ml_collections.ConfigDict, num_classes: int, compute_dtype: str = "float32") -> nn.Module:
  """compute_dtype (config.train.compute_dtype) sets activations; parameters stay float32."""
  check_model_config(cfg)
  kwargs = {k: v for k, v in cfg.items() if k != "name"}
  dtype = None if compute_dtype == "float32" else jnp.dtype(compute_dtype)
  return MODELS[cfg.name](num_classes=num_classes, dtype=dtype, **kwargs)
