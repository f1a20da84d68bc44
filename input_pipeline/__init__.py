"""Videos on disk -> stored frames -> augmented batches. See ARCHITECTURE.md."""

from __future__ import annotations

import time

import ml_collections
from absl import logging

from input_pipeline.loader import ClipSpec
from input_pipeline.sources import list_videos, store_dir
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


def open_dataset(c: ml_collections.ConfigDict, *, splits: tuple[str, ...] = (), process_index: int = 0,
                 poll_seconds: float = 2.0) -> StoredDataset:
  """Lists the videos (generating synthetic ones on first use), builds the store once, opens it.

  In a multi-host job process 0 builds; every other process polls the shared filesystem until the finished
  store is there (not a device barrier: a UCF101 build takes far longer than collective timeouts).
  """
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


def open_features(c: ml_collections.ConfigDict, splits: tuple[str, ...]) -> StoredDataset:
  """A feature store (config.dataset.name='features', data_dir = what --mode=extract wrote) as a dataset.

  Refuses a store that does not match the config: frames per video, feature dimension, classes.
  """
  import numpy as np

  from input_pipeline import feature_store
  from input_pipeline.sources import data_dir

  fs = feature_store.open_store(data_dir(c.dataset))
  if (c.input.num_frames, c.input.feature_dim) != (fs.frames, fs.dim):
    raise ValueError(f"the feature store {fs.path} holds {fs.frames} x {fs.dim} features per video; the config "
                     f"asks for config.input.num_frames={c.input.num_frames} x config.input.feature_dim="
                     f"{c.input.feature_dim}: set them to the store's")
  if c.dataset.classes and tuple(c.dataset.classes) != fs.classes:
    raise ValueError(f"config.dataset.classes={tuple(c.dataset.classes)} but the feature store {fs.path} holds "
                     f"classes {fs.classes}; extract a store for the subset, or leave config.dataset.classes=()")
  sources = {s: fs.split(s) for s in splits}
  counts = {s: np.bincount(np.asarray(src.labels, np.int64), minlength=len(fs.classes)).tolist()
            for s, src in sources.items()}
  backbone = fs.index["backbone"].get("name", "?")
  return StoredDataset(name=f"features({backbone})", classes=fs.classes, sources=sources, examples={},
                       class_counts=counts, skipped={s: [] for s in splits}, path=fs.path, fingerprint=fs.fingerprint)


def _open(c: ml_collections.ConfigDict, splits: tuple[str, ...], build: bool) -> StoredDataset:
  if c.dataset.name == "features":
    return open_features(c, splits or (c.dataset.train_split, c.dataset.eval_split))
  listing = list_videos(c.dataset, build=build)
  wanted = splits or (c.dataset.train_split, c.dataset.eval_split)
  missing = [s for s in wanted if s not in listing.splits]
  if missing:
    raise ValueError(f"{listing.name} has splits {sorted(listing.splits)}; config asks for {missing} "
                     "(config.dataset.train_split / eval_split)")
  return open_store(listing, store_spec(c), store_dir(c.dataset), build=build)
