"""Neural style transfer by optimisation (Gatys, Ecker and Bethge 2016), one frame at a time.

Each frame's pixels are optimised with Adam so that its VGG-19 features keep the frame's content (relu4_2) and its
Gram matrices match the style image's (relu1_1 ... relu5_1), plus a total-variation term against noise. One
jit-compiled call runs all of a frame's steps (`lax.scan`). Video: frame t starts from the stylised frame t-1
warped by the input's optical flow, where the flow is consistent (elsewhere from frame t itself), and needs fewer
steps (Ruder, Dosovitskiy and Brox 2016's initialisation); independent frames start from themselves.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from vidjax.models import build_arch

CONTENT_LAYER = "relu4_2"
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


@dataclasses.dataclass(frozen=True)
class GatysSettings:
  """The optimisation's settings; the weights follow the PyTorch tutorial's scale (Gram / (C h w), style 1e6)."""

  steps: int = 50  # the first frame (and every frame without temporal initialisation)
  steps_next: int = 5  # frames that start from their warped predecessor
  learning_rate: float = 0.03  # Adam, on pixels in [0, 1]
  content_weight: float = 1.0
  style_weight: float = 1e6
  tv_weight: float = 10.0
  pool: str = "avg"  # Gatys et al.'s choice for smoother images; "max" is torchvision's network as is


def gram(features: jax.Array) -> jax.Array:
  """[N, h, w, C] -> [N, C, C], normalised by C h w."""
  n, h, w, c = features.shape
  f = features.reshape(n, h * w, c)
  return jnp.einsum("npc,npd->ncd", f, f) / (c * h * w)


class Gatys:
  """VGG-19 weights loaded once; `style_targets` once per style image; `optimise` once per frame."""

  def __init__(self, vgg_variables: dict, settings: GatysSettings = GatysSettings()):
    self.settings = settings
    self.variables = {"params": vgg_variables["params"]}
    self.net, _ = build_arch("vgg19", layers=(*STYLE_LAYERS, CONTENT_LAYER), pool=settings.pool)
    self._features = jax.jit(lambda v, x: self.net.apply(v, x))

  def features(self, image: np.ndarray) -> dict[str, jax.Array]:
    """RGB uint8 [H, W, 3] -> VGG activations of a batch of one."""
    return self._features(self.variables, jnp.asarray(image, jnp.float32)[None] / 255.0)

  def style_targets(self, style_image: np.ndarray) -> dict[str, jax.Array]:
    f = self.features(style_image)
    return {name: gram(f[name]) for name in STYLE_LAYERS}

  def content_target(self, frame: np.ndarray) -> jax.Array:
    return self.features(frame)[CONTENT_LAYER]

  def optimise(self, init: np.ndarray, content: jax.Array, styles: dict[str, jax.Array],
               steps: int) -> tuple[np.ndarray, np.ndarray]:
    """init: RGB float [H, W, 3] in [0, 1] -> (the optimised image, the loss before each step)."""
    x, losses = _optimise(self.net, self.settings, steps, self.variables, jnp.asarray(init, jnp.float32)[None],
                          content, styles)
    return np.asarray(x[0]), np.asarray(losses)


def _loss(net, s: GatysSettings, variables, x, content, styles):
  f = net.apply(variables, x)
  content_loss = jnp.mean(jnp.square(f[CONTENT_LAYER] - content))
  style_loss = sum(jnp.mean(jnp.square(gram(f[name]) - styles[name])) for name in STYLE_LAYERS)
  tv = jnp.mean(jnp.square(x[:, 1:] - x[:, :-1])) + jnp.mean(jnp.square(x[:, :, 1:] - x[:, :, :-1]))
  return s.content_weight * content_loss + s.style_weight * style_loss + s.tv_weight * tv


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _optimise(net, s: GatysSettings, steps: int, variables, x, content, styles):
  opt = optax.adam(s.learning_rate)
  grad_fn = jax.value_and_grad(lambda x: _loss(net, s, variables, x, content, styles))

  def step(carry, _):
    x, opt_state = carry
    loss, g = grad_fn(x)
    updates, opt_state = opt.update(g, opt_state, x)
    return (jnp.clip(optax.apply_updates(x, updates), 0.0, 1.0), opt_state), loss

  (x, _), losses = jax.lax.scan(step, (x, opt.init(x)), None, length=steps)
  return x, losses
