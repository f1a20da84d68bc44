"""Stored videos -> augmented, batched numpy clips for this host.

Batches are a pure function of (seed, step): the element at global position i
is shuffled record `perm_epoch(i)` with augmentation drawn from a generator
keyed by i. Resuming at step s therefore only needs s, and every host computes
the same global order and takes its own slice.
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import sys
from collections.abc import Iterator

import grain
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


@functools.cache
def _keep_records_on_heap() -> None:
  """Stops glibc from mmap-ing (and page-faulting in) every record-sized buffer.

  Each stored video is a ~1 MB record. glibc serves allocations over its mmap threshold with a fresh
  mmap, so every read paid for fresh pages: reading a 1.2 MB record took ~2.1 ms instead of ~0.3 ms
  (benchmarks/loader_parts.py). Raising the threshold (and the trim threshold, so freed records are reused
  rather than handed back) keeps them on the heap. Process-wide; a no-op off glibc.
  """
  if not sys.platform.startswith("linux"):
    return
  try:
    libc = ctypes.CDLL("libc.so.6")
    m_trim_threshold, m_mmap_threshold = -1, -3
    libc.mallopt(m_mmap_threshold, 32 * 2**20)  # glibc's maximum on 64-bit
    libc.mallopt(m_trim_threshold, 256 * 2**20)
  except (OSError, AttributeError):
    pass


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


class EvalClips(grain.transforms.Map):
  """Deterministic clips x crops; 'video' is [eval_clips * eval_crops, T, H, W, C] (clip-major)."""

  def __init__(self, spec: ClipSpec):
    self.spec = spec

  def map(self, item: tuple[dict, bool]) -> dict:
    record, valid = item
    if "features" in record:  # a feature store's record: one view, the stored [N, D] as is
      return {"video": np.array(record["features"], np.float32)[None], "label": np.int32(record["label"]),
              "mask": np.bool_(valid)}
    s = self.spec
    n = num_stored_frames(record)
    idx = sampling.multi_clip(n, s.num_frames, s.eval_clips, s.frame_stride, s.train_sampling)
    frames = _frames(record, idx.reshape(-1))
    views = [augment.to_channels(augment.crop_resize(frames, box, s.frame_size), s.channels)
             .reshape(s.eval_clips, s.num_frames, s.frame_size, s.frame_size, -1)
             for box in augment.eval_crop_boxes(*frames[0].shape[:2], s.eval_crops)]
    video = np.stack(views, axis=1).reshape(-1, *views[0].shape[1:])
    return {"video": video, "label": np.int32(record["label"]), "mask": np.bool_(valid)}


class _EpochShuffled:
  """The endless record stream: element i is record perm_e(i mod n) for epoch e = i // n.

  Replaces grain's `shuffle().repeat()`, whose per-element index_shuffle costs ~18,000 / n us
  (0.4 ms per clip for 48 videos, 70 us for 270); a cached numpy permutation per epoch is O(1).
  """

  def __init__(self, source, seed: int):
    self.source, self.seed, self.n = source, seed, len(source)

  def __getitem__(self, i: int):
    epoch, j = divmod(int(i), self.n)
    return self.source[int(_epoch_order(self.seed, self.n, epoch)[j])]


@functools.lru_cache(maxsize=8)  # threads straddling an epoch boundary need the last two
def _epoch_order(seed: int, n: int, epoch: int) -> np.ndarray:
  return np.random.default_rng([seed, 0, epoch]).permutation(n)


class _TrainChunks:
  """Chunk c of the training stream: elements c * size ... c * size + size - 1, as one batch.

  Element i is augmented with a generator keyed by (seed, i), so a chunk is a pure function of (seed, c).
  Clips are written straight into the batch array: grain's per-element map and batch stacking cost
  ~0.2 ms of GIL-held time per clip, which the loader threads would otherwise queue on.
  """

  def __init__(self, source, spec: ClipSpec, seed: int, size: int):
    self.records, self.spec, self.seed, self.size = _EpochShuffled(source, seed), spec, seed, size
    self.feature_shape = getattr(source, "feature_shape", None)  # a feature store: rows copied, nothing decoded

  def __len__(self) -> int:
    return sys.maxsize // self.size

  def __getitem__(self, c: int) -> dict:
    s = self.spec
    if self.feature_shape:
      video = np.empty((self.size, *self.feature_shape), np.float32)
    else:
      video = np.empty((self.size, s.num_frames, s.frame_size, s.frame_size, s.channels), np.uint8)
    label = np.empty((self.size,), np.int32)
    for k in range(self.size):
      i = int(c) * self.size + k
      record = self.records[i]
      if self.feature_shape:
        video[k] = record["features"]
      else:
        train_clip(record, s, np.random.default_rng([self.seed, 1, i]), out=video[k])
      label[k] = record["label"]
    return {"video": video, "label": label}


def _iterate(ds: grain.MapDataset, threads: int) -> Iterator[dict]:
  return iter(ds.to_iter_dataset(grain.ReadOptions(num_threads=threads, prefetch_buffer_size=2 * threads)))


def train_batches(source, spec: ClipSpec, *, seed: int, global_batch: int, start_step: int = 0,
                  process_index: int = 0, process_count: int = 1, threads: int = 4) -> Iterator[dict]:
  """Endless iterator of this host's share of each global batch, from `start_step`."""
  if global_batch % process_count:
    raise ValueError(f"batch size {global_batch} is not divisible by the {process_count} processes")
  local = global_batch // process_count
  _keep_records_on_heap()
  # Host h takes the h-th chunk of `local` consecutive elements of each global batch (every
  # process_count-th chunk). Since augmentation is keyed by the global element index, the assembled global
  # batch is identical, element for element, whatever the number of hosts; only this host's elements are
  # ever computed.
  ds = grain.MapDataset.source(_TrainChunks(source, spec, seed, local))[process_index::process_count]
  return _iterate(ds[start_step:], threads)


class _Padded:
  """This host's records, padded so that every host runs the same number of batches."""

  def __init__(self, source, process_index: int, process_count: int, local_batch: int):
    self.source = source
    self.indices = list(range(process_index, len(source), process_count))
    per_host = -(-len(source) // process_count)
    self.length = -(-per_host // local_batch) * local_batch

  def __len__(self) -> int:
    return self.length

  def __getitem__(self, i: int) -> tuple[dict, bool]:
    if i < len(self.indices):
      return self.source[self.indices[i]], True
    return self.source[self.indices[0] if self.indices else 0], False


def eval_batches(source, spec: ClipSpec, *, global_batch: int, process_index: int = 0, process_count: int = 1,
                 threads: int = 4) -> Iterator[dict]:
  """Every example exactly once (mask marks padding), in a fixed order."""
  local = global_batch // process_count
  _keep_records_on_heap()
  ds = grain.MapDataset.source(_Padded(source, process_index, process_count, local))
  return _iterate(ds.map(EvalClips(spec)).batch(local, drop_remainder=True), threads)
