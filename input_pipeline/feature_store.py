"""A feature store: per video an N x D float32 array (N frames or clips, D features), label and source path.

Written by `--mode=extract` (vidjax/features/extract.py), read as one more dataset source: `open_dataset` returns
a `StoredDataset` whose splits give random access to {"features": [N, D], "label"} and copy them into batches,
so heads over stored features train, evaluate and report through the same loader, step and files as every other
model. The store says its own N x D: nothing in a config repeats it.

Layout (every shard a plain .npy, memory-mapped on read: no parsing, no pickle, random access by a slice):

  <dir>/features.json            what made it (backbone identity, frames, dim, classes, source data) + splits
  <dir>/<split>/<k>.json         shard k's labels and video paths
  <dir>/<split>/<k>.npy          shard k's features [n_k, N, D]; written last (via a temporary name), so a shard
                                 whose .npy exists is complete and an interrupted extraction redoes only the rest
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os

import numpy as np

from input_pipeline import bounded_json

FORMAT = 1
MAX_JSON_BYTES = 64 * 2**20  # features.json / shard json larger than this are refused, not read


class FeatureStoreError(ValueError):
  pass


def _read_json(path: str) -> dict:
  return bounded_json.read_object(path, MAX_JSON_BYTES, FeatureStoreError,
                                  "is this a feature store written by --mode=extract? (a damaged one: extract again)")


def shard_name(k: int) -> str:
  return f"{k:05d}"


def shard_ranges(n: int, shard_size: int) -> list[tuple[int, int]]:
  return [(a, min(a + shard_size, n)) for a in range(0, n, shard_size)]


def write_index(path: str, index: dict) -> None:
  os.makedirs(path, exist_ok=True)
  tmp = os.path.join(path, "features.json.tmp")
  with open(tmp, "w", encoding="utf-8") as f:
    json.dump(index, f, indent=1)
  os.replace(tmp, os.path.join(path, "features.json"))


def shard_done(path: str, split: str, k: int) -> bool:
  return os.path.exists(os.path.join(path, split, shard_name(k) + ".npy"))


def write_shard(path: str, split: str, k: int, features: np.ndarray, labels: list[int], videos: list[str]) -> None:
  """Index first, array last and atomically: the .npy's presence is the shard's completion mark."""
  folder = os.path.join(path, split)
  os.makedirs(folder, exist_ok=True)
  with open(os.path.join(folder, shard_name(k) + ".json"), "w", encoding="utf-8") as f:
    json.dump({"labels": [int(x) for x in labels], "videos": list(videos)}, f)
  tmp = os.path.join(folder, shard_name(k) + ".tmp.npy")
  np.save(tmp, np.ascontiguousarray(features, np.float32), allow_pickle=False)
  os.replace(tmp, os.path.join(folder, shard_name(k) + ".npy"))


class FeatureRecords:
  """One split: random access to {"features": float32 [N, D] (a view into a memory-mapped shard), "label": int},
  and how such a record becomes the loader's examples: the stored rows as they are, one view per video."""

  example_dtype = np.float32

  def __init__(self, path: str, split: str, meta: dict, frames: int, dim: int, num_classes: int):
    self.where = f"{path} ({split})"
    self.feature_shape = (frames, dim)
    n, size = int(meta["videos"]), int(meta["shard_size"])
    if n < 0 or size < 1:
      raise FeatureStoreError(f"{path}/features.json: split {split} has {n} videos in shards of {size}")
    self.shard_size, self.n = size, n
    self.arrays, self.labels, self.videos, self.shards = [], [], [], []
    for k, (a, b) in enumerate(shard_ranges(n, size)):
      base = os.path.join(path, split, shard_name(k))
      if not os.path.exists(base + ".npy"):
        raise FeatureStoreError(f"{base}.npy is missing: the extraction did not finish; rerun --mode=extract with "
                                "the same settings to complete it")
      index = _read_json(base + ".json")
      try:
        arr = np.load(base + ".npy", mmap_mode="r", allow_pickle=False)
      except (ValueError, OSError) as e:
        raise FeatureStoreError(f"{base}.npy cannot be read ({e}); delete it and rerun --mode=extract") from e
      labels, videos = index.get("labels"), index.get("videos")
      if (arr.dtype != np.float32 or arr.shape != (b - a, frames, dim) or not isinstance(labels, list)
          or not isinstance(videos, list) or len(labels) != b - a or len(videos) != b - a):
        raise FeatureStoreError(f"{base}.npy holds {arr.dtype} {arr.shape} with {len(labels or [])} labels; "
                                f"features.json says {(b - a, frames, dim)} float32: delete the shard and rerun "
                                "--mode=extract")
      bad = next((x for x in labels if type(x) is not int or not 0 <= x < num_classes), None)
      if bad is not None:
        raise FeatureStoreError(f"{base}.json holds the label {bad!r}, not a class index of the store's {num_classes} "
                                "classes: delete the shard and rerun --mode=extract")
      self.arrays.append(arr)
      self.shards.append(base + ".npy")
      self.labels += labels
      self.videos += [str(v) for v in videos]

  def __len__(self) -> int:
    return self.n

  def __getitem__(self, i: int) -> dict:
    k, j = divmod(int(i), self.shard_size)
    row = self.arrays[k][j]
    if not np.isfinite(row).all():  # checked as read: a scan at open would read every shard of a large store
      raise FeatureStoreError(f"{self.shards[k]}: the features of {self.videos[i]!r} (row {j}) hold NaN or infinite "
                              "values: delete the shard and rerun --mode=extract")
    return {"features": row, "label": self.labels[i]}

  def path(self, i: int) -> str:
    return self.videos[i]

  def example_shape(self, spec=None) -> tuple[int, int]:
    return self.feature_shape

  @staticmethod
  def train_example(record: dict, spec, rng, out: np.ndarray) -> None:
    del spec, rng  # stored features are not augmented
    out[...] = record["features"]

  @staticmethod
  def eval_views(record: dict, spec) -> np.ndarray:
    del spec
    return np.array(record["features"], np.float32)[None]


@dataclasses.dataclass(frozen=True)
class FeatureStore:
  path: str
  index: dict

  @property
  def frames(self) -> int:
    return int(self.index["frames"])

  @property
  def dim(self) -> int:
    return int(self.index["dim"])

  @property
  def classes(self) -> tuple[str, ...]:
    return tuple(self.index["classes"])

  @property
  def fingerprint(self) -> str:
    key = json.dumps({k: self.index[k] for k in ("backbone", "frames", "dim", "classes", "source")}, sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:12]

  def split(self, split: str) -> FeatureRecords:
    splits = self.index["splits"]
    if split not in splits:
      raise FeatureStoreError(f"{self.path} holds splits {sorted(splits)}, not {split!r} "
                              "(config.dataset.train_split / eval_split, or features.splits when extracting)")
    return FeatureRecords(self.path, split, splits[split], self.frames, self.dim, len(self.classes))


def open_store(path: str) -> FeatureStore:
  index = _read_json(os.path.join(path, "features.json"))
  if index.get("format") != FORMAT:
    raise FeatureStoreError(f"{path}/features.json: format {index.get('format')!r}, this vidjax reads {FORMAT}")
  for key, kind in (("frames", int), ("dim", int), ("classes", list), ("splits", dict), ("backbone", dict),
                    ("source", dict)):
    if not isinstance(index.get(key), kind):
      raise FeatureStoreError(f"{path}/features.json: '{key}' missing or not a {kind.__name__}")
  if not all(isinstance(c, str) for c in index["classes"]) or len(set(index["classes"])) != len(index["classes"]):
    raise FeatureStoreError(f"{path}/features.json: 'classes' must be distinct names")
  if not (0 < index["frames"] <= 4096 and 0 < index["dim"] <= 1 << 20):
    raise FeatureStoreError(f"{path}/features.json: {index['frames']} x {index['dim']} features per video is out of range")
  return FeatureStore(os.path.abspath(path), index)


def open_dataset(path: str, splits: tuple[str, ...], classes: tuple[str, ...] = ()):
  """The store at `path` as a dataset (a StoredDataset of FeatureRecords splits). `classes` (config.dataset.classes)
  must be the store's own when given."""
  from input_pipeline.store import StoredDataset

  fs = open_store(path)
  if classes and tuple(classes) != fs.classes:
    raise FeatureStoreError(f"config.dataset.classes={tuple(classes)} but the feature store {fs.path} holds classes "
                            f"{fs.classes}; extract a store for the subset, or leave config.dataset.classes=()")
  sources = {s: fs.split(s) for s in splits}
  counts = {s: np.bincount(np.asarray(src.labels, np.int64), minlength=len(fs.classes)).tolist()
            for s, src in sources.items()}
  return StoredDataset(name=f"features({fs.index['backbone'].get('name', '?')})", classes=fs.classes,
                       sources=sources, examples={}, class_counts=counts, skipped={s: [] for s in splits},
                       path=fs.path, fingerprint=fs.fingerprint)


def extracted_path(features_out: str, workdir: str | None) -> str | None:
  """Where --mode=extract writes a store: config.features.out, else <workdir>/features (None: no workdir)."""
  if features_out:
    return os.path.abspath(os.path.expanduser(features_out))
  return os.path.abspath(os.path.join(workdir, "features")) if workdir else None
