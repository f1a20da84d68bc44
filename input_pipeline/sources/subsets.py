"""Listing -> listing transforms shared by every source: class subsets, per-class caps, a validation split."""

from __future__ import annotations

import dataclasses

import numpy as np

from input_pipeline.sources.listing import DatasetLayoutError, VideoListing, VideoRecord
from input_pipeline.sources.video_folder import stratified_split


def select_classes(listing: VideoListing, names: tuple[str, ...]) -> VideoListing:
  """Keeps the named classes, relabelled 0..k-1 in the dataset's own class order."""
  if not names:
    return listing
  unknown = [n for n in names if n not in listing.classes]
  if unknown:
    raise DatasetLayoutError(f"config.dataset.classes has {unknown}, not classes of {listing.name}; "
                             f"it has {list(listing.classes)}")
  kept = [i for i, c in enumerate(listing.classes) if c in set(names)]
  remap = {old: new for new, old in enumerate(kept)}
  splits = {s: tuple(dataclasses.replace(r, label=remap[r.label]) for r in rs if r.label in remap)
            for s, rs in listing.splits.items()}
  return dataclasses.replace(listing, classes=tuple(listing.classes[i] for i in kept), splits=splits)


def cap_per_class(listing: VideoListing, split: str, cap: int, seed: int) -> VideoListing:
  """At most `cap` videos per class in `split`, drawn with a seed (0 = no cap)."""
  if cap <= 0:
    return listing
  rng = np.random.default_rng([seed, 17])
  records = listing.splits[split]
  kept = []
  for label in range(listing.num_classes):
    idx = [i for i, r in enumerate(records) if r.label == label]
    if len(idx) > cap:
      idx = sorted(rng.choice(idx, cap, replace=False).tolist())
    kept += idx
  return dataclasses.replace(listing, splits={**listing.splits, split: tuple(records[i] for i in sorted(kept))})


def carve_validation(listing: VideoListing, fraction: float, seed: int) -> VideoListing:
  """Moves ~fraction of each class's train videos to 'val'. Videos that share a group (UCF101 `gXX`:
  same actors and scene) move together, so no group is in both train and val."""
  if fraction <= 0:
    return listing
  train = list(listing.splits["train"])
  if all(r.group for r in train):
    rng = np.random.default_rng([seed, 29])
    keep: list[VideoRecord] = []
    held: list[VideoRecord] = []
    for label in range(listing.num_classes):
      items = [r for r in train if r.label == label]
      groups = sorted({r.group for r in items})
      rng.shuffle(groups)
      target, taken = fraction * len(items), set()
      for g in groups[:-1]:  # leave at least one group for training
        if sum(r.group in taken for r in items) >= target:
          break
        taken.add(g)
      held += [r for r in items if r.group in taken]
      keep += [r for r in items if r.group not in taken]
  else:
    keep, held = stratified_split(train, fraction, seed)
  order = {r.path: i for i, r in enumerate(train)}
  keep.sort(key=lambda r: order[r.path])
  held.sort(key=lambda r: order[r.path])
  return dataclasses.replace(listing, splits={**listing.splits, "train": tuple(keep), "val": tuple(held)})
