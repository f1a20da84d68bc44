"""Shapes-only facts about a model."""

import jax
import jax.numpy as jnp
import numpy as np


def count_params(model, shape=(1, 8, 32, 32, 3)) -> int:
  """Parameters of `model` initialised on an input of `shape` (jax.eval_shape: nothing is computed)."""
  v = jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros(shape)))
  return sum(int(np.prod(p.shape)) for p in jax.tree.leaves(v["params"]))


def balanced_accuracy_se(support: list[int], recall: float = 0.5) -> float:
  """The standard error of a balanced accuracy (the mean of per-class recalls) over test classes of these sizes
  when every class's recall is `recall`: sqrt(sum r (1 - r) / n_c) / C. The default, 0.5, bounds it for any
  recall; a model at chance has recall 1 / C."""
  c = len(support)
  return float(np.sqrt(sum(recall * (1 - recall) / n for n in support)) / c)
