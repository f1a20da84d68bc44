"""Bad settings are refused before any work, with a message naming the setting."""


import pytest

from configs.csn import get_config
from tests.helpers.config_schema import schema_problems
from tests.helpers.runs import main
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
    ({"model__variant": "x"}, r"config.model.variant='x' is not one of \('ir', 'ip', 'dw2plus1d'\)"),
    ({"model__depth": 7}, r"config.model.depth=7 is not one of \[26, 50, 101, 152\]"),
    ({"model__pool": "max"}, r"config.model.pool='max' is not one of"),
    ({"model__pool": "grid", "model__grid": 9}, r"config.model.grid=9 must be between 1 and the last feature map's size"),
    ({"model__dropout": 1.5}, r"config.model.dropout=1.5 is invalid: must be in \[0, 1\)"),
    ({"model__stage_blocks": (1, 1)}, r"config.model \(csn\) cannot run on an input of \(8, 48, 48, 1\): ValueError: zip"),
    ({"dataset__name": "kinetics"},
     r"config.dataset.name='kinetics' .* \['features', 'hmdb51', 'synthetic_motion', 'ucf101', 'video_folder'\]"),
    ({"model__name": "vit"},
     r"config.model.name='vit' is not a model; choose one of \['cnn_lstm', 'csn', 'feature_head', 'frozen_features', "
     r"'mean_frame', 'video_resnet', 'video_vit'\]"),
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
  problems = schema_problems(c)
  assert not problems, f"{ref}: {problems}"
  runs = [pc for _, pc in sweep.points(c)] if "sweep" in c else [c]
  for rc in runs:
    assert not schema_problems(rc), ref
    config_lib.validate(rc, device_count=device_count)
  return runs


def test_every_config_file_loads_locked_within_the_schema_and_builds_its_model(repo_root, monkeypatch):
  import jax
  import jax.numpy as jnp

  from vidjax.models import build_model
  from vidjax.run import example_shape

  monkeypatch.chdir(repo_root)
  refs = _config_files(repo_root)
  assert len(refs) >= 17 and "configs/sweeps/hmdb51_study.py" in refs, refs
  for ref in refs:
    for c in check_config_file(ref):
      shape = (1, *example_shape(c))  # clips, or stored features for a feature_head
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


def test_command_line_refuses_typos_and_wrong_types_before_work(repo_root, tmp_path):
  workdir = tmp_path / "w"
  typo = main("--config=configs/csn.py", f"--workdir={workdir}", "--config.train.num_step=5", cwd=repo_root)
  assert typo.returncode != 0 and typo.stderr.strip().splitlines() == [
      "main.py: --config.train.num_step: config.train.num_step is not a setting; did you mean config.train.num_steps?"]
  section = main("--config=configs/csn.py", f"--workdir={workdir}", "--config.trian.num_steps=5", cwd=repo_root)
  assert section.stderr.strip().splitlines() == [
      "main.py: --config.trian.num_steps: config.trian is not a setting; did you mean config.train?"]
  wrong = main("--config=configs/csn.py", f"--workdir={workdir}", "--config.train.num_steps=abc", cwd=repo_root)
  assert wrong.returncode != 0 and "num_steps" in wrong.stderr and len(wrong.stderr.strip().splitlines()) == 1
  bad = main("--config=configs/csn.py", f"--workdir={workdir}", "--config.model.name=vit", cwd=repo_root)
  assert bad.returncode != 0 and "config.model.name='vit' is not a model" in bad.stderr.strip().splitlines()[-1]
  assert not workdir.exists()  # refused before anything was written


@pytest.mark.parametrize("config,setting,value,message", [
    ("csn", "variant", "x", "config.model.variant='x' is not one of"),
    ("r3d_18", "arch", "r4d", "config.model.arch='r4d' is not one of"),
    ("cnn_lstm_baseline", "backbone", "alexnet", "config.model.backbone='alexnet' is not one of"),
    ("cnn_lstm_baseline", "activation", "gelu", "config.model.activation='gelu' is not one of"),
    ("frozen_backbone", "head", "gru", "config.model.head='gru' is not one of"),
])
def test_a_bad_model_value_stops_main_before_any_data_is_made(config, setting, value, message, repo_root, tmp_path):
  """validate() traces the model on one example's shape before anything is listed: the cache stays empty."""
  import os

  cache = tmp_path / "cache"
  cache.mkdir()
  p = main(f"--config=configs/{config}.py", f"--workdir={tmp_path / 'w'}", f"--config.model.{setting}={value}",
           cwd=repo_root, env={**os.environ, "VIDJAX_CACHE_DIR": str(cache)})
  assert p.returncode == 1 and p.stderr.strip().splitlines()[-1].startswith("main.py: " + message), p.stderr[-2000:]
  assert list(cache.iterdir()) == [] and not (tmp_path / "w").exists()


def test_an_error_is_one_line_and_v1_adds_its_traceback(repo_root, tmp_path):
  args = ("--config=configs/csn.py", f"--workdir={tmp_path / 'w'}", "--config.dataset.name=ucf101",
          f"--config.dataset.data_dir={tmp_path / 'none'}")
  one = main(*args, cwd=repo_root)
  assert one.returncode == 1 and "Traceback" not in one.stderr
  assert one.stderr.strip().splitlines()[-1] == f"main.py: config.dataset.data_dir={str(tmp_path / 'none')!r} is " \
                                                "invalid: no such directory"
  full = main(*args, "-v", "1", cwd=repo_root)
  assert full.returncode == 1 and "Traceback (most recent call last)" in full.stderr
  assert "is invalid: no such directory" in full.stderr.split("Traceback (most recent call last)")[-1]


def _assignments(ref: str, repo_root, changed: dict[str, bool]) -> None:
  """Records, for file:line of every `c.x.y = value` run while `ref` loads, whether it changed the value (a line
  of a parametrised file such as zoo_small.py is loaded with every name it takes)."""
  import os

  import ml_collections

  original = ml_collections.ConfigDict.__setattr__
  configs_dir = str(repo_root / "configs")

  def recording(self, name, value):
    import sys

    frame = sys._getframe(1)
    while frame and "ml_collections" in frame.f_code.co_filename:
      frame = frame.f_back
    where = os.path.abspath(frame.f_code.co_filename) if frame else ""
    if where.startswith(configs_dir) and not name.startswith("_") and name in self:
      old = self[name]
      same = (old.to_dict() == value.to_dict() if isinstance(old, ml_collections.ConfigDict)
              and isinstance(value, ml_collections.ConfigDict) else old == value)
      key = f"{where[len(str(repo_root)) + 1:]}:{frame.f_lineno}"
      changed[key] = changed.get(key, False) or not same
    original(self, name, value)

  ml_collections.ConfigDict.__setattr__ = recording
  try:
    from configs import zoo_small

    for arg in (zoo_small.SMALL if ref.endswith("zoo_small.py") else [""]):
      config_lib.load_config_file(f"{ref}:{arg}" if arg else ref)
  finally:
    ml_collections.ConfigDict.__setattr__ = original


def test_every_config_file_states_only_what_it_changes_and_says_how_to_run_it(repo_root, monkeypatch):
  """No line of a config file sets a value it already has (from base_config or the config it starts from), and
  its docstring gives the command that runs it and the result to expect."""
  import ast

  monkeypatch.chdir(repo_root)
  changed: dict[str, bool] = {}
  for ref in _config_files(repo_root) + ["configs/common.py"]:
    if ref != "configs/common.py":
      _assignments(ref, repo_root, changed)
    doc = ast.get_docstring(ast.parse((repo_root / ref).read_text())) or ""
    if ref != "configs/common.py":
      assert f"--config={ref}" in doc or f"--config={ref}:" in doc, f"{ref}: its docstring names no command running it"
      assert "Expected" in doc, f"{ref}: its docstring says nothing of what to expect"
  restated = sorted(k for k, v in changed.items() if not v)
  assert changed and not restated, f"config lines that set a value the setting already had: {restated}"
