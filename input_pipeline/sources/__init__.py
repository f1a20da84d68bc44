"""Dataset sources: each turns `config.dataset` into a VideoListing of files + labels."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable

import ml_collections

from input_pipeline.sources import hmdb51, subsets, synthetic_motion, ucf101, video_folder
from input_pipeline.sources.listing import VideoListing


@dataclasses.dataclass(frozen=True)
class Source:
  list_videos: Callable[..., VideoListing]  # (config.dataset, data_dir, build) -> listing
  needs_data_dir: bool  # False: the source can make its own data
  flip_safe: bool  # False: a horizontal flip changes some labels
  num_classes: int = 0  # known without listing (0: count the class folders under data_dir)


def _synthetic(d: ml_collections.ConfigDict, root: str, build: bool) -> VideoListing:
  spec = synthetic_motion.GenerationSpec(num_groups=d.synthetic_groups, clips_per_group=d.synthetic_clips_per_group)
  return synthetic_motion.list_synthetic_motion(root, d.split, spec, workers=d.decode_workers, build=build)


def _features(d: ml_collections.ConfigDict, root: str, build: bool) -> VideoListing:
  raise ValueError(f"config.dataset.name='features' names a feature store ({root}), which holds no videos: "
                   "analyse or extract from the dataset the store was extracted from")


SOURCES: dict[str, Source] = {
    "synthetic_motion": Source(_synthetic, needs_data_dir=False, flip_safe=False,
                               num_classes=len(synthetic_motion.CLASSES)),
    "ucf101": Source(lambda d, root, build: ucf101.list_ucf101(root, d.split), needs_data_dir=True, flip_safe=True,
                     num_classes=101),
    "hmdb51": Source(lambda d, root, build: hmdb51.list_hmdb51(root, d.split), needs_data_dir=True, flip_safe=True,
                     num_classes=51),
    "video_folder": Source(lambda d, root, build: video_folder.list_video_folder(root, d.test_fraction, d.split_seed),
                           needs_data_dir=True, flip_safe=True),
    # what --mode=extract wrote (input_pipeline/feature_store.py): heads over stored features train from it
    "features": Source(_features, needs_data_dir=True, flip_safe=True),
}


def cache_root() -> str:
  return os.environ.get("VIDJAX_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "vidjax")


def data_dir(d: ml_collections.ConfigDict) -> str:
  if d.data_dir:
    return os.path.abspath(os.path.expanduser(d.data_dir))
  if d.name == "synthetic_motion":  # a new format generates beside an old cache instead of clashing with it
    return os.path.join(cache_root(), f"synthetic_motion_v{synthetic_motion.FORMAT_VERSION}")
  return os.path.join(cache_root(), d.name)


def store_dir(d: ml_collections.ConfigDict) -> str:
  if d.store_dir:
    return os.path.abspath(os.path.expanduser(d.store_dir))
  return os.path.join(cache_root(), "store")


def count_classes(d: ml_collections.ConfigDict) -> int:
  """The class count a config implies, without generating or listing any video (for --mode=summary)."""
  if d.classes:
    return len(d.classes)
  if d.name == "features":
    from input_pipeline import feature_store

    return len(feature_store.open_store(data_dir(d)).classes)
  known = SOURCES[d.name].num_classes
  if known:
    return known
  root = data_dir(d)
  if not os.path.isdir(root):
    raise ValueError(f"config.dataset.data_dir={d.data_dir!r}: no such directory, so the class count is unknown")
  return sum(1 for e in os.scandir(root) if e.is_dir() and not e.name.startswith("."))


def list_videos(d: ml_collections.ConfigDict, build: bool = True) -> VideoListing:
  """The source's listing, then the config's class subset, per-class caps and validation split.

  build=False never writes (a generated source raises NotReadyError until it exists).
  """
  if d.name not in SOURCES:
    raise ValueError(f"config.dataset.name={d.name!r} is not a dataset; choose one of {sorted(SOURCES)}")
  listing = SOURCES[d.name].list_videos(d, data_dir(d), build)
  listing = subsets.select_classes(listing, tuple(d.classes))
  listing = subsets.cap_per_class(listing, "train", d.max_train_per_class, d.split_seed)
  listing = subsets.cap_per_class(listing, "test", d.max_test_per_class, d.split_seed)
  return subsets.carve_validation(listing, d.val_fraction, d.split_seed)
