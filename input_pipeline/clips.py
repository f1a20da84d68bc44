"""A stored video's record -> the clips a model sees: one augmented training clip, or the evaluation's views.

A frame record is {"jpeg": the frames' JPEGs concatenated, "offsets": int64 [F + 1], "label"}: only the frames a
clip samples are decoded. `ClipSpec` says which frames, at what size, with which augmentation.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from input_pipeline import augment, decode, sampling


@dataclasses.dataclass(frozen=True)
class ClipSpec:
  num_frames: int = 16
  frame_size: int = 112
  channels: int = 3
  train_sampling: str = "segment"  # uniform | segment | window
  frame_stride: int = 2  # for window sampling
  eval_clips: int = 1  # clips per video at evaluation; their logits are averaged
  eval_crops: int = 1  # 1 centre crop, or 3 along the long side; scores averaged over clips x crops
  crop_scale: tuple[float, float] = (0.6, 1.0)
  crop_aspect: tuple[float, float] = (0.75, 1.333)
  flip: bool = False
  brightness: float = 0.0
  contrast: float = 0.0

  @property
  def shape(self) -> tuple[int, int, int, int]:
    """One clip: [T, S, S, channels]."""
    return (self.num_frames, self.frame_size, self.frame_size, self.channels)


def _frames(record: dict, indices: np.ndarray) -> list[np.ndarray]:
  """Decodes only the sampled frames (each stored frame is its own JPEG)."""
  jpeg, offsets = record["jpeg"], record["offsets"]
  cache: dict[int, np.ndarray] = {}
  for i in np.unique(indices):
    cache[int(i)] = decode.decode_jpeg(jpeg[offsets[i]:offsets[i + 1]])
  return [cache[int(i)] for i in indices]


def num_stored_frames(record: dict) -> int:
  return len(record["offsets"]) - 1


def train_clip(record: dict, spec: ClipSpec, rng: np.random.Generator, out: np.ndarray | None = None) -> np.ndarray:
  """One augmented training clip [T, S, S, channels]: one crop, flip and colour draw for all its frames.

  Written into `out` (a slot of the batch) when given, so a clip is never copied after it is made.
  """
  s = spec
  idx = sampling.train_indices(num_stored_frames(record), s.num_frames, s.train_sampling, s.frame_stride, rng)
  frames = _frames(record, idx)
  box = augment.random_crop_box(*frames[0].shape[:2], s.crop_scale, s.crop_aspect, rng)
  clip = augment.crop_resize(frames, box, s.frame_size, out=out if s.channels == 3 else None)
  if s.flip and rng.uniform() < 0.5:
    augment.flip_horizontal(clip, out=clip)
  clip = augment.photometric(clip, s.brightness, s.contrast, rng, out=clip)
  return augment.to_channels(clip, s.channels, out=out)


def eval_views(record: dict, spec: ClipSpec) -> np.ndarray:
  """Deterministic clips x crops: [eval_clips * eval_crops, T, S, S, channels], clip-major."""
  s = spec
  idx = sampling.multi_clip(num_stored_frames(record), s.num_frames, s.eval_clips, s.frame_stride, s.train_sampling)
  frames = _frames(record, idx.reshape(-1))
  views = [augment.to_channels(augment.crop_resize(frames, box, s.frame_size), s.channels)
           .reshape(s.eval_clips, s.num_frames, s.frame_size, s.frame_size, -1)
           for box in augment.eval_crop_boxes(*frames[0].shape[:2], s.eval_crops)]
  return np.stack(views, axis=1).reshape(-1, *views[0].shape[1:])
