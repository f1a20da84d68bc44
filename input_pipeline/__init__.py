"""Videos on disk -> stored frames -> augmented batches. See ARCHITECTURE.md."""

from __future__ import annotations

import ml_collections

from input_pipeline.loader import ClipSpec
from input_pipeline.sources import list_videos, store_dir
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


def open_dataset(c: ml_collections.ConfigDict, *, is_builder: bool = True, splits: tuple[str, ...] = ()) -> StoredDataset:
  """Lists the videos (generating synthetic ones on first use), builds the store once, opens it.

  In a multi-host job only process 0 passes is_builder=True; the others get
  NotReadyError until process 0 is done, and retry (see vidjax.train).
  """
  listing = list_videos(c.dataset, build=is_builder)
  wanted = splits or (c.dataset.train_split, c.dataset.eval_split)
  missing = [s for s in wanted if s not in listing.splits]
  if missing:
    raise ValueError(f"{listing.name} has splits {sorted(listing.splits)}; config asks for {missing} "
                     "(config.dataset.train_split / eval_split)")
  return open_store(listing, store_spec(c), store_dir(c.dataset), build=is_builder)
