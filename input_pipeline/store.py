"""Decode once: a tfds builder turns a listing of video files into a compact store.

Each example holds the video's frames as concatenated JPEG bytes plus offsets, so
readers decode only the frames a clip samples. Stored as array_record, read back
with random access (`as_data_source`), no TensorFlow at read time: the loader reads
raw records through `records.ClipRecords` (three fields, blob not copied); whole
examples stay available for inspection. The JPEG blob is one bytes field: tfds would
store a uint8 tensor as one varint per byte, which made each record many times
slower to parse (BENCHMARKS.md).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import hashlib
import json
import os
import shutil
from typing import ClassVar

import numpy as np
import tensorflow_datasets as tfds
from absl import logging

from input_pipeline import decode, records
from input_pipeline import workers as workers_lib
from input_pipeline.sources.listing import NotReadyError, VideoListing, VideoRecord


@dataclasses.dataclass(frozen=True)
class StoreSpec:
  short_side: int = 128  # frames are resized so their short side is this
  fps: float = 0.0  # 0 keeps the source frame rate
  max_frames: int = 0  # 0 keeps every (resampled) frame
  min_frames: int = 16  # shorter videos are skipped and reported
  jpeg_quality: int = 90
  workers: int = 0  # decoding processes; 0 = one per CPU core


@dataclasses.dataclass(frozen=True)
class StoredDataset:
  """An opened store: random-access splits plus what the trainer needs to know."""

  name: str
  classes: tuple[str, ...]
  sources: dict[str, records.ClipRecords]  # split -> what the loader reads: jpeg, offsets, label
  examples: dict[str, object]  # split -> tfds data source of whole examples (path, fps, sizes, ...)
  class_counts: dict[str, list[int]]
  skipped: dict[str, list[dict]]
  path: str
  fingerprint: str  # hash of the listing (paths, labels per split) and the store settings

  def paths(self, split: str) -> list[str]:
    """The stored videos' file paths, in the order the loader reads them."""
    source = self.sources[split]
    return [source.path(i) for i in range(len(source))]

  @property
  def num_classes(self) -> int:
    return len(self.classes)


def encode_example(args: tuple[str, int, StoreSpec]) -> tuple[str, dict | None, str]:
  """Worker: decode one file -> (path, example or None, reason if skipped)."""
  path, label, spec = args
  try:
    video = decode.read_video(path, short_side=spec.short_side, fps=spec.fps, max_frames=spec.max_frames,
                              encode=functools.partial(decode.encode_jpeg, quality=spec.jpeg_quality))
  except decode.VideoDecodeError as e:
    return path, None, str(e)
  except Exception as e:
    return path, None, f"{path}: {type(e).__name__}: {e}"
  n = len(video.frames)
  if n < spec.min_frames:
    return path, None, f"{path}: {n} frames after resampling, fewer than the {spec.min_frames} a clip needs"
  blobs = video.frames  # JPEG-encoded as decoded: never the whole video as raw frames
  offsets = np.cumsum([0] + [len(b) for b in blobs]).astype(np.int64)
  stored_fps = spec.fps if spec.fps > 0 else video.source_fps
  return path, {
      "jpeg": b"".join(blobs),
      "offsets": offsets,
      "label": label,
      "path": path,
      "stored_fps": np.float32(stored_fps),
      "source_fps": np.float32(video.source_fps),
      "source_frames": np.int32(video.source_frames),
      "width": np.int32(video.width),
      "height": np.int32(video.height),
      "duration_s": np.float32(video.duration_s),
  }, ""


def example_features(classes: tuple[str, ...]) -> tfds.features.FeaturesDict:
  """What each stored example holds."""
  return tfds.features.FeaturesDict({
      "jpeg": tfds.features.Tensor(shape=(), dtype=np.object_),  # bytes: all frames' JPEGs
      "offsets": tfds.features.Tensor(shape=(None,), dtype=np.int64),
      "label": tfds.features.ClassLabel(names=list(classes)),
      "path": tfds.features.Text(),
      "stored_fps": tfds.features.Scalar(dtype=np.float32),
      "source_fps": tfds.features.Scalar(dtype=np.float32),
      "source_frames": tfds.features.Scalar(dtype=np.int32),
      "width": tfds.features.Scalar(dtype=np.int32),
      "height": tfds.features.Scalar(dtype=np.int32),
      "duration_s": tfds.features.Scalar(dtype=np.float32),
  })


class VideoStore(tfds.core.GeneratorBasedBuilder):
  """One builder config per (listing, store settings); see `open_store`."""

  VERSION = tfds.core.Version("2.0.0")
  RELEASE_NOTES: ClassVar[dict[str, str]] = {"2.0.0": "JPEG blob stored as bytes (fast to parse)."}

  def __init__(self, *, listing: VideoListing, spec: StoreSpec, config_name: str, **kwargs):
    self._listing = listing
    self._spec = spec
    super().__init__(config=tfds.core.BuilderConfig(name=config_name), file_format="array_record", **kwargs)

  def _info(self) -> tfds.core.DatasetInfo:
    return tfds.core.DatasetInfo(
        builder=self,
        description=f"{self._listing.name} frames stored as JPEG by vidjax",
        features=example_features(self._listing.classes),
        metadata=tfds.core.MetadataDict(),
    )

  def _split_generators(self, dl_manager):
    del dl_manager  # the files are local: nothing is ever downloaded
    return {split: self._generate_examples(split, records) for split, records in self._listing.splits.items()}

  def _generate_examples(self, split: str, records: tuple[VideoRecord, ...]):
    jobs = [(r.path, r.label, self._spec) for r in records]
    workers = self._spec.workers or os.cpu_count() or 1
    counts = [0] * self._listing.num_classes
    skipped = []
    if workers > 1 and len(jobs) > 8:
      pool = workers_lib.process_pool(min(workers, len(jobs)))
      results = pool.map(encode_example, jobs, chunksize=4)
    else:
      pool, results = None, map(encode_example, jobs)
    try:
      for i, (path, example, reason) in enumerate(results):
        if example is None:
          logging.warning("Skipping unreadable video (%s split): %s", split, reason)
          skipped.append({"path": path, "reason": reason})
          continue
        counts[example["label"]] += 1
        yield i, example
    finally:
      if pool is not None:
        pool.shutdown(cancel_futures=True)
    if not sum(counts):
      raise ValueError(f"{self._listing.name}: no video of the {split} split could be decoded "
                       f"({len(skipped)} skipped; first: {skipped[0]['reason'] if skipped else 'none listed'})")
    self.info.metadata[f"{split}_class_counts"] = counts
    self.info.metadata[f"{split}_skipped"] = skipped
    self.info.metadata[f"{split}_file_stats"] = {p: _size_and_mtime(p) for p, _, _ in jobs}


def _size_and_mtime(path: str) -> list[int]:
  try:
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns]
  except OSError:
    return [-1, -1]


def _changed_files(builder: VideoStore, listing: VideoListing) -> list[str]:
  """Listed files that still exist but differ (size or mtime) from when the store was built: replaced in place.

  Deleted files do not count: a built store is meant to outlive its source videos.
  """
  changed = []
  for split in listing.splits:
    recorded = builder.info.metadata.get(f"{split}_file_stats", {})
    for path, stat in recorded.items():
      now = _size_and_mtime(path)
      if now[0] >= 0 and list(stat) != now:
        changed.append(path)
  return changed


@contextlib.contextmanager
def _build_lock(config_dir: str):
  """One builder per store at a time, across processes: an advisory lock the kernel drops when its holder dies."""
  os.makedirs(config_dir, exist_ok=True)
  with open(os.path.join(config_dir, "build.lock"), "a") as f:
    try:
      fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      logging.info("Waiting for another process building the store in %s", config_dir)
      fcntl.flock(f, fcntl.LOCK_EX)
    try:
      yield
    finally:
      fcntl.flock(f, fcntl.LOCK_UN)


def _remove_stale_partial_builds(data_dir) -> None:
  """tfds builds into `incomplete.XXXXXX_<version>` and renames it when done; one left by a killed build is junk.

  Called under the build lock, so no live build owns one.
  """
  parent, version = os.path.split(os.fspath(data_dir).rstrip("/"))
  for entry in os.listdir(parent) if os.path.isdir(parent) else []:
    if entry.startswith("incomplete.") and entry.endswith(f"_{version}"):
      logging.warning("Removing %s, left by a store build that did not finish", os.path.join(parent, entry))
      shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)


def _config_name(listing: VideoListing, spec: StoreSpec) -> str:
  key = json.dumps({
      "root": os.path.abspath(listing.root),
      "splits": {s: [(r.path, r.label) for r in rs] for s, rs in sorted(listing.splits.items())},
      "spec": {k: v for k, v in dataclasses.asdict(spec).items() if k != "workers"},
  }, sort_keys=True)
  return f"{listing.name}_{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def open_store(listing: VideoListing, spec: StoreSpec, store_dir: str, *, build: bool = True) -> StoredDataset:
  """Builds the store on first use (idempotent: an interrupted build restarts), then opens it."""
  for split, recs in listing.splits.items():
    if not recs:
      raise ValueError(f"{listing.name}: the {split} split lists no videos (root {listing.root!r})")
  name = _config_name(listing, spec)
  builder = VideoStore(listing=listing, spec=spec, config_name=name, data_dir=store_dir)
  if build:
    with _build_lock(os.path.dirname(builder.data_dir)):
      builder = VideoStore(listing=listing, spec=spec, config_name=name, data_dir=store_dir)  # another may have built it
      if builder.is_prepared():
        changed = _changed_files(builder, listing)
        if changed:
          logging.warning("%d video(s) changed since the store %s was built (first: %s); rebuilding it", len(changed),
                          builder.data_dir, changed[0])
          shutil.rmtree(builder.data_dir)
          builder = VideoStore(listing=listing, spec=spec, config_name=name, data_dir=store_dir)
      else:
        _remove_stale_partial_builds(builder.data_dir)
      builder.download_and_prepare()
  elif not builder.is_prepared():
    raise NotReadyError(f"No store at {builder.data_dir} yet: process 0 builds it")
  meta = builder.info.metadata
  skipped = {s: list(meta.get(f"{s}_skipped", [])) for s in listing.splits}
  for split, items in skipped.items():
    if items:
      logging.warning("%s/%s: %d of %d videos were skipped as unreadable; list in %s/metadata.json",
                      listing.name, split, len(items), len(listing.splits[split]), builder.data_dir)
  sources, examples = {}, {}
  for split in listing.splits:
    if builder.info.splits[split].num_examples == 0:
      raise ValueError(f"{listing.name}: no video of the {split} split could be decoded; see {builder.data_dir}/metadata.json")
    examples[split] = builder.as_data_source(split)
    raw = builder.as_data_source(split, deserialize_method=tfds.decode.DeserializeMethod.RAW_BYTES)
    # array_record's own source: tfds's wrapper adds nothing for raw bytes, and unlike it this one pickles.
    sources[split] = records.ClipRecords(raw.data_source, f"{builder.data_dir} ({split})")
  return StoredDataset(
      name=listing.name,
      classes=listing.classes,
      sources=sources,
      examples=examples,
      class_counts={s: list(meta[f"{s}_class_counts"]) for s in listing.splits},
      skipped=skipped,
      path=str(builder.data_dir),
      fingerprint=name.rsplit("_", 1)[-1],
  )
