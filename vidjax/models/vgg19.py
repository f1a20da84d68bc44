"""VGG-19's convolutional part (torchvision `vgg19().features`): the feature extractor of Gatys style transfer.

Module names are the state dict's (`features.28.weight` -> `features_28`), so torchvision's file imports by renaming
(`python -m vidjax.weights --arch vgg19`, the classifier is dropped). Input is RGB in [0, 1]; the ImageNet
normalisation torchvision's weights expect happens inside. Only the layers asked for are computed, up to the deepest.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

# torchvision's vgg19 "E" configuration: channels per conv, "M" a 2x2 max pool
CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M")
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def layer_names() -> dict[str, int]:
  """'relu{block}_{conv}' (Gatys et al.'s names, after the ReLU) -> index of that ReLU in `features`."""
  names, block, conv, index = {}, 1, 0, 0
  for c in CFG:
    if c == "M":
      block, conv, index = block + 1, 0, index + 1
    else:
      conv += 1
      names[f"relu{block}_{conv}"] = index + 1
      index += 2
  return names


LAYERS = layer_names()


class VGG19Features(nn.Module):
  """[N, H, W, 3] RGB in [0, 1] -> {layer name: activation [N, h, w, C]} for the requested ReLU outputs."""

  layers: tuple[str, ...] = ("relu4_2",)
  pool: str = "max"  # torchvision's; Gatys et al. report smoother results with "avg" (same weights)

  @nn.compact
  def __call__(self, x: jax.Array) -> dict[str, jax.Array]:
    unknown = [name for name in self.layers if name not in LAYERS]
    if unknown:
      raise ValueError(f"VGG-19 layer(s) {unknown} unknown; choose from {list(LAYERS)}")
    wanted = {LAYERS[name]: name for name in self.layers}
    last = max(wanted)
    x = (x - jnp.asarray(_IMAGENET_MEAN, x.dtype)) / jnp.asarray(_IMAGENET_STD, x.dtype)
    out, index = {}, 0
    for c in CFG:
      if index > last:
        break
      if c == "M":
        pool = nn.max_pool if self.pool == "max" else nn.avg_pool
        x = pool(x, (2, 2), (2, 2))
        index += 1
        continue
      x = nn.relu(nn.Conv(c, (3, 3), padding=1, name=f"features_{index}")(x))
      if index + 1 in wanted:
        out[wanted[index + 1]] = x
      index += 2
    return out
