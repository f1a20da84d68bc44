"""vidjax.models.googlenet: torchvision's GoogLeNet, parameter for parameter."""


import jax
import jax.numpy as jnp

from tests.helpers.models import count_params


def test_googlenet_parameters_equal_torchvision():
  """torchvision's googlenet (IMAGENET1K_V1, auxiliary classifiers dropped as its weights' users do): 6,624,904."""
  from vidjax.models.googlenet import GoogLeNet

  assert count_params(GoogLeNet(num_classes=1000), (1, 64, 64, 3)) == 6_624_904
  features = jax.eval_shape(lambda: GoogLeNet().init_with_output(jax.random.key(0), jnp.zeros((2, 112, 112, 3))))[0]
  assert features.shape == (2, 1024)

