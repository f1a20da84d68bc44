"""`--mode=summary`: the per-layer table adds up and matches the model."""

import jax
import numpy as np

from configs.csn import get_config
from vidjax import summary
from vidjax.models import build_model


def test_summary_rows_add_up_and_follow_call_order():
  c = get_config()
  model = build_model(c.model, 8)
  shape = (1, 8, 48, 48, 1)
  s = summary.summarize(model, shape)
  assert [r["layer"] for r in s["rows"]] == ["stem_conv", "stem_bn", "stage1_block1", "stage2_block1",
                                             "stage3_block1", "head"]
  # stem stride 2 then the stem's 1x3x3 max pool, stride 2: 48 -> 24 -> 12
  assert s["rows"][2]["output"] == (8, 12, 12, 32) and s["rows"][-1]["output"] == (8,)
  variables = model.init(jax.random.key(0), np.zeros(shape, np.float32))
  assert s["parameters"] == sum(p.size for p in jax.tree.leaves(variables["params"])) == 52_344
  assert abs(s["gflops_per_clip"] - 0.023) < 0.003
  text = summary.format_summary("csn", shape, s)
  assert "total parameters 52,344" in text and "stage3_block1" in text


def test_summary_of_a_cnn_lstm_shows_the_lstm_sequence():
  from configs.cnn_lstm_bn_leaky import get_config as lstm_config

  c = lstm_config()
  s = summary.summarize(build_model(c.model, 51), (1, 16, 112, 112, 3))
  rows = {r["layer"]: r for r in s["rows"]}
  assert list(rows) == ["backbone", "lstm", "head"]
  assert rows["lstm"]["output"] == (16, 256) and rows["head"]["output"] == (51,)
  assert rows["lstm"]["params"] == 4 * 256 * (128 + 256) + 2 * 4 * 256  # two biases, as torch.nn.LSTM


def test_summary_of_a_config_never_lists_or_generates_a_dataset(tmp_path, monkeypatch, capsys):
  from configs.frozen_backbone import get_config
  from vidjax import summary

  monkeypatch.setenv("VIDJAX_CACHE_DIR", str(tmp_path / "cache"))
  c = get_config()
  c.dataset.name, c.dataset.data_dir = "hmdb51", str(tmp_path / "no such folder")
  s = summary.print_summary(c, tensors=True)
  assert not (tmp_path / "cache").exists()
  out = capsys.readouterr().out
  assert "frozen_features (51 classes)" in out
  frozen = [t for t in s["tensors"] if t["frozen"]]
  assert frozen and all(t["name"].startswith("frozen_backbone.") for t in frozen)
  assert sum(t["count"] for t in s["tensors"]) == s["parameters"]
  trained = s["parameters"] - sum(t["count"] for t in frozen)
  assert f"({trained:,} trained, " in out and "  frozen" in out

