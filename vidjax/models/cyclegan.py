"""The CycleGAN ResNet generator of the official PyTorch release (Zhu et al. 2017; `resnet_9blocks`, `--no_dropout`).

Layout as in its `networks.ResnetGenerator`, so an official `latest_net_G.pth` imports by renaming
(`python -m vidjax.weights --arch cyclegan`): reflection pad 3 + 7x7 conv, two stride-2 3x3 convs down,
`blocks` residual blocks (reflection pad 1 + 3x3 conv, twice), two transposed convs up (stride 2, padding 1,
output padding 1), reflection pad 3 + 7x7 conv, tanh. Every norm is InstanceNorm without affine parameters or
running statistics, so every conv has a bias. Module names are the state dict's (`model.10.conv_block.5` ->
`model_10_conv_block_5`). Images are RGB in [-1, 1], [N, H, W, 3] with H and W multiples of 4.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp


def instance_norm(x: jax.Array, eps: float = 1e-5) -> jax.Array:
  """torch.nn.InstanceNorm2d(affine=False): each image's channel to zero mean, unit (biased) variance."""
  mean = x.mean(axis=(1, 2), keepdims=True)
  var = jnp.square(x - mean).mean(axis=(1, 2), keepdims=True)
  return (x - mean) * jax.lax.rsqrt(var + eps)


def reflect(x: jax.Array, pad: int) -> jax.Array:
  return jnp.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="reflect")


class ConvTranspose2x(nn.Module):
  """torch.nn.ConvTranspose2d(k=3, stride=2, padding=1, output_padding=1): doubles H and W.

  The kernel is kept as torch's (in, out, kh, kw) read as a forward conv out -> in ([kh, kw, out, in], what the
  generic OIHW -> HWIO import gives); the transposed conv is that conv's input gradient: zeros between input
  pixels, pad (k-1-p) before and (k-1-p+output_padding) after, and the flipped kernel with channels swapped.
  """

  features: int

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    kernel = self.param("kernel", nn.initializers.lecun_normal(), (3, 3, self.features, x.shape[-1]))
    bias = self.param("bias", nn.initializers.zeros, (self.features,))
    rhs = jnp.swapaxes(kernel[::-1, ::-1], 2, 3).astype(x.dtype)  # [kh, kw, in, out], spatially flipped
    y = jax.lax.conv_general_dilated(x, rhs, (1, 1), ((1, 2), (1, 2)), lhs_dilation=(2, 2),
                                     dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return y + bias.astype(x.dtype)


class ResnetGenerator(nn.Module):
  """[N, H, W, 3] in [-1, 1] -> [N, H, W, 3] in [-1, 1]."""

  ngf: int = 64
  blocks: int = 9
  out_channels: int = 3

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    if x.shape[1] % 4 or x.shape[2] % 4:
      raise ValueError(f"CycleGAN generator input {x.shape[1]}x{x.shape[2]}: height and width must be multiples of 4")
    x = nn.relu(instance_norm(nn.Conv(self.ngf, (7, 7), padding="VALID", name="model_1")(reflect(x, 3))))
    index = 4
    for mult in (1, 2):  # down: ngf -> 2 ngf -> 4 ngf
      x = nn.Conv(self.ngf * mult * 2, (3, 3), (2, 2), padding=1, name=f"model_{index}")(x)
      x = nn.relu(instance_norm(x))
      index += 3
    width = self.ngf * 4
    for _ in range(self.blocks):
      y = nn.Conv(width, (3, 3), padding="VALID", name=f"model_{index}_conv_block_1")(reflect(x, 1))
      y = nn.relu(instance_norm(y))
      y = nn.Conv(width, (3, 3), padding="VALID", name=f"model_{index}_conv_block_5")(reflect(y, 1))
      x = x + instance_norm(y)
      index += 1
    for mult in (4, 2):  # up: 4 ngf -> 2 ngf -> ngf
      x = nn.relu(instance_norm(ConvTranspose2x(self.ngf * mult // 2, name=f"model_{index}")(x)))
      index += 3
    x = nn.Conv(self.out_channels, (7, 7), padding="VALID", name=f"model_{index + 1}")(reflect(x, 3))
    return jnp.tanh(x)
