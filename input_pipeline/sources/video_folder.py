"""Any folder of videos: `<root>/<class>/*.{avi,mp4,mkv,webm,mov}`, split by a seeded stratified draw.

Class indices follow the sorted folder names (Unicode code-point order), so they are stable across
machines and runs. Files directly under `<root>` or in nested folders are ignored.
"""

from __future__ import annotations

import os

import numpy as np

from input_pipeline.sources.listing import DatasetLayoutError, VideoListing, VideoRecord

EXTENSIONS = (".avi", ".mp4", ".mkv", ".webm", ".mov")


def stratified_split(records: list[VideoRecord], fraction: float, seed: int) -> tuple[list, list]:
  """Per class, the held-out part is round(fraction * n) videos (at least 1 when n >= 2)."""
  rng = np.random.default_rng(seed)
  keep, held = [], []
  for label in sorted({r.label for r in records}):
    items = [r for r in records if r.label == label]
    order = rng.permutation(len(items))
    k = int(round(fraction * len(items)))
    if fraction > 0 and len(items) >= 2:
      k = min(max(k, 1), len(items) - 1)
    held += [items[i] for i in sorted(order[:k])]
    keep += [items[i] for i in sorted(order[k:])]
  return keep, held


def list_video_folder(root: str, test_fraction: float, seed: int) -> VideoListing:
  if not os.path.isdir(root):
    raise DatasetLayoutError(f"config.dataset.data_dir={root!r} is not a directory")
  classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)) and not d.startswith("."))
  records = []
  for label, cls in enumerate(classes):
    for name in sorted(os.listdir(os.path.join(root, cls))):
      if name.lower().endswith(EXTENSIONS) and not name.startswith("."):
        records.append(VideoRecord(path=os.path.join(root, cls, name), label=label))
  if not records:
    raise DatasetLayoutError(f"No videos ({', '.join(EXTENSIONS)}) in class folders under {root!r}; "
                             "expected <data_dir>/<class>/<video>")
  empty = [c for i, c in enumerate(classes) if not any(r.label == i for r in records)]
  if empty:
    raise DatasetLayoutError(f"Class folders without videos under {root!r}: {empty}")
  train, test = stratified_split(records, test_fraction, seed)
  return VideoListing(name="video_folder", root=root, classes=tuple(classes),
                      splits={"train": tuple(train), "test": tuple(test)})
