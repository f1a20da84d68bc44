"""Videos on disk -> stored frames (or stored features) -> batches. See ARCHITECTURE.md."""

from __future__ import annotations

import os
import time

import ml_collections
from absl import logging

from input_pipeline import feature_store
from input_pipeline.clips import ClipSpec
from input_pipeline.sources import SOURCES, data_dir, list_videos, resolve, store_dir
from input_pipeline.sources.listing import NotReadyError
from input_pipeline.store import StoredDataset, StoreSpec, open_store


def clip_spec(c: ml_collections.ConfigDict) -> ClipSpec:
  i = c.input
  return ClipSpec(num_frames=i.num_frames, frame_size=i.frame_size, channels=i.channels,
                  train_sampling=i.train_sampling, frame_stride=i.frame_stride, eval_clips=i.eval_clips,
                  eval_crops=i.eval_crops,
                  crop_scale=tuple(i.crop_scale), crop_aspect=tuple(i.crop_aspect), flip=i.flip,
                  brightness=i.brightness, contrast=i.contrast)


def store_spec(c: ml_collections.ConfigDict) -> StoreSpec:
  d = c.dataset
  return StoreSpec(short_side=d.store_short_side, fps=d.store_fps, max_frames=d.store_max_frames,
                   min_frames=c.input.num_frames, workers=d.decode_workers)


def open_dataset(c: ml_collections.ConfigDict, *, splits: tuple[str, ...] = (), reads: str | None = None,
                 workdir: str | None = None, process_index: int = 0, poll_seconds: float = 2.0) -> StoredDataset:
  """Opens what `reads` ("frames" or "features"; default: what config.dataset gives) from config.dataset: video
  sources are listed (synthetic ones generated on first use) and stored once; a feature store opens as written,
  and a video dataset read as features is the store extracted from it (sources.resolve).

  In a multi-host job process 0 builds; every other process polls the shared filesystem until the finished
  store is there (not a device barrier: a UCF101 build takes far longer than collective timeouts).
  """
  c = resolve(c, reads or SOURCES[c.dataset.name].gives, workdir)
  splits = splits or (c.dataset.train_split, c.dataset.eval_split)
  if process_index == 0:
    return _open(c, splits, build=True)
  waited = 0.0
  while True:
    try:
      return _open(c, splits, build=False)
    except NotReadyError as e:
      if waited % 60 < poll_seconds:
        logging.info("Process %d waiting for process 0: %s", process_index, e)
      time.sleep(poll_seconds)
      waited += poll_seconds


def example_shape(c: ml_collections.ConfigDict, reads: str, workdir: str | None = None) -> tuple[int, ...] | None:
  """One example's shape without listing or generating anything: a clip's, or the feature store's own N x D
  (None while no store exists)."""
  if reads == "frames":
    return clip_spec(c).shape
  if SOURCES[c.dataset.name].gives == "features":
    path = data_dir(c.dataset)
  else:
    path = feature_store.extracted_path(c.features.out, workdir)
  if path is None or not os.path.isfile(os.path.join(path, "features.json")):
    return None
  fs = feature_store.open_store(path)
  return (fs.frames, fs.dim)


def _open(c: ml_collections.ConfigDict, splits: tuple[str, ...], build: bool) -> StoredDataset:
  if SOURCES[c.dataset.name].gives == "features":
    return feature_store.open_dataset(data_dir(c.dataset), splits, tuple(c.dataset.classes))
  listing = list_videos(c.dataset, build=build)
  missing = [s for s in splits if s not in listing.splits]
  if missing:
    raise ValueError(f"{listing.name} has splits {sorted(listing.splits)}; config asks for {missing} "
                     "(config.dataset.train_split / eval_split)")
  return open_store(listing, store_spec(c), store_dir(c.dataset), build=build)
