"""Dataset sources: `config.dataset.name` -> what it gives (video frames or stored features) and how it opens.

A video source lists files + labels (a VideoListing), which the frame store decodes once; the feature store
(what --mode=extract wrote) opens as it was written. A model names what it reads (frames or features); a video
dataset read as features is the store extracted from it (`resolve`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable

import ml_collections

from input_pipeline.sources import hmdb51, subsets, synthetic_motion, ucf101, video_folder
from input_pipeline.sources.listing import VideoListing


@dataclasses.dataclass(frozen=True)
class Source:
  list_videos: Callable[..., VideoListing] | None  # (config.dataset, data_dir, build) -> listing; None: no videos
  needs_data_dir: bool  # False: the source can make its own data
  flip_safe: bool  # False: a horizontal flip changes some labels
  num_classes: int = 0  # known without listing (0: count the class folders under data_dir)

  @property
  def gives(self) -> str:
    return "frames" if self.list_videos is not None else "features"


def _synthetic(d: ml_collections.ConfigDict, root: str, build: bool) -> VideoListing:
  spec = synthetic_motion.GenerationSpec(num_groups=d.synthetic_groups, clips_per_group=d.synthetic_clips_per_group)
  return synthetic_motion.list_synthetic_motion(root, d.split, spec, workers=d.decode_workers, build=build)


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
    "features": Source(None, needs_data_dir=True, flip_safe=True),
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
  if SOURCES[d.name].gives == "features":
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
  if SOURCES[d.name].list_videos is None:
    raise ValueError(f"config.dataset.name={d.name!r} names a feature store ({data_dir(d)}), which holds no videos: "
                     "name the video dataset the store was extracted from")
  listing = SOURCES[d.name].list_videos(d, data_dir(d), build)
  listing = subsets.select_classes(listing, tuple(d.classes))
  listing = subsets.cap_per_class(listing, "train", d.max_train_per_class, d.split_seed)
  listing = subsets.cap_per_class(listing, "test", d.max_test_per_class, d.split_seed)
  return subsets.carve_validation(listing, d.val_fraction, d.split_seed)


def resolve(c: ml_collections.ConfigDict, reads: str, workdir: str | None = None) -> ml_collections.ConfigDict:
  """The config whose dataset gives what the model reads ("frames" or "features"). A video dataset read as
  features is the store extracted from it: config.features.out, or <workdir>/features where --mode=extract
  writes by default."""
  import copy

  from input_pipeline import feature_store

  gives = SOURCES[c.dataset.name].gives
  if gives == reads:
    return c
  if reads == "frames":
    raise ValueError(f"config.dataset.name={c.dataset.name!r} is a feature store, but config.model.name="
                     f"{c.model.name!r} reads video frames: name the video dataset instead")
  store = feature_store.extracted_path(c.features.out, workdir)
  if store is None or not os.path.isfile(os.path.join(store, "features.json")):
    where = store or "config.features.out (unset, and no --workdir)"
    raise FileNotFoundError(f"No feature store at {where}: config.model.name={c.model.name!r} reads stored features; "
                            "extract them first with the same --config and --workdir and --mode=extract (or set "
                            "config.features.out to a store)")
  out = copy.deepcopy(c)
  out.dataset.name = "features"
  out.dataset.data_dir = store
  return out
