"""The training path: steps, data parallelism, the full loop, evaluation and resume."""

import json
import os
import signal
import subprocess
import sys
import time
from functools import partial

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from vidjax import evaluate, losses, optim, sharding, steps, train
from vidjax import run as run_lib
from vidjax.models import build_model


def _init(model, tx, input_shape, seed=0, ema=False):
  """Compiled init: eager init of the CPU conv path runs op by op and takes seconds."""
  return jax.jit(partial(steps.init_state, model=model, tx=tx, input_shape=input_shape, ema=ema))(jax.random.key(seed))


def _model_state_batch(config, batch_size=8, seed=0):
  model = build_model(config.model, 8)
  tx, _ = optim.make_optimizer(config.train)
  shape = (batch_size, config.input.num_frames, config.input.frame_size, config.input.frame_size,
           config.input.channels)
  state = _init(model, tx, (1, *shape[1:]), seed)
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


def test_full_loop_writes_checkpoints_logs_and_report_then_eval_mode_matches(tiny_config, tmp_path):
  workdir = str(tmp_path / "run")
  result = train.train_and_evaluate(tiny_config, workdir)
  assert result["step"] == 6 and result["num_videos"] == 20
  for key in ("loss", "accuracy", "macro_f1", "weighted_f1"):
    assert np.isfinite(result[key])
  assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == ["3", "6"]
  assert any(f.startswith("events.out.tfevents") for f in os.listdir(workdir))
  with open(result["paths"]["metrics"]) as f:
    saved = json.load(f)
  assert saved["step"] == 6 and len(saved["confusion_matrix"]) == 8
  with open(result["paths"]["confusion_matrix"], "rb") as f:
    assert f.read(8) == b"\x89PNG\r\n\x1a\n"

  again = evaluate.evaluate_checkpoint(tiny_config, workdir)
  assert again["step"] == 6
  np.testing.assert_allclose(again["loss"], result["loss"], rtol=1e-5)
  assert again["confusion_matrix"] == result["confusion_matrix"]


def test_eval_without_checkpoint_says_train_first(tiny_config, tmp_path):
  with pytest.raises(FileNotFoundError, match="train first with the same --workdir"):
    evaluate.evaluate_checkpoint(tiny_config, str(tmp_path / "empty"))


def test_workdir_of_another_model_is_refused(tiny_config, tmp_path):
  workdir = str(tmp_path / "run")
  os.makedirs(workdir)
  with open(os.path.join(workdir, "config.json"), "w") as f:
    json.dump({"model": {"name": "mean_frame"}, "dataset": {}}, f)
  with pytest.raises(ValueError, match=r"different config\.model\.name: the run's is 'mean_frame', yours is 'csn'"):
    train.train_and_evaluate(tiny_config, workdir)


def _write_config(path, tiny_config, num_steps, every, extra=""):
  c = tiny_config
  path.write_text(
      "from configs.csn import get_config as base\n\n"
      "def get_config():\n"
      "  c = base()\n"
      f"  c.dataset.data_dir = {c.dataset.data_dir!r}\n"
      f"  c.dataset.store_dir = {c.dataset.store_dir!r}\n"
      f"  c.dataset.synthetic_groups = {c.dataset.synthetic_groups}\n"
      f"  c.dataset.synthetic_clips_per_group = {c.dataset.synthetic_clips_per_group}\n"
      f"  c.dataset.store_short_side = {c.dataset.store_short_side}\n"
      "  c.dataset.decode_workers = 1\n"
      f"  c.input.num_frames = {c.input.num_frames}\n"
      f"  c.input.frame_size = {c.input.frame_size}\n"
      "  c.input.loader_threads = 2\n"
      "  c.train.batch_size = 8\n"
      "  c.eval_batch_size = 8\n"
      "  c.model.dropout = 0.3  # dropout draws must also replay exactly\n"
      f"  c.train.num_steps = {num_steps}\n"
      "  c.train.warmup_steps = 2\n"
      "  c.log_every_steps = 5\n"
      f"  c.checkpoint_every_steps = {every}\n"
      f"{extra}"
      "  return c\n")


def _load_config(path):
  """The config a subprocess loaded from `path`."""
  import importlib.util

  spec = importlib.util.spec_from_file_location(path.stem, path)
  mod = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(mod)
  return mod.get_config()


def _final_params(config, workdir):
  run = run_lib.setup(config, workdir, train=False)
  state, meta = run.checkpointer.restore(run.state)
  run.checkpointer.close()
  return jax.device_get(state.params), jax.device_get(state.batch_stats), meta["step"]


@pytest.mark.slow
def test_sigkill_then_rerun_gives_the_uninterrupted_result(tiny_config, tmp_path, repo_root):
  """Kill -9 mid-run, rerun the same command: same final parameters as a run never stopped."""
  cfg_file = tmp_path / "resume_cfg.py"
  _write_config(cfg_file, tiny_config, num_steps=24, every=4)
  env = {**os.environ, "PYTHONPATH": str(repo_root)}

  def cmd(workdir):
    return [sys.executable, "main.py", f"--config={cfg_file}", f"--workdir={workdir}"]

  straight = tmp_path / "straight"
  subprocess.run(cmd(straight), cwd=repo_root, env=env, check=True, capture_output=True, timeout=300)

  killed = tmp_path / "killed"
  proc = subprocess.Popen(cmd(killed), cwd=repo_root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  deadline = time.time() + 240
  while not (killed / "checkpoints" / "8").is_dir() and time.time() < deadline and proc.poll() is None:
    time.sleep(0.05)
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  done = sorted(int(d) for d in os.listdir(killed / "checkpoints") if d.isdigit())
  assert done and done[-1] < 24, f"the run was not interrupted mid-way: {done}"

  rerun = subprocess.run(cmd(killed), cwd=repo_root, env=env, capture_output=True, text=True, timeout=300)
  assert rerun.returncode == 0, rerun.stderr[-3000:]
  assert f"at step {done[-1]}" in rerun.stderr and "Resumed from" in rerun.stderr

  config = _load_config(cfg_file)
  p_a, b_a, step_a = _final_params(config, str(straight))
  p_b, b_b, step_b = _final_params(config, str(killed))
  assert step_a == step_b == 24
  for a, b in zip(jax.tree.leaves((p_a, b_a)), jax.tree.leaves((p_b, b_b)), strict=True):
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_non_finite_loss_stops_naming_step_and_last_checkpoint(tiny_config, tmp_path):
  tiny_config.train.learning_rate = 1e30
  tiny_config.train.warmup_steps = 0
  tiny_config.train.schedule = "constant"
  tiny_config.train.num_steps = 12
  tiny_config.log_every_steps = 3
  with pytest.raises(FloatingPointError, match=r"Non-finite training loss at step \d+; newest finite checkpoint: "):
    train.train_and_evaluate(tiny_config, str(tmp_path / "run"))


def test_a_non_finite_state_is_never_saved(tiny_config, tmp_path, monkeypatch):
  """A NaN planted in the parameters after the last step (the loss of that step is still finite): the final
  checkpoint is refused, and the error names the step and the newest finite checkpoint, which stays intact."""
  real = steps.train_step_from_config

  def planted(config, mesh, class_weights, donate=True):
    step_fn = real(config, mesh, class_weights, donate)

    def step(state, batch, rng):
      state, m = step_fn(state, batch, rng)
      if int(state.step) == 6:
        state = state.replace(params=jax.tree.map(lambda p: p.at[(0,) * p.ndim].set(jnp.nan), state.params))
      return state, m
    return step

  monkeypatch.setattr(steps, "train_step_from_config", planted)
  workdir = tmp_path / "run"
  with pytest.raises(FloatingPointError, match=r"Non-finite parameters, statistics or optimizer state at step 6; not "
                                               r"saved\. Newest finite checkpoint: .*checkpoints/3\. "):
    train.train_and_evaluate(tiny_config, str(workdir))
  assert sorted(os.listdir(workdir / "checkpoints")) == ["3"]
  run = run_lib.setup(tiny_config, str(workdir), train=False)
  state, meta = run.checkpointer.restore(run.state)
  assert meta["step"] == 3 and bool(steps.all_finite(state))


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
  state = _init(model, tx, (1, 8, 32, 32, 1))
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
    state = _init(model, tx, (1, *batch["video"].shape[1:]))
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
  state = _init(model, tx, (1, *batch["video"].shape[1:]), ema=True)
  mesh = sharding.make_mesh()
  f = steps.make_train_step(class_weights=jnp.ones(8), ema_decay=0.9, donate=False)
  new, _ = f(state, sharding.to_global(batch, mesh), jax.random.key(0))
  for e, p0, p1 in zip(jax.tree.leaves(new.ema_params), jax.tree.leaves(state.params), jax.tree.leaves(new.params),
                       strict=True):
    np.testing.assert_allclose(e, 0.9 * p0 + 0.1 * p1, rtol=1e-5, atol=1e-7)
  assert steps.eval_params(new) is new.ema_params and steps.eval_params(state.replace(ema_params=None)) is state.params


def test_step_schedule_decays_in_stairs(tiny_config):
  t = tiny_config.train
  t.schedule, t.warmup_steps, t.learning_rate, t.step_decay_every, t.step_decay_factor = "step", 2, 1.0, 3, 0.1
  _, lr = optim.make_optimizer(t)
  np.testing.assert_allclose([float(lr(s)) for s in range(9)], [0, 0.5, 1, 1, 1, 0.1, 0.1, 0.1, 0.01], rtol=1e-6)


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


def test_a_second_training_in_the_same_workdir_is_refused_until_the_first_dies(tiny_config, tmp_path, repo_root):
  from vidjax.workdir_lock import WorkdirBusyError, WorkdirLock

  workdir = tmp_path / "run"
  holder = subprocess.Popen(
      [sys.executable, "-c", "import sys, time; from vidjax.workdir_lock import WorkdirLock; "
       "WorkdirLock(sys.argv[1]); print('held', flush=True); time.sleep(120)", str(workdir)],
      cwd=repo_root, env={**os.environ, "PYTHONPATH": str(repo_root)}, stdout=subprocess.PIPE, text=True)
  try:
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(WorkdirBusyError, match=rf"is in use by process {holder.pid} on .* since .*\.lock\); wait"):
      train.train_and_evaluate(tiny_config, str(workdir))
    assert not (workdir / "config.json").exists()  # refused before anything was written
  finally:
    holder.send_signal(signal.SIGKILL)  # a killed holder leaves its lock file; the kernel dropped the lock
    holder.wait()
  assert (workdir / ".lock").exists()
  WorkdirLock(str(workdir)).release()  # taken over (training takes it the same way, in run.setup)
