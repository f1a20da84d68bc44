"""Helpers for sweep configs: a point that trains another zoo_small model with that model's own settings."""

from configs import zoo_small


def zoo_model(name: str) -> dict:
  """Overrides that turn the base into configs/zoo_small.py:<name> (model, sampling, class weights, learning
  rate, init prefix)."""
  c = zoo_small.get_config(name)
  return {"model": c.model, "input": {"train_sampling": c.input.train_sampling},
          "train": {"class_weights": c.train.class_weights, "learning_rate": c.train.learning_rate},
          "init": {"prefix": c.init.prefix}}


def merge(*overrides: dict) -> dict:
  """Nested overrides combined left to right."""
  out: dict = {}
  for o in overrides:
    for k, v in o.items():
      out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
  return out
