"""HMDB51 official layout: `<root>/<class>/<name>.avi` and `<class>_test_split{1,2,3}.txt` files.

Each split file line is `<name>.avi <0|1|2>` (0 unused, 1 train, 2 test). Class names contain underscores,
so the class is the file name minus `_test_splitN.txt`. Classes are indexed in sorted order.
"""

from __future__ import annotations

import os

from input_pipeline.sources.listing import DatasetLayoutError, VideoListing, VideoRecord, choose_video_root, folder_entries

SPLITS_DIRS = ("testTrainMulti_7030_splits", "splits", ".", "annotations", "annotations/testTrainMulti_7030_splits")
VIDEO_DIRS = (".", "videos", "hmdb51_org", "hmdb51")  # MMAction2 keeps the class folders in videos/


def find_splits_dir(root: str, split: int) -> str:
  """In data_dir or beside it (data_dir may be the folder of class folders, with the splits next to it)."""
  root = os.path.normpath(root)
  for base in (root, os.path.dirname(root)):
    for d in SPLITS_DIRS:
      path = os.path.normpath(os.path.join(base, d))
      if os.path.isdir(path) and any(f.endswith(f"_test_split{split}.txt") for f in os.listdir(path)):
        return path
  raise DatasetLayoutError(
      f"No HMDB51 split files (*_test_split{split}.txt) in {root!r}, beside it, or in their {SPLITS_DIRS[0]}/ or "
      f"annotations/ folders (found there: {folder_entries(root)}). Unpack test_train_splits.rar beside the class "
      "folders, or check config.dataset.data_dir.")


def list_hmdb51(root: str, split: int) -> VideoListing:
  if split not in (1, 2, 3):
    raise DatasetLayoutError(f"config.dataset.split must be 1, 2 or 3 for hmdb51, got {split}")
  splits_dir = find_splits_dir(root, split)
  suffix = f"_test_split{split}.txt"
  files = sorted(f for f in os.listdir(splits_dir) if f.endswith(suffix))
  classes = [f[: -len(suffix)] for f in files]
  sample = _first_listed(splits_dir, files[:5])
  base = os.path.normpath(root)
  candidates = [os.path.join(b, d) for b in (base, os.path.dirname(splits_dir), os.path.dirname(base)) for d in VIDEO_DIRS]
  root = choose_video_root("hmdb51", candidates, sample, splits_dir)
  train, test = [], []
  for label, (cls, fname) in enumerate(zip(classes, files, strict=True)):
    with open(os.path.join(splits_dir, fname), encoding="utf-8") as f:
      for lineno, line in enumerate(f, 1):
        line = line.strip()
        if not line:
          continue
        name, _, tag = line.rpartition(" ")
        if tag not in ("0", "1", "2") or not name:
          raise DatasetLayoutError(f"{fname}:{lineno}: expected '<video name> <0|1|2>', got {line!r}")
        record = VideoRecord(path=os.path.join(root, cls, name.strip()), label=label)
        if tag == "1":
          train.append(record)
        elif tag == "2":
          test.append(record)
  return VideoListing(name="hmdb51", root=root, classes=tuple(classes), splits={"train": tuple(train), "test": tuple(test)})


def _first_listed(splits_dir: str, files: list[str], per_class: int = 4) -> list[str]:
  """`<class>/<video>` for the first few videos of the first few split files: what must exist under the video root."""
  out = []
  for fname in files:
    cls = fname[: fname.rindex("_test_split")]
    with open(os.path.join(splits_dir, fname), encoding="utf-8") as f:
      names = [line.strip().rpartition(" ")[0].strip() for line in f if line.strip()][:per_class]
    out += [f"{cls}/{n}" for n in names if n]
  return out
