"""Video vision transformers with joint space-time attention over tubelets: VideoMAE's ViT (Tong et al., 2022),
as Hugging Face's `VideoMAEForVideoClassification` computes it (the release's weights import into it).

A clip [B, T, H, W, C] is cut into tubelets of tubelet x patch x patch, each projected to `width` (a conv whose
stride is its kernel, written as a reshape and a matmul), plus a fixed sine-cosine position table; `depth`
pre-norm blocks attend over all T' x H' x W' tokens at once; the token mean, LayerNorm'd (`fc_norm`), feeds the
classifier. The query and value projections have biases, the key's none, as in the release.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np


def sinusoid_table(n: int, dim: int) -> np.ndarray:
  """The fixed position table of the Transformer paper, as VideoMAE builds it: [n, dim], sin on even channels,
  cos on odd ones, angle position / 10000^(2 (j // 2) / dim)."""
  angles = np.arange(n)[:, None] / np.power(10000.0, 2 * (np.arange(dim) // 2) / dim)[None, :]
  table = np.where(np.arange(dim) % 2 == 0, np.sin(angles), np.cos(angles))
  return table.astype(np.float32)


class TubeletEmbedding(nn.Module):
  """[B, T, H, W, C] -> [B, T' H' W', width] in (t, h, w) order; the kernel is stored as the conv's
  [tubelet, patch, patch, C, width]."""

  width: int
  tubelet: int
  patch: int
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    b, t, h, w, c = x.shape
    kt, k = self.tubelet, self.patch
    if t % kt or h % k or w % k:
      raise ValueError(f"config.model: a clip of {t} x {h} x {w} does not divide into tubelets of {kt} x {k} x {k}; "
                       "set config.input.num_frames and frame_size to multiples")
    kernel = self.param("kernel", nn.initializers.lecun_normal(in_axis=(0, 1, 2, 3), out_axis=4),
                        (kt, k, k, c, self.width), jnp.float32)
    bias = self.param("bias", nn.initializers.zeros, (self.width,), jnp.float32)
    dtype = self.dtype or jnp.float32
    tubes = x.astype(dtype).reshape(b, t // kt, kt, h // k, k, w // k, k, c).transpose(0, 1, 3, 5, 2, 4, 6, 7)
    y = jnp.einsum("bthwijkc,ijkco->bthwo", tubes, kernel.astype(dtype)) + bias.astype(dtype)
    return y.reshape(b, -1, self.width)


class SelfAttention(nn.Module):
  width: int
  heads: int
  qv_bias: bool = True
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    head_dim = self.width // self.heads
    shape = (*x.shape[:-1], self.heads, head_dim)
    q = nn.Dense(self.width, use_bias=self.qv_bias, dtype=self.dtype, name="query")(x).reshape(shape)
    k = nn.Dense(self.width, use_bias=False, dtype=self.dtype, name="key")(x).reshape(shape)
    v = nn.Dense(self.width, use_bias=self.qv_bias, dtype=self.dtype, name="value")(x).reshape(shape)
    y = jax.nn.dot_product_attention(q, k, v)  # cuDNN's fused attention on GPUs
    return nn.Dense(self.width, dtype=self.dtype, name="out")(y.reshape(*x.shape[:-1], self.width))


class Block(nn.Module):
  """Pre-norm: x + attention(LN(x)), then + MLP(LN(.)) with an exact GELU."""

  width: int
  heads: int
  mlp_dim: int
  qv_bias: bool = True
  norm_eps: float = 1e-12
  dropout: float = 0.0
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    norm = dict(epsilon=self.norm_eps, dtype=self.dtype)
    y = SelfAttention(self.width, self.heads, self.qv_bias, self.dtype, name="attn")(nn.LayerNorm(**norm, name="norm1")(x))
    x = x + nn.Dropout(self.dropout, deterministic=not train)(y)
    y = nn.Dense(self.mlp_dim, dtype=self.dtype, name="fc1")(nn.LayerNorm(**norm, name="norm2")(x))
    y = nn.Dense(self.width, dtype=self.dtype, name="fc2")(nn.gelu(y, approximate=False))
    return x + nn.Dropout(self.dropout, deterministic=not train)(y)


class VideoViT(nn.Module):
  """Defaults: ViT-B with VideoMAE's 2 x 16 x 16 tubelets (16 frames at 224 give 1,568 tokens)."""

  num_classes: int
  patch: int = 16
  tubelet: int = 2
  width: int = 768
  depth: int = 12
  heads: int = 12
  mlp_dim: int = 3072
  qv_bias: bool = True
  norm_eps: float = 1e-12  # the blocks' LayerNorms (Hugging Face's layer_norm_eps); fc_norm keeps 1e-5
  dropout: float = 0.0  # on each residual branch and before the classifier
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    if self.width % self.heads:
      raise ValueError(f"config.model.width={self.width} is not a multiple of config.model.heads={self.heads}")
    tokens = TubeletEmbedding(self.width, self.tubelet, self.patch, self.dtype, name="patch_embed")(x)
    tokens = tokens + jnp.asarray(sinusoid_table(tokens.shape[1], self.width), tokens.dtype)
    for i in range(self.depth):
      tokens = Block(self.width, self.heads, self.mlp_dim, self.qv_bias, self.norm_eps, self.dropout, self.dtype,
                     name=f"block{i}")(tokens, train)
    pooled = nn.LayerNorm(epsilon=1e-5, dtype=self.dtype, name="fc_norm")(tokens.mean(axis=1))
    if not self.num_classes:
      return pooled
    pooled = nn.Dropout(self.dropout, deterministic=not train)(pooled)
    return nn.Dense(self.num_classes, dtype=self.dtype, name="head")(pooled).astype(jnp.float32)
