"""vidjax.models.video_vit and vidjax.hf_import: a Hugging Face VideoMAE folder imports and computes
transformers' logits (tests/fixtures/golden_hf.npz, scripts/make_hf_fixtures.py)."""

import json
import os
import struct

import jax
import numpy as np
import pytest
from safetensors.numpy import save_file

from tests.helpers.golden_weights import make_weights
from tests.helpers.models import count_params
from vidjax import hf_import
from vidjax.models.video_vit import VideoViT, sinusoid_table

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "golden_hf.npz")


def _golden():
  with np.load(FIXTURE, allow_pickle=False) as f:
    return {k: f[k] for k in f.files}


def _hf_folder(path, golden, rename=None):
  """What `save_pretrained` writes, from the fixture's config and regenerated weights."""
  os.makedirs(path, exist_ok=True)
  with open(os.path.join(path, "config.json"), "w") as f:
    f.write(str(golden["videomae/config"]))
  weights = make_weights({k: tuple(v) for k, v in json.loads(str(golden["videomae/shapes"])).items()})
  save_file((rename or (lambda w: w))(weights), os.path.join(path, "model.safetensors"))
  return path


def _logits(variables, meta, x):
  model = VideoViT(num_classes=meta["num_classes"], **meta["settings"])
  return np.asarray(jax.jit(model.apply)(variables, x.transpose(0, 1, 3, 4, 2)))


def test_videomae_folder_gives_transformers_logits(tmp_path):
  golden = _golden()
  variables, meta = hf_import.convert_folder(_hf_folder(str(tmp_path / "videomae (hf) #1"), golden))
  want = golden["videomae/output"]
  got = _logits(variables, meta, golden["videomae/input"])
  np.testing.assert_allclose(got, want, rtol=0, atol=1e-4 * float(np.abs(want).max()))
  model = VideoViT(num_classes=5, **meta["settings"])
  assert count_params(model, (1, 4, 32, 32, 3)) == int(golden["videomae/parameters"])  # transformers' count
  assert meta["num_classes"] == 5 and meta["num_frames"] == 4 and meta["image_size"] == 32


def test_the_releases_q_and_v_bias_layout_imports_alike(tmp_path):
  golden = _golden()

  def release(weights):
    out = dict(weights)
    for k in list(out):
      if k.endswith("attention.attention.query.bias"):
        out[k.replace("query.bias", "q_bias")] = out.pop(k)
      elif k.endswith("attention.attention.value.bias"):
        out[k.replace("value.bias", "v_bias")] = out.pop(k)
    return out

  variables, meta = hf_import.convert_folder(_hf_folder(str(tmp_path / "release"), golden, release))
  want = golden["videomae/output"]
  np.testing.assert_allclose(_logits(variables, meta, golden["videomae/input"]), want, rtol=0,
                             atol=1e-4 * float(np.abs(want).max()))


def test_the_position_table_is_the_papers():
  table = sinusoid_table(5, 6)
  j = np.arange(6)
  angle = 3 / 10000 ** (2 * (j // 2) / 6)
  np.testing.assert_allclose(table[3], np.where(j % 2 == 0, np.sin(angle), np.cos(angle)), rtol=1e-6)


def test_hostile_or_wrong_folders_are_named(tmp_path):
  golden = _golden()
  folder = _hf_folder(str(tmp_path / "m"), golden)
  tensors = os.path.join(folder, "model.safetensors")
  with open(tensors, "wb") as f:  # a header that claims 2^40 bytes
    f.write(struct.pack("<Q", 1 << 40) + b"{}")
  with pytest.raises(ValueError, match=r"model.safetensors cannot be read as safetensors"):
    hf_import.convert_folder(folder)
  save_file({"classifier.weight": np.zeros((5, 64), np.float32)}, tensors)
  with pytest.raises(ValueError, match=r"has no tensor 'embeddings.patch_embeddings.projection.weight'"):
    hf_import.convert_folder(folder)
  with open(os.path.join(folder, "config.json"), "w") as f:
    json.dump({"model_type": "bert"}, f)
  with pytest.raises(ValueError, match=r"model_type 'bert'; vidjax imports 'videomae' folders"):
    hf_import.convert_folder(folder)
  os.remove(tensors)
  with pytest.raises(FileNotFoundError, match=r"model.safetensors is missing"):
    hf_import.convert_folder(folder)


def test_the_import_command_writes_weights_that_a_new_classifier_starts_from(tmp_path, repo_root):
  import subprocess
  import sys

  import jax.numpy as jnp

  from vidjax import weights

  folder = _hf_folder(str(tmp_path / "hf folder"), _golden())
  out = tmp_path / "weights (k400)"
  p = subprocess.run([sys.executable, "-m", "vidjax.weights", "--hf", folder, "--out", str(out)], cwd=repo_root,
                     capture_output=True, text=True, timeout=300)
  assert p.returncode == 0 and "VideoMAE, 165,637 parameters, 5 classes" in p.stdout, p.stderr[-2000:]
  meta = weights.read_meta(str(out))
  assert meta["arch"] == "videomae" and meta["settings"]["width"] == 64 and meta["settings"]["depth"] == 2
  loaded = weights.load(str(out))
  model = VideoViT(num_classes=8, **meta["settings"])  # fine-tuning on 8 classes: the classifier is new
  fresh = jax.jit(model.init)(jax.random.key(0), jnp.zeros((1, 4, 32, 32, 3)))
  merged, notes = weights.merge_into(fresh, loaded)
  np.testing.assert_array_equal(merged["params"]["block1"]["fc2"]["kernel"], loaded["params"]["block1"]["fc2"]["kernel"])
  assert merged["params"]["head"]["kernel"].shape == (64, 8) and any("new classifier" in n for n in notes)
