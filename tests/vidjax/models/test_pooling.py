"""vidjax.models.pooling: avg / grid / flatten heads, and every family's pool setting."""


import jax
import jax.numpy as jnp
import numpy as np
import pytest


@pytest.mark.parametrize("h,w,grid", [(6, 6, 2), (6, 6, 3), (7, 5, 3), (3, 3, 2), (4, 4, 4)])
def test_grid_pool_is_an_adaptive_average_pool(h, w, grid):
  """Cell (i, j) averages rows floor(i h / g)..ceil((i + 1) h / g) and the same for columns, as
  torch.nn.AdaptiveAvgPool2d does; cells are flattened row-major, channels last."""
  from vidjax.models.pooling import spatial_pool

  x = np.random.default_rng(0).normal(size=(2, h, w, 5)).astype(np.float32)
  want = np.zeros((2, grid, grid, 5), np.float32)
  for i in range(grid):
    for j in range(grid):
      r0, r1 = (i * h) // grid, -((-(i + 1) * h) // grid)
      c0, c1 = (j * w) // grid, -((-(j + 1) * w) // grid)
      want[:, i, j] = x[:, r0:r1, c0:c1].mean(axis=(1, 2))
  got = np.asarray(spatial_pool(jnp.asarray(x), "grid", grid))
  np.testing.assert_allclose(got, want.reshape(2, -1), rtol=1e-6, atol=1e-6)
  np.testing.assert_allclose(np.asarray(spatial_pool(jnp.asarray(x), "avg")), x.mean(axis=(1, 2)), rtol=1e-6, atol=1e-6)


def test_pool_settings_are_checked():
  from vidjax.models.pooling import spatial_pool

  x = jnp.zeros((1, 3, 3, 4))
  with pytest.raises(ValueError, match=r"config.model.grid=4 must be between 1 and the last feature map's size \(3x3\)"):
    spatial_pool(x, "grid", 4)
  with pytest.raises(ValueError, match=r"config.model.pool='max' is not one of"):
    spatial_pool(x, "max")


@pytest.mark.parametrize("config_name,overrides,head,features", [
    ("csn", {"pool": "grid", "grid": 3}, ("head",), 3 * 3 * 128),
    ("r3d_18", {"pool": "grid", "grid": 2, "depth": 10, "widths": (8, 16, 32, 64)}, ("fc",), 2 * 2 * 64),
    ("cnn_lstm_resnet", {"pool": "grid", "grid": 2, "widths": (16, 32, 64), "depths": (1, 1, 1), "lstm_hidden": 8},
     ("lstm",), None),
])
def test_every_family_takes_a_grid_head_from_its_config(config_name, overrides, head, features):
  """`pool="grid"` is a config setting of the CSN, the video ResNets and the CNN+LSTMs; the head's input grows."""
  import importlib

  from vidjax.models import build_model

  c = importlib.import_module(f"configs.{config_name}").get_config()
  for k, v in overrides.items():
    c.model[k] = v
  x = np.zeros((1, 8, 48, 48, 1), np.float32)
  model = build_model(c.model, 8)
  variables = jax.jit(model.init)(jax.random.key(0), x)  # compiled whole: op by op took tens of seconds
  assert jax.jit(model.apply)(variables, x).shape == (1, 8)
  params = variables["params"]
  for name in head:
    params = params[name]
  if features:
    assert params["kernel"].shape == (features, 8)


def test_flatten_is_refused_for_the_resnet_backbone():
  from vidjax.models.backbones2d import make_backbone

  with pytest.raises(ValueError, match="pool='flatten' is for the simple and vgg backbones; resnet takes avg or grid"):
    make_backbone("resnet", pool="flatten")

