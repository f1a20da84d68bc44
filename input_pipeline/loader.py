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


class TrainClip(grain.transforms.RandomMap):

  def __init__(self, spec: ClipSpec):
    self.spec = spec

  def random_map(self, record: dict, rng: np.random.Generator) -> dict:
    s = self.spec
    idx = sampling.train_indices(num_stored_frames(record), s.num_frames, s.train_sampling, s.frame_stride, rng)
    frames = _frames(record, idx)
    box = augment.random_crop_box(*frames[0].shape[:2], s.crop_scale, s.crop_aspect, rng)
    clip = augment.crop_resize(frames, box, s.frame_size)
    if s.flip and rng.uniform() < 0.5:
      clip = augment.flip_horizontal(clip)
    clip = augment.photometric(clip, s.brightness, s.contrast, rng)
    return {"video": augment.to_channels(clip, s.channels),
            "label": np.int32(record["label"])}


class EvalClips(grain.transforms.Map):
  """Deterministic clips x crops; 'video' is [eval_clips * eval_crops, T, H, W, C] (clip-major)."""

  def __init__(self, spec: ClipSpec):
    self.spec = spec

  def map(self, item: tuple[dict, bool]) -> dict:
    record, valid = item
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
  """The endless training stream: element i is record perm_e(i mod n) for epoch e = i // n.

  Replaces grain's `shuffle().repeat()`, whose per-element index_shuffle costs ~18,000 / n us
  (0.4 ms per clip for 48 videos, 70 us for 270); a cached numpy permutation per epoch is O(1).
  """

  def __init__(self, source, seed: int):
    self.source, self.seed, self.n = source, seed, len(source)

  def __len__(self) -> int:
    return sys.maxsize

  def __getitem__(self, i: int):
    epoch, j = divmod(int(i), self.n)
    return self.source[int(_epoch_order(self.seed, self.n, epoch)[j])]


@functools.lru_cache(maxsize=8)  # threads straddling an epoch boundary need the last two
def _epoch_order(seed: int, n: int, epoch: int) -> np.ndarray:
  return np.random.default_rng([seed, epoch]).permutation(n)


def train_batches(source, spec: ClipSpec, *, seed: int, global_batch: int, start_step: int = 0,
                  process_index: int = 0, process_count: int = 1, threads: int = 4) -> Iterator[dict]:
  """Endless iterator of this host's share of each global batch, from `start_step`."""
  if global_batch % process_count:
    raise ValueError(f"batch size {global_batch} is not divisible by the {process_count} processes")
  local = global_batch // process_count
  _keep_records_on_heap()
  ds = grain.MapDataset.source(_EpochShuffled(source, seed)).seed(seed).random_map(TrainClip(spec))
  # Augmentation is keyed by the global element index, and host h takes the h-th contiguous block of each
  # global batch (chunks of `local` consecutive elements, every process_count-th chunk). So the assembled
  # global batch is identical, element for element, whatever the number of hosts; only this host's
  # elements are ever computed.
  ds = ds.batch(local, drop_remainder=True)[process_index::process_count]
  return iter(ds[start_step:].to_iter_dataset(grain.ReadOptions(num_threads=threads, prefetch_buffer_size=2 * threads)))


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
  ds = ds.map(EvalClips(spec)).batch(local, drop_remainder=True)
  return iter(ds.to_iter_dataset(grain.ReadOptions(num_threads=threads, prefetch_buffer_size=2 * threads)))
