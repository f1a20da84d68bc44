"""UCF101 official layout: `<root>/<Class>/v_<Class>_gXX_cYY.avi` + `ucfTrainTestlist/`.

The synthetic motion set is written in this layout too, so one parser serves both.
Official test lists carry no label: it comes from the folder name via classInd.txt.
"""

from __future__ import annotations

import os
import re

from input_pipeline.sources.listing import (
  DatasetLayoutError,
  VideoListing,
  VideoRecord,
  choose_video_root,
  folder_entries,
  require_file,
)

SPLITS_DIR = "ucfTrainTestlist"
LIST_DIRS = (SPLITS_DIR, "annotations")  # the official zip; MMAction2's data/ucf101/annotations
VIDEO_DIRS = (".", "UCF-101", "UCF101", "videos")  # the official rar unpacks to UCF-101/; MMAction2 uses videos/
_GROUP_RE = re.compile(r"_(g\d+)_c\d+", re.IGNORECASE)


def _canonical(name: str) -> str:
  # UCF101's lists spell one class `HandStandPushups`, its folder `HandstandPushups`.
  return name.lower()


def read_class_index(path: str) -> list[str]:
  classes: dict[int, str] = {}
  with open(path, encoding="utf-8") as f:
    for lineno, line in enumerate(f, 1):
      if not line.strip():
        continue
      parts = line.split()
      if len(parts) != 2 or not parts[0].isdigit():
        raise DatasetLayoutError(f"{path}:{lineno}: expected '<index> <ClassName>', got {line.strip()!r}")
      classes[int(parts[0])] = parts[1]
  if sorted(classes) != list(range(1, len(classes) + 1)):
    raise DatasetLayoutError(f"{path}: class indices must be 1..N without gaps")
  return [classes[i] for i in range(1, len(classes) + 1)]


def read_split_list(path: str, root: str, classes: list[str]) -> list[VideoRecord]:
  by_name = {_canonical(c): i for i, c in enumerate(classes)}
  records = []
  with open(path, encoding="utf-8") as f:
    for lineno, line in enumerate(f, 1):
      line = line.strip()
      if not line:
        continue
      rel = line.split(" ")[0] if line.rsplit(" ", 1)[-1].isdigit() else line
      folder = rel.split("/")[0]
      if _canonical(folder) not in by_name:
        raise DatasetLayoutError(f"{path}:{lineno}: class folder {folder!r} is not in classInd.txt")
      label = by_name[_canonical(folder)]
      m = _GROUP_RE.search(os.path.basename(rel))
      group = m.group(1).lower() if m else ""
      records.append(VideoRecord(path=_resolve(root, rel), label=label, group=f"{label}:{group}"))
  return records


def _resolve(root: str, rel: str) -> str:
  path = os.path.join(root, rel)
  if os.path.exists(path):
    return path
  # Tolerate the HandStandPushups/HandstandPushups mismatch between lists and folders.
  folder, name = rel.split("/", 1)
  for entry in os.listdir(root) if os.path.isdir(root) else ():
    if entry.lower() == folder.lower():
      return os.path.join(root, entry, name)
  return path


def find_lists_dir(root: str, name: str = "ucf101") -> str:
  """Where classInd.txt and the split lists are: in data_dir or beside it, as the official zip or MMAction2 put them."""
  root = os.path.normpath(root)
  for base in (root, os.path.dirname(root)):
    for folder in LIST_DIRS:
      if os.path.isfile(os.path.join(base, folder, "classInd.txt")):
        return os.path.join(base, folder)
  raise DatasetLayoutError(
      f"{name}: no {SPLITS_DIR}/classInd.txt (or annotations/classInd.txt) in {root!r} or beside it (found there: "
      f"{folder_entries(root)}). Unpack UCF101TrainTestSplits-RecognitionTask.zip beside UCF-101/ and point "
      "config.dataset.data_dir at the folder holding both, or at UCF-101/.")


def list_ucf101(root: str, split: int, name: str = "ucf101") -> VideoListing:
  """data_dir may be the folder of class folders or one above it: `UCF-101/` (the official rar) or `videos/`
  (MMAction2) beside `ucfTrainTestlist/` or `annotations/`. The video folder is the candidate under which the
  listed files are, checked before any decoding."""
  if split not in (1, 2, 3):
    raise DatasetLayoutError(f"config.dataset.split must be 1, 2 or 3 for {name}, got {split}")
  lists = find_lists_dir(root, name)
  classes = read_class_index(require_file(os.path.join(lists, "classInd.txt"), f"{name} class index"))
  train_list = require_file(os.path.join(lists, f"trainlist0{split}.txt"), f"{name} train list")
  test_list = require_file(os.path.join(lists, f"testlist0{split}.txt"), f"{name} test list")
  base = os.path.normpath(root)
  candidates = [os.path.join(b, d) for b in (base, os.path.dirname(os.path.normpath(lists))) for d in VIDEO_DIRS]
  root = choose_video_root(name, candidates, _first_entries(train_list), lists, _resolve)
  train = read_split_list(train_list, root, classes)
  test = read_split_list(test_list, root, classes)
  return VideoListing(name=name, root=root, classes=tuple(classes), splits={"train": tuple(train), "test": tuple(test)})


def _first_entries(path: str, n: int = 20) -> list[str]:
  out = []
  with open(path, encoding="utf-8") as f:
    for line in f:
      line = line.strip()
      if line:
        out.append(line.split(" ")[0] if line.rsplit(" ", 1)[-1].isdigit() else line)
        if len(out) == n:
          break
  return out
