"""vidjax models reproduce torchvision/PyTorch with the same weights (fixtures: scripts/make_golden_fixtures.py).

The torch side ran once, offline; here the same weights are regenerated
(tests/helpers/golden_weights.py), converted by vidjax.weights (the path a user's `.pth`
takes) and run in eval mode.
"""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.helpers import FIXTURES
from tests.helpers.conv_reference import under
from tests.helpers.golden_weights import make_weights, torch_lstm_to_flax
from vidjax import weights
from vidjax.models import build_arch
from vidjax.models.lstm import StackedLSTM

FIXTURE = FIXTURES / "golden_torch.npz"


@pytest.fixture(scope="module")
def golden():
  with np.load(FIXTURE, allow_pickle=False) as f:
    return {k: f[k] for k in f.files}


def _state_dict(golden, name):
  shapes = {k: tuple(v) for k, v in json.loads(str(golden[f"{name}/shapes"])).items()}
  return make_weights(shapes)


@pytest.mark.parametrize("arch", ["r2plus1d_18", "r3d_18", "mc3_18", "resnet18"])
def test_cnn_logits_match_torchvision(golden, arch):
  variables = weights.torch_to_flax(_state_dict(golden, arch))
  model, _ = build_arch(arch, num_classes=10)
  x = golden[f"{arch}/input"]
  x = x.transpose(0, 2, 3, 4, 1) if x.ndim == 5 else x.transpose(0, 2, 3, 1)  # NC... -> N...C
  init = jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros(x.shape), train=False))
  weights.check_against(variables, init, arch)  # every tensor placed, none left over
  for setting in ("cpu", "xla"):
    got = np.asarray(under(setting, jax.jit(lambda v, x: model.apply(v, x, train=False)), variables, x))
    want = golden[f"{arch}/output"]
    # float32 through 18 layers in two libraries: measured <= 9e-7 of the logit scale; allowed 1e-5
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * np.abs(want).max(), err_msg=f"{arch} {setting} forms")


def test_googlenet_logits_match_torchvision(golden):
  """torchvision's googlenet(aux_logits=True, transform_input=True) as its ImageNet weights come: the auxiliary
  classifiers' tensors are in the state dict and dropped on import; a 72 x 56 input exercises ceil_mode pooling
  on odd sizes."""
  sd = _state_dict(golden, "googlenet")
  assert any(k.startswith("aux1.") for k in sd)
  variables = weights.convert_state_dict(sd, "googlenet")
  model, _ = build_arch("googlenet", num_classes=10)
  x = golden["googlenet/input"].transpose(0, 2, 3, 1)
  got = np.asarray(jax.jit(lambda v, x: model.apply(v, x, train=False))(variables, x))
  want = golden["googlenet/output"]
  np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * np.abs(want).max())


def test_scanned_lstm_matches_torch_lstm(golden):
  sd = _state_dict(golden, "lstm")
  params = torch_lstm_to_flax(sd, layers=2)
  hs, (_, h) = StackedLSTM(hidden=8, layers=2).apply({"params": params}, golden["lstm/input"])
  np.testing.assert_allclose(np.asarray(hs), golden["lstm/output"], rtol=0, atol=1e-6)
  np.testing.assert_allclose(np.asarray(h), golden["lstm/output"][:, -1], rtol=0, atol=1e-6)


def test_weights_from_npz_convert_and_refuse_a_mismatched_arch(golden, tmp_path):
  sd = _state_dict(golden, "r3d_18")
  path = tmp_path / "r3d 18 (#1).npz"  # spaces and specials in the path
  np.savez(path, **sd)
  variables = weights.convert(str(path), "r3d_18")
  assert variables["params"]["fc"]["kernel"].shape == (512, 10)
  with pytest.raises(ValueError, match=r"does not fit the vidjax model.*(missing|shape)"):
    weights.convert(str(path), "r2plus1d_18")


def test_vgg19_features_match_torchvision(golden):
  """torchvision's vgg19 state dict, classifier included as in the real file (dropped on import): the ReLU
  outputs Gatys style transfer uses. A 16 x 24 input keeps H and W apart."""
  from vidjax.models.vgg19 import VGG19Features

  sd = _state_dict(golden, "vgg19")
  assert any(k.startswith("classifier.") for k in sd)
  variables = weights.convert_state_dict(sd, "vgg19")
  names = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1")
  x = golden["vgg19/input"].transpose(0, 2, 3, 1)
  got = jax.jit(lambda v, x: VGG19Features(layers=names).apply(v, x))(variables, x)
  for name in names:
    want = golden[f"vgg19/{name}"].transpose(0, 2, 3, 1)
    g = np.asarray(got[name])[..., :want.shape[-1]]
    np.testing.assert_allclose(g, want, rtol=0, atol=2e-5 * np.abs(want).max(), err_msg=name)


def test_cyclegan_generator_matches_pytorch(golden):
  """The official ResnetGenerator (9 blocks, ngf 64; written out in the fixture script) with the same weights.
  Releases saved by torch 0.4 carry InstanceNorm running statistics: they are added here and must be dropped."""
  from vidjax.models.cyclegan import ResnetGenerator

  sd = _state_dict(golden, "cyclegan")
  sd["model.2.running_mean"] = np.zeros(64, np.float32)
  sd["model.10.conv_block.2.running_var"] = np.ones(256, np.float32)
  assert weights.cyclegan_settings(sd) == {"ngf": 64, "blocks": 9}
  variables = weights.convert_state_dict(sd, "cyclegan")
  x = golden["cyclegan/input"].transpose(0, 2, 3, 1)
  got = np.asarray(jax.jit(lambda v, x: ResnetGenerator().apply(v, x))(variables, x))
  want = golden["cyclegan/output"].transpose(0, 2, 3, 1)
  np.testing.assert_allclose(got, want, rtol=0, atol=2e-5)
  assert weights.describe(variables, "cyclegan") == {"arch": "cyclegan", "parameters": 11378179, "ngf": 64,
                                                     "blocks": 9}
