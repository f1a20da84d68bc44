"""Starting a model from converted weights: classifier replaced, backbone grafted, mismatches refused."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.helpers.golden_weights import make_weights
from vidjax import run as run_lib
from vidjax import train, weights
from vidjax.models import model_config
from vidjax.models.backbones2d import ResNet2D
from vidjax.models.frozen_features import FrozenFeatureHead
from vidjax.models.video_resnet import VideoResNet


def _init(model, shape):
  return jax.tree.map(np.asarray, jax.jit(lambda: model.init(jax.random.key(0), jnp.zeros(shape), train=False))())


def _r3d_torch_weights(num_classes):
  model = VideoResNet(num_classes, arch="r3d", depth=10, widths=(8, 16, 16, 32))
  v = _init(model, (1, 4, 32, 32, 3))
  return model, v


def test_fine_tuning_replaces_only_the_classifier(tmp_path):
  model, pretrained = _r3d_torch_weights(400)
  path = str(tmp_path / "weights dir (r3d)")
  weights.save(pretrained, path, {"arch": "test"})
  fresh = _init(model.clone(num_classes=8), (1, 4, 32, 32, 3))
  merged, notes = weights.merge_into(fresh, weights.load(path))
  assert any("fc/kernel" in n and "new classifier" in n for n in notes), notes
  np.testing.assert_array_equal(merged["params"]["fc"]["kernel"], fresh["params"]["fc"]["kernel"])
  np.testing.assert_array_equal(merged["params"]["layer2_0"]["conv1_0"]["kernel"],
                                pretrained["params"]["layer2_0"]["conv1_0"]["kernel"])
  np.testing.assert_array_equal(merged["batch_stats"]["stem_1"]["var"], pretrained["batch_stats"]["stem_1"]["var"])


def test_another_architecture_is_refused_by_name(tmp_path):
  _, pretrained = _r3d_torch_weights(8)
  mc3 = _init(VideoResNet(8, arch="mc3", depth=10, widths=(8, 16, 16, 32)), (1, 4, 32, 32, 3))
  with pytest.raises(ValueError, match=r"layer2_0/conv1_0/kernel have shape \(3, 3, 3, 8, 16\), the model needs "
                                       r"\(1, 3, 3, 8, 16\)"):
    weights.merge_into(mc3, pretrained)
  with pytest.raises(ValueError, match=r"config.init.prefix='nope'"):
    weights.merge_into(mc3, pretrained, prefix="nope")


def test_torchvision_resnet18_grafts_into_a_frozen_feature_model(tmp_path):
  shapes = {k: tuple(v) for k, v in json.loads(str(np.load("tests/fixtures/golden_torch.npz")["resnet18/shapes"])).items()}
  sd = make_weights(shapes)
  np.savez(tmp_path / "resnet18.npz", **sd)
  converted = weights.convert(str(tmp_path / "resnet18.npz"), "resnet18")
  model = FrozenFeatureHead(5)
  merged, notes = weights.merge_into(_init(model, (1, 2, 32, 32, 3)), converted, prefix="frozen_backbone")
  assert sorted(notes) == ["skipped params/fc/bias (not in the model)", "skipped params/fc/kernel (not in the model)"]
  np.testing.assert_array_equal(merged["params"]["frozen_backbone"]["conv1"]["kernel"],
                                sd["conv1.weight"].transpose(2, 3, 1, 0))
  np.testing.assert_array_equal(merged["batch_stats"]["frozen_backbone"]["layer3_1"]["bn2"]["mean"],
                                sd["layer3.1.bn2.running_mean"])


@pytest.mark.slow
def test_training_from_imported_weights_keeps_the_frozen_backbone(tiny_config, tmp_path):
  backbone = ResNet2D((8, 16), (1, 1), num_classes=10)
  pretrained = _init(backbone, (1, 32, 32, 1))
  path = str(tmp_path / "w")
  weights.save(pretrained, path, {"arch": "test"})
  c = tiny_config
  c.model = model_config("frozen_features", backbone="resnet", widths=(8, 16), depths=(1, 1), head="mlp", hidden=16,
                         dropout=0.3)
  c.init.path = path
  c.init.prefix = "frozen_backbone"
  workdir = str(tmp_path / "run")
  train.train_and_evaluate(c, workdir)
  run = run_lib.setup(c, workdir, train=False)
  state, _ = run.checkpointer.restore(run.state)
  for col in ("params", "batch_stats"):
    want = {k: v for k, v in pretrained[col].items() if k != "fc"}
    got = jax.tree.map(np.asarray, state.__getattribute__(col)["frozen_backbone"])
    jax.tree.map(np.testing.assert_array_equal, got, want)


def test_pth_is_read_without_torch_or_unpickling(capsys, tmp_path):
  from vidjax.pth_reader import PthFormatError, read_pth

  for fixture in ("small_state_dict.pth", "small_state_dict_legacy.pth"):  # torch.save's zip and legacy formats
    got = read_pth(f"tests/fixtures/{fixture}")  # written by torch.save (scripts/make_golden_fixtures.py)
    with np.load("tests/fixtures/small_state_dict.npz") as want:
      assert sorted(got) == sorted(want.files)
      for k in want.files:
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)
        assert got[k].dtype == want[k].dtype
  with pytest.raises(PthFormatError, match=r"runs_code.pth: refers to '(__builtin__|builtins) print'.*refusing"):
    read_pth("tests/fixtures/runs_code.pth")
  assert "ran code" not in capsys.readouterr().out
  with pytest.raises(PthFormatError, match=r"small_state_dict.npz: no data.pkl inside"):
    read_pth("tests/fixtures/small_state_dict.npz")
  (tmp_path / "old.pth").write_bytes(b"\x80\x02legacy")
  with pytest.raises(PthFormatError, match=r"old.pth: pickle opcode LIST is not used by tensor state dicts"):
    read_pth(str(tmp_path / "old.pth"))
  (tmp_path / "tar.pth").write_bytes(b"sys_info" + bytes(504))
  with pytest.raises(PthFormatError, match=r"tar.pth: not a torch.save file .*re-save it with a recent torch"):
    read_pth(str(tmp_path / "tar.pth"))


def test_a_backbone_without_batchnorm_grafts_too():
  from vidjax.models.backbones2d import PlainCNN

  pretrained = _init(PlainCNN((8, 16), (1, 1)), (1, 32, 32, 1))
  model = FrozenFeatureHead(4, backbone="simple", widths=(8, 16), depths=(1, 1))
  fresh = _init(model, (1, 2, 32, 32, 1))
  fresh.setdefault("batch_stats", {})  # what the trainer's state holds for a model without BatchNorm
  merged, notes = weights.merge_into(fresh, pretrained, prefix="frozen_backbone")
  assert notes == []
  np.testing.assert_array_equal(merged["params"]["frozen_backbone"]["conv2_1"]["kernel"],
                                pretrained["params"]["conv2_1"]["kernel"])
