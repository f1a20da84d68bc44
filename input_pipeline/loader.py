"""A stored split -> batched numpy examples for this host, for training (endless, shuffled) and evaluation.

Batches are a pure function of (seed, step): the element at global position i is shuffled record
`perm_epoch(i)` with augmentation drawn from a generator keyed by i. Resuming at step s therefore only needs s,
and every host computes the same global order and takes its own slice.

A split is any source of records that also says how a record becomes an example: `records.ClipRecords` (a
frame store: clips decoded from its JPEGs) and `feature_store.FeatureRecords` (stored features, copied). Each has
`len()`, `[i]` -> a record with a "label", `path(i)`, `example_shape(spec)`, `example_dtype`,
`train_example(record, spec, rng, out)` and `eval_views(record, spec)`.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterator

import grain
import numpy as np

from input_pipeline.clips import ClipSpec


class _EvalViews(grain.transforms.Map):
  """(record, valid) -> {"video": the split's eval views [V, ...], "label", "mask"}."""

  def __init__(self, source, spec: ClipSpec):
    self.source, self.spec = source, spec

  def map(self, item: tuple[dict, bool]) -> dict:
    record, valid = item
    return {"video": self.source.eval_views(record, self.spec), "label": np.int32(record["label"]),
            "mask": np.bool_(valid)}


class _EpochShuffled:
  """The endless record stream: element i is record perm_e(i mod n) for epoch e = i // n.

  Replaces grain's `shuffle().repeat()`, whose per-element index_shuffle costs grow as the dataset shrinks
  (benchmarks/loader_parts.py); a cached numpy permutation per epoch is O(1).
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

  Element i is made with a generator keyed by (seed, i), so a chunk is a pure function of (seed, c). Examples
  are written straight into the batch array: grain's per-element map and batch stacking hold the GIL per clip,
  and the loader threads would otherwise queue on it.
  """

  def __init__(self, source, spec: ClipSpec, seed: int, size: int):
    self.source, self.spec, self.seed, self.size = source, spec, seed, size
    self.records = _EpochShuffled(source, seed)

  def __len__(self) -> int:
    return sys.maxsize // self.size

  def __getitem__(self, c: int) -> dict:
    video = np.empty((self.size, *self.source.example_shape(self.spec)), self.source.example_dtype)
    label = np.empty((self.size,), np.int32)
    for k in range(self.size):
      i = int(c) * self.size + k
      record = self.records[i]
      self.source.train_example(record, self.spec, np.random.default_rng([self.seed, 1, i]), video[k])
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
  ds = grain.MapDataset.source(_Padded(source, process_index, process_count, local))
  return _iterate(ds.map(_EvalViews(source, spec)).batch(local, drop_remainder=True), threads)
