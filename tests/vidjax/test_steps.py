"""vidjax.steps: the pure steps and their one jit factory, on 1 and 8 devices."""








import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.helpers.runs import init
from vidjax import losses, optim, sharding, steps
from vidjax.models import build_model


def _model_state_batch(config, batch_size=8, seed=0):
  model = build_model(config.model, 8)
  tx, _ = optim.make_optimizer(config.train)
  shape = (batch_size, config.input.num_frames, config.input.frame_size, config.input.frame_size,
           config.input.channels)
  state = init(model, tx, (1, *shape[1:]), seed)
  rng = np.random.default_rng(seed)
  batch = {"video": rng.integers(0, 255, shape, dtype=np.uint8), "label": rng.integers(0, 8, batch_size).astype(np.int32)}
  return state, batch


def _step_fn(mesh, weights):
  return steps.make_train_step(mesh, class_weights=weights, donate=False)


@pytest.mark.slow
def test_train_steps_lower_the_loss(tiny_config):
  tiny_config.train.learning_rate = 1e-2
  tiny_config.train.warmup_steps = 0
  tiny_config.train.schedule = "constant"
  state, batch = _model_state_batch(tiny_config)
  mesh = sharding.make_mesh()
  f = _step_fn(mesh, np.ones(8, np.float32))
  batch = sharding.to_global(batch, mesh)
  losses = []
  for _ in range(12):
    state, m = f(state, batch, jax.random.key(0))
    losses.append(float(m.compute()["loss"]))
  assert losses[-1] < 0.5 * losses[0], losses  # one batch, memorised


def test_one_step_is_the_same_on_1_and_8_devices(tiny_config):
  assert jax.device_count() == 8
  state, batch = _model_state_batch(tiny_config)
  weights = np.array([0.3, 1, 2, 1, 1, 4, 1, 0.5], np.float32)  # a per-device normaliser would break this
  results = []
  for devices in (jax.devices()[:1], jax.devices()):
    mesh = sharding.make_mesh(devices)
    s = jax.device_put(state, sharding.replicated(mesh))
    new, m = _step_fn(mesh, weights)(s, sharding.to_global(batch, mesh), jax.random.key(3))
    results.append((jax.device_get(new.params), jax.device_get(new.batch_stats), float(m.compute()["loss"])))
  (p1, b1, l1), (p8, b8, l8) = results
  np.testing.assert_allclose(l1, l8, rtol=1e-5)
  for a, b in zip(jax.tree.leaves((p1, b1)), jax.tree.leaves((p8, b8)), strict=True):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


class _NoBatchNorm(nn.Module):
  """Without BatchNorm, micro-batching must not change the update at all."""

  @nn.compact
  def __call__(self, x, train=False):
    x = nn.Dense(16)(x.mean(axis=(1, 2, 3)))
    x = nn.Dropout(0.0, deterministic=not train)(nn.relu(x))
    return nn.Dense(8)(x)


def test_gradient_accumulation_equals_the_full_batch(tiny_config):
  model = _NoBatchNorm()
  tx, _ = optim.make_optimizer(tiny_config.train)
  state = init(model, tx, (1, 8, 32, 32, 1))
  rng = np.random.default_rng(0)
  batch = {"video": rng.integers(0, 255, (16, 8, 32, 32, 1), dtype=np.uint8),
           "label": rng.integers(0, 8, 16).astype(np.int32)}
  weights = np.array([0.3, 1, 2, 1, 1, 4, 1, 0.5], np.float32)
  mesh = sharding.make_mesh()
  out = {}
  for k in (1, 4):
    f = steps.make_train_step(mesh, class_weights=weights, label_smoothing=0.1, accum_steps=k, donate=False)
    new, m = f(jax.device_put(state, sharding.replicated(mesh)), sharding.to_global(batch, mesh), jax.random.key(1))
    out[k] = (jax.device_get(new.params), m.compute())
  np.testing.assert_allclose(out[4][1]["loss"], out[1][1]["loss"], rtol=1e-5)
  np.testing.assert_allclose(out[4][1]["accuracy"], out[1][1]["accuracy"])
  for a, b in zip(jax.tree.leaves(out[4][0]), jax.tree.leaves(out[1][0]), strict=True):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_bfloat16_compute_and_remat_train_like_float32(tiny_config):
  """bf16 activations keep float32 parameters and land close; remat changes memory, not results."""
  _, batch = _model_state_batch(tiny_config)
  mesh = sharding.make_mesh()
  results = {}
  for name, dtype, remat in (("f32", "float32", False), ("bf16", "bfloat16", False), ("remat", "float32", True)):
    tiny_config.model.remat = remat
    model = build_model(tiny_config.model, 8, dtype)
    tx, _ = optim.make_optimizer(tiny_config.train)
    state = init(model, tx, (1, *batch["video"].shape[1:]))
    assert all(p.dtype == jnp.float32 for p in jax.tree.leaves(state.params))
    new, m = _step_fn(mesh, np.ones(8, np.float32))(jax.device_put(state, sharding.replicated(mesh)),
                                                     sharding.to_global(batch, mesh), jax.random.key(0))
    results[name] = (float(m.compute()["loss"]), jax.device_get(new.params))
  assert abs(results["bf16"][0] - results["f32"][0]) < 0.05 * results["f32"][0]
  np.testing.assert_allclose(results["remat"][0], results["f32"][0], rtol=1e-5)
  for a, b in zip(jax.tree.leaves(results["remat"][1]), jax.tree.leaves(results["f32"][1]), strict=True):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_ema_tracks_parameters_and_is_what_eval_uses(tiny_config):
  state, batch = _model_state_batch(tiny_config)
  model = build_model(tiny_config.model, 8)
  tx, _ = optim.make_optimizer(tiny_config.train)
  state = init(model, tx, (1, *batch["video"].shape[1:]), ema=True)
  mesh = sharding.make_mesh()
  f = steps.make_train_step(class_weights=jnp.ones(8), ema_decay=0.9, donate=False)
  new, _ = f(state, sharding.to_global(batch, mesh), jax.random.key(0))
  for e, p0, p1 in zip(jax.tree.leaves(new.ema_params), jax.tree.leaves(state.params), jax.tree.leaves(new.params),
                       strict=True):
    np.testing.assert_allclose(e, 0.9 * p0 + 0.1 * p1, rtol=1e-5, atol=1e-7)
  assert steps.eval_params(new) is new.ema_params and steps.eval_params(state.replace(ema_params=None)) is state.params


def test_mixup_blends_clips_and_losses_with_one_lam(tiny_config):
  """The step's loss equals lam * loss(y) + (1 - lam) * loss(mirrored y) on the blended clips, computed here
  from the model directly with the lam the step draws."""
  state, batch = _model_state_batch(tiny_config)
  weights = jnp.asarray([0.3, 1, 2, 1, 1, 4, 1, 0.5], jnp.float32)
  alpha, rng = 0.4, jax.random.key(3)
  f = steps.make_train_step(class_weights=weights, mixup_alpha=alpha, donate=False)
  _, m = f(state, batch, rng)
  lam = jax.random.beta(jax.random.fold_in(jax.random.fold_in(rng, state.step), 7), alpha, alpha)
  assert 0 < float(lam) < 1

  @jax.jit
  def reference(state, video, y):
    x = steps.normalize(video, 0.45, 0.225)
    x = lam * x + (1 - lam) * x[::-1]
    logits, _ = state.apply_fn({"params": state.params, "batch_stats": state.batch_stats}, x, train=True,
                               rngs={"dropout": jax.random.fold_in(rng, state.step)}, mutable=["batch_stats"])
    return lam * losses.weighted_cross_entropy(logits, y, weights) + (1 - lam) * losses.weighted_cross_entropy(
        logits, y[::-1], weights)  # sum(w) is the same for y and its mirror
  want = reference(state, jnp.asarray(batch["video"]), jnp.asarray(batch["label"]))
  np.testing.assert_allclose(float(m.compute()["loss"]), float(want), rtol=1e-5)
  _, plain = steps.make_train_step(class_weights=weights, donate=False)(state, batch, rng)
  assert abs(float(plain.compute()["loss"]) - float(want)) > 1e-3

