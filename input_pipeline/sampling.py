"""Which frames of a stored video make a clip."""

from __future__ import annotations

import numpy as np

SAMPLINGS = ("uniform", "segment", "window")


def uniform(n: int, k: int) -> np.ndarray:
  """k evenly spaced frames over the whole video (the studies' 16-frame recipe)."""
  if n <= 0:
    raise ValueError("video has no frames")
  return np.floor((np.arange(k) + 0.5) * n / k).astype(np.int64).clip(0, n - 1)


def segment(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
  """One random frame in each of k equal segments (TSN): covers the whole video."""
  start = np.arange(k) * n // k  # segment i owns frames [start_i, start_{i+1})
  width = np.maximum(np.append(start[1:], n) - start, 1)
  return np.minimum(start + np.floor(rng.uniform(0, 1, k) * width).astype(np.int64), n - 1)


def window(n: int, k: int, stride: int, rng: np.random.Generator | None) -> np.ndarray:
  """k frames `stride` apart from a random start (None: centred window)."""
  span = (k - 1) * stride + 1
  if span > n:  # too short for the stride: spread the window over the whole video
    return uniform(n, k)
  start = (n - span) // 2 if rng is None else int(rng.integers(0, n - span + 1))
  return start + np.arange(k) * stride


def multi_clip(n: int, k: int, clips: int, stride: int, mode: str) -> np.ndarray:
  """`clips` deterministic clips covering the video, for evaluation: [clips, k]."""
  if clips == 1:
    return (uniform(n, k) if mode != "window" else window(n, k, stride, None))[None]
  if mode != "window":
    # shift the evenly spaced grid by fractions of one step
    offs = (np.arange(clips) + 0.5) / clips
    return np.floor((np.arange(k)[None] + offs[:, None]) * n / k).astype(np.int64).clip(0, n - 1)
  span = (k - 1) * stride + 1
  starts = np.linspace(0, max(0, n - span), clips).round().astype(np.int64)
  return np.stack([window(n, k, stride, None) if span > n else s + np.arange(k) * stride for s in starts])


def train_indices(n: int, k: int, mode: str, stride: int, rng: np.random.Generator) -> np.ndarray:
  if mode == "uniform":
    return uniform(n, k)
  if mode == "segment":
    return segment(n, k, rng)
  if mode == "window":
    return window(n, k, stride, rng)
  raise ValueError(f"unknown sampling {mode!r}; choose one of {SAMPLINGS}")
