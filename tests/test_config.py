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
     r"config.dataset.name='kinetics' .* \['hmdb51', 'synthetic_motion', 'ucf101', 'video_folder'\]"),
    ({"model__name": "vit"},
     r"config.model.name='vit' is not a model; choose one of \['cnn_lstm', 'csn', 'frozen_features', 'mean_frame', "
     r"'video_resnet'\]"),
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


def test_unknown_model_setting_is_refused():
  c = get_config()
  with c.unlocked():
    c.model.lstm_hidden = 50
  with pytest.raises(ValueError, match=r"config.model has settings \['lstm_hidden'\] that model 'csn' does not take"):
    config_lib.validate(c)


def test_every_config_file_is_valid_and_builds_its_model():
  import importlib
  import pathlib

  import jax
  import jax.numpy as jnp

  from vidjax.models import build_model

  names = sorted(p.stem for p in (pathlib.Path(__file__).parent.parent / "configs").glob("*.py")
                 if p.stem not in ("__init__", "common"))
  assert len(names) >= 14, names
  for name in names:
    c = importlib.import_module(f"configs.{name}").get_config()
    config_lib.validate(c, device_count=8)
    shape = (1, c.input.num_frames, c.input.frame_size, c.input.frame_size, c.input.channels)
    model = build_model(c.model, 101)
    out = jax.eval_shape(lambda m=model, s=shape: m.apply(m.init(jax.random.key(0), jnp.zeros(s)), jnp.zeros(s)))
    assert out.shape == (1, 101), name


def _main(*args, cwd):
  return subprocess.run([sys.executable, "main.py", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_command_line_refuses_typos_and_wrong_types_before_work(repo_root, tmp_path):
  workdir = tmp_path / "w"
  typo = _main("--config=configs/csn.py", f"--workdir={workdir}", "--config.train.num_step=5", cwd=repo_root)
  assert typo.returncode != 0 and "num_step" in typo.stderr
  wrong = _main("--config=configs/csn.py", f"--workdir={workdir}", "--config.train.num_steps=abc", cwd=repo_root)
  assert wrong.returncode != 0 and "num_steps" in wrong.stderr
  bad = _main("--config=configs/csn.py", f"--workdir={workdir}", "--config.model.name=vit", cwd=repo_root)
  assert bad.returncode != 0 and "config.model.name='vit' is not a model" in bad.stderr
  assert not workdir.exists()  # refused before anything was written
