"""Optimizer and learning-rate schedule from `config.train`."""

from __future__ import annotations

import jax
import ml_collections
import optax


def _decay_mask(params):
  """Decay kernels only: BatchNorm scales and biases are left alone."""
  return jax.tree.map(lambda p: p.ndim > 1, params)


def is_frozen(top_level_module: str) -> bool:
  """Parameters under a top-level `frozen_*` module (a frozen feature extractor) are never updated."""
  return top_level_module.startswith("frozen")


def _frozen_mask(params):
  def mark(name, subtree):
    frozen = is_frozen(name)
    return jax.tree.map(lambda _: frozen, subtree)
  return {k: mark(k, v) for k, v in params.items()}


def learning_rate_schedule(t: ml_collections.ConfigDict) -> optax.Schedule:
  if t.schedule == "constant":
    decay = optax.constant_schedule(t.learning_rate)
  elif t.schedule == "step":
    decay = optax.exponential_decay(t.learning_rate, t.step_decay_every, t.step_decay_factor, staircase=True)
  else:
    decay = optax.cosine_decay_schedule(t.learning_rate, max(1, t.num_steps - t.warmup_steps))
  if not t.warmup_steps:
    return decay
  warmup = optax.linear_schedule(0.0, t.learning_rate, t.warmup_steps)
  return optax.join_schedules([warmup, decay], [t.warmup_steps])


def make_optimizer(t: ml_collections.ConfigDict) -> tuple[optax.GradientTransformation, optax.Schedule]:
  lr = learning_rate_schedule(t)
  if t.optimizer == "adamw":
    opt = optax.adamw(lr, weight_decay=t.weight_decay, mask=_decay_mask)
  else:
    opt = optax.chain(optax.add_decayed_weights(t.weight_decay, mask=_decay_mask),
                      optax.sgd(lr, momentum=t.momentum, nesterov=True))
  if t.grad_clip_norm > 0:
    opt = optax.chain(optax.clip_by_global_norm(t.grad_clip_norm), opt)
  # last, so that neither the gradient step nor weight decay moves a frozen parameter
  return optax.chain(opt, optax.masked(optax.set_to_zero(), _frozen_mask)), lr
