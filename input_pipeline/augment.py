"""Spatial and photometric transforms applied identically to every frame of a clip."""

from __future__ import annotations

import math

import cv2
import numpy as np


def random_crop_box(h: int, w: int, scale: tuple[float, float], aspect: tuple[float, float],
                    rng: np.random.Generator) -> tuple[int, int, int, int]:
  """(y, x, ch, cw): area is a fraction of the short-side square, so that crops
  of wide and tall videos keep the same content scale."""
  side2 = min(h, w) ** 2
  area = side2 * rng.uniform(*scale)
  log_r = rng.uniform(math.log(aspect[0]), math.log(aspect[1]))
  r = math.exp(log_r)
  cw = min(w, max(1, round(math.sqrt(area * r))))
  ch = min(h, max(1, round(math.sqrt(area / r))))
  y = int(rng.integers(0, h - ch + 1))
  x = int(rng.integers(0, w - cw + 1))
  return y, x, ch, cw


def center_crop_box(h: int, w: int) -> tuple[int, int, int, int]:
  s = min(h, w)
  return (h - s) // 2, (w - s) // 2, s, s


def eval_crop_boxes(h: int, w: int, crops: int) -> list[tuple[int, int, int, int]]:
  """1: the centre square; 3: squares at the start, centre and end of the long side (the usual 3-crop test)."""
  if crops == 1:
    return [center_crop_box(h, w)]
  s = min(h, w)
  if w >= h:
    return [(0, x, s, s) for x in (0, (w - s) // 2, w - s)]
  return [(y, 0, s, s) for y in (0, (h - s) // 2, h - s)]


def crop_resize(frames: list[np.ndarray], box: tuple[int, int, int, int], size: int,
                out: np.ndarray | None = None) -> np.ndarray:
  """Bilinear unless the crop is at least twice the output, where bilinear would skip source pixels and
  alias; INTER_AREA costs several times more per frame, so it is kept for real shrinks.
  Each frame is resized straight into the clip (`out`, e.g. a slot of a batch): nothing is stacked."""
  y, x, ch, cw = box
  interp = cv2.INTER_AREA if min(ch, cw) >= 2 * size else cv2.INTER_LINEAR
  clip = np.empty((len(frames), size, size, *frames[0].shape[2:]), np.uint8) if out is None else out
  for f, dst in zip(frames, clip, strict=True):
    cv2.resize(f[y:y + ch, x:x + cw], (size, size), dst=dst, interpolation=interp)
  return clip


def _unchanged(clip: np.ndarray, out: np.ndarray | None) -> np.ndarray:
  """A transform with nothing to do: the clip itself, or a copy in `out` when one is given."""
  if out is None or out is clip:
    return clip
  out[...] = clip
  return out


def _rows(clip: np.ndarray) -> np.ndarray:
  """[T, H, W, C] as one [T * H, W * C] image, so that a single cv2 call covers the clip."""
  return clip.reshape(-1, clip.shape[-2] * clip.shape[-1])


def photometric(clip: np.ndarray, brightness: float, contrast: float, rng: np.random.Generator,
                out: np.ndarray | None = None) -> np.ndarray:
  """One brightness shift and contrast factor for the whole clip: clip(c * (x - mean) + mean + b), rounded.

  One vectorised cv2 pass, faster than a 256-entry table lookup on one OpenCV thread, since a per-byte
  gather does not vectorise (benchmarks/loader_parts.py).
  `out` may be `clip` itself.
  """
  if brightness <= 0 and contrast <= 0:
    return _unchanged(clip, out)
  b = rng.uniform(-brightness, brightness) * 255.0
  c = rng.uniform(1 - contrast, 1 + contrast)
  mean = float(clip[::4, ::4, ::4].mean())  # a subsample estimates the clip mean well enough
  out = np.empty_like(clip) if out is None else out
  cv2.addWeighted(_rows(clip), c, _rows(clip), 0.0, (1.0 - c) * mean + b, dst=_rows(out))
  return out


def flip_horizontal(clip: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
  """Mirrors every frame of [T, H, W, C] in one cv2 call (numpy's reversed-stride copy is far slower).
  `out` may be `clip` itself."""
  t, h, w, c = clip.shape
  out = np.empty_like(clip) if out is None else out
  cv2.flip(clip.reshape(t * h, w, c), 1, dst=out.reshape(t * h, w, c))
  return out


def to_channels(clip: np.ndarray, channels: int, out: np.ndarray | None = None) -> np.ndarray:
  """RGB [T, H, W, 3] -> `channels` (3, or 1 = luma), into `out` when given."""
  if channels == 3:
    return _unchanged(clip, out)
  t, h, w, _ = clip.shape
  out = np.empty((t, h, w, 1), np.uint8) if out is None else out
  cv2.cvtColor(clip.reshape(t * h, w, 3), cv2.COLOR_RGB2GRAY, dst=out.reshape(t * h, w))
  return out
