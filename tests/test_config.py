"""Bad settings are refused before any work, with a message naming the setting."""

import subprocess
import sys

import pytest

from configs.csn import get_config
from vidjax import config as config_lib


def _bad(**overrides):
  c = get_config()
  for dotted, value in overrides.items():
    node = c
    *path, last = dotted.split("__")
    for p in path:
      node = node[p]
    node[last] = value
  return c


@pytest.mark.parametrize("overrides,message", [
    ({"dataset__name": "kinetics"},
     r"config.dataset.name='kinetics' .* \['features', 'hmdb51', 'synthetic_motion', 'ucf101', 'video_folder'\]"),
    ({"model__name": "vit"},
     r"config.model.name='vit' is not a model; choose one of \['cnn_lstm', 'csn', 'feature_head', 'frozen_features', "
     r"'mean_frame', 'video_resnet'\]"),
    ({"dataset__name": "ucf101"}, r"config.dataset.data_dir='' .* set it to the dataset root"),
    ({"dataset__name": "ucf101", "dataset__data_dir": "/no/such/dir"}, r"config.dataset.data_dir='/no/such/dir'.*no such"),
    ({"dataset__split": 4}, r"config.dataset.split=4"),
    ({"input__flip": True}, r"config.input.flip=True .* swap"),
    ({"input__train_sampling": "random"}, r"config.input.train_sampling='random'"),
    ({"input__crop_scale": (0.5, 1.5)}, r"config.input.crop_scale"),
    ({"train__optimizer": "lamb"}, r"config.train.optimizer='lamb' .* \('adamw', 'sgd'\)"),
    ({"train__warmup_steps": 5000}, r"config.train.warmup_steps=5000"),
    ({"train__class_weights": "inverse"}, r"config.train.class_weights='inverse'"),
    ({"train__batch_size": 12}, r"config.train.batch_size=12 .* multiple of the device count \(8\)"),
    ({"dataset__eval_split": "val"}, r"config.dataset.eval_split='val' .* needs dataset.val_fraction > 0"),
    ({"dataset__val_fraction": 1.5}, r"config.dataset.val_fraction=1.5"),
    ({"train__compute_dtype": "float16"}, r"config.train.compute_dtype='float16' .* \('float32', 'bfloat16'\)"),
    ({"train__grad_accum_steps": 3}, r"config.train.grad_accum_steps=3 .* \(16 / 8\)"),
    ({"train__schedule": "step"}, r"config.train.step_decay_every=0 .* the step schedule needs it >= 1"),
    ({"train__ema_decay": 1.0}, r"config.train.ema_decay=1.0 .* \[0, 1\)"),
])
def test_bad_values_are_refused_by_name(overrides, message):
  with pytest.raises(ValueError, match=message):
    config_lib.validate(_bad(**overrides), process_count=1, device_count=8)


def test_base_config_is_locked_and_model_settings_come_from_the_model():
  from vidjax.models import model_config

  c = config_lib.base_config("cnn_lstm")
  assert c.is_locked and c.model.is_locked and c.model.lstm_hidden == 256
  with pytest.raises(AttributeError, match="lstm_hiden"):
    c.model.lstm_hiden = 5
  with pytest.raises(ValueError, match=r"model 'csn' does not take \['lstm_hidden'\]"):
    model_config("csn", lstm_hidden=3)


def test_unknown_model_setting_is_refused():
  c = get_config()
  with c.unlocked():
    c.model.lstm_hidden = 50
  with pytest.raises(ValueError, match=r"config.model has settings \['lstm_hidden'\] that model 'csn' does not take"):
    config_lib.validate(c)


def _config_files(repo_root):
  """Every config file, as --config would name it (workdir.py needs a run; it is tested in test_research_loop)."""
  files = sorted(p for p in (repo_root / "configs").rglob("*.py")
                 if p.stem not in ("__init__", "common", "workdir"))
  return [str(p.relative_to(repo_root)) for p in files]


def check_config_file(ref: str, device_count: int = 8) -> list:
  """What the config test asks of a config file: it loads (locked, so a key the schema lacks fails where it is
  written), every key is in the schema, and it validates. Returns the run configs (a sweep's points)."""
  from vidjax import sweep

  c = config_lib.load_config_file(ref)
  assert c.is_locked and c.model.is_locked, ref
  problems = config_lib.schema_problems(c)
  assert not problems, f"{ref}: {problems}"
  runs = [pc for _, pc in sweep.points(c)] if "sweep" in c else [c]
  for rc in runs:
    assert not config_lib.schema_problems(rc), ref
    config_lib.validate(rc, device_count=device_count)
  return runs


def test_every_config_file_loads_locked_within_the_schema_and_builds_its_model(repo_root, monkeypatch):
  import jax
  import jax.numpy as jnp

  from vidjax.models import build_model
  from vidjax.run import input_shape

  monkeypatch.chdir(repo_root)
  refs = _config_files(repo_root)
  assert len(refs) >= 17 and "configs/sweeps/hmdb51_study.py" in refs, refs
  for ref in refs:
    for c in check_config_file(ref):
      shape = input_shape(c)  # clips, or stored features for a feature_head
      model = build_model(c.model, 101)
      out = jax.eval_shape(lambda m=model, s=shape: m.apply(m.init(jax.random.key(0), jnp.zeros(s)), jnp.zeros(s)))
      assert out.shape == (1, 101), ref


def test_a_config_file_with_a_misspelt_key_fails_the_config_test(tmp_path, repo_root, monkeypatch):
  monkeypatch.chdir(repo_root)
  bad = tmp_path / "typo.py"
  bad.write_text("from configs.csn import get_config as base\n\n"
                 "def get_config():\n  c = base()\n  c.train.learnig_rate = 0.1\n  return c\n")
  with pytest.raises(AttributeError, match="learnig_rate"):
    check_config_file(str(bad))
  # a file that unlocks to add a key is caught by the schema check instead
  sneaky = tmp_path / "sneaky.py"
  sneaky.write_text("from configs.csn import get_config as base\n\n"
                    "def get_config():\n  c = base()\n  with c.unlocked():\n    c.train.learnig_rate = 0.1\n"
                    "  c.lock()\n  return c\n")
  with pytest.raises(AssertionError, match=r"config.train.learnig_rate is not a setting; did you mean "
                                           r"config.train.learning_rate\?"):
    check_config_file(str(sneaky))
  # a sweep point naming a setting that does not exist fails when the sweep config loads
  from configs.csn import get_config
  from vidjax import sweep
  with pytest.raises(ValueError, match=r"sweep point 'p': config.model.dropuot is not a setting; did you mean "
                                       r"config.model.dropout\?"):
    sweep.sweep(get_config(), {"p": {"model": {"dropuot": 0.3}}})


def _main(*args, cwd):
  return subprocess.run([sys.executable, "main.py", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_command_line_refuses_typos_and_wrong_types_before_work(repo_root, tmp_path):
  workdir = tmp_path / "w"
  typo = _main("--config=configs/csn.py", f"--workdir={workdir}", "--config.train.num_step=5", cwd=repo_root)
  assert typo.returncode != 0 and typo.stderr.strip().splitlines() == [
      "main.py: --config.train.num_step: config.train.num_step is not a setting; did you mean config.train.num_steps?"]
  section = _main("--config=configs/csn.py", f"--workdir={workdir}", "--config.trian.num_steps=5", cwd=repo_root)
  assert section.stderr.strip().splitlines() == [
      "main.py: --config.trian.num_steps: config.trian is not a setting; did you mean config.train?"]
  wrong = _main("--config=configs/csn.py", f"--workdir={workdir}", "--config.train.num_steps=abc", cwd=repo_root)
  assert wrong.returncode != 0 and "num_steps" in wrong.stderr and len(wrong.stderr.strip().splitlines()) == 1
  bad = _main("--config=configs/csn.py", f"--workdir={workdir}", "--config.model.name=vit", cwd=repo_root)
  assert bad.returncode != 0 and "config.model.name='vit' is not a model" in bad.stderr.strip().splitlines()[-1]
  assert not workdir.exists()  # refused before anything was written
