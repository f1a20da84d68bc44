"""Optical flow for video style transfer: Farneback flow, backward warping, occlusion by a forward-backward check,
and the warping error of Lai et al. (2018), the standard measure of a processed video's temporal (in)stability.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

# Farneback at OpenCV's usual settings (pyramid 0.5 x 3 levels, 15 px window, 3 iterations, poly 5 / 1.2)
_FARNEBACK = dict(pyr_scale=0.5, levels=3, winsize=15, iterations=3, poly_n=5, poly_sigma=1.2, flags=0)


def flow(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
  """Dense flow [H, W, 2] (dx, dy) from RGB uint8 frame `src` to `dst`: pixel p of src is at p + flow[p] in dst."""
  a = cv2.cvtColor(src, cv2.COLOR_RGB2GRAY)
  b = cv2.cvtColor(dst, cv2.COLOR_RGB2GRAY)
  return cv2.calcOpticalFlowFarneback(a, b, None, **_FARNEBACK)


def warp(image: np.ndarray, flow_to: np.ndarray) -> np.ndarray:
  """Backward warping: out[p] = image[p + flow_to[p]] (bilinear, borders replicated); float in, float out."""
  h, w = flow_to.shape[:2]
  gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
  return cv2.remap(image, gx + flow_to[..., 0], gy + flow_to[..., 1], cv2.INTER_LINEAR,
                   borderMode=cv2.BORDER_REPLICATE)


def consistent(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
  """Pixels (bool [H, W]) whose forward flow is undone by the backward flow at its target: not occluded.

  Ruder et al. (2016)'s check, which Lai et al. use: occluded where |f + b(p + f)|^2 > 0.01 (|f|^2 + |b(p + f)|^2)
  + 0.5.
  """
  b = warp(backward, forward)
  lhs = np.square(forward + b).sum(-1)
  rhs = 0.01 * (np.square(forward).sum(-1) + np.square(b).sum(-1)) + 0.5
  return lhs <= rhs


def video_flows(frames: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
  """(forward t -> t+1, backward t+1 -> t) for every consecutive pair of input frames."""
  return [(flow(frames[t], frames[t + 1]), flow(frames[t + 1], frames[t])) for t in range(len(frames) - 1)]


def warping_error(frames: Sequence[np.ndarray], flows: Sequence[tuple[np.ndarray, np.ndarray]]) -> float:
  """Lai et al. (2018)'s E_warp of a video: for each pair, the squared RGB difference (values in [0, 1], summed
  over channels) between frame t and frame t+1 warped back to t by the *input's* forward flow, averaged over the
  non-occluded pixels; then averaged over pairs. The input video's own value is the floor flow errors allow.
  """
  if len(frames) < 2:
    return 0.0
  errors = []
  for t, (fwd, bwd) in enumerate(flows):
    a = np.asarray(frames[t], np.float32) / 255.0
    b = warp(np.asarray(frames[t + 1], np.float32) / 255.0, fwd)
    mask = consistent(fwd, bwd)
    if mask.any():
      errors.append(float(np.square(a - b).sum(-1)[mask].mean()))
  return float(np.mean(errors)) if errors else 0.0
