"""vidjax.train: the full loop, resume after SIGKILL, non-finite states, one trainer per workdir."""

import json
import os
import signal
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.helpers.runs import final_params, load_config, write_config
from vidjax import evaluate, steps, train
from vidjax import run as run_lib


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


@pytest.mark.slow
def test_sigkill_then_rerun_gives_the_uninterrupted_result(tiny_config, tmp_path, repo_root):
  """Kill -9 mid-run, rerun the same command: same final parameters as a run never stopped."""
  cfg_file = tmp_path / "resume_cfg.py"
  write_config(cfg_file, tiny_config, num_steps=24, every=4)
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

  config = load_config(cfg_file)
  p_a, b_a, step_a = final_params(config, str(straight))
  p_b, b_b, step_b = final_params(config, str(killed))
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

