"""What every dataset source returns: class names and labelled video paths per split."""

from __future__ import annotations

import dataclasses
import os


@dataclasses.dataclass(frozen=True)
class VideoRecord:
  path: str  # absolute path of the encoded video file
  label: int
  group: str = ""  # clips sharing a scene/actor (UCF101 `gXX`); splits never cut a group


@dataclasses.dataclass(frozen=True)
class VideoListing:
  name: str
  root: str
  classes: tuple[str, ...]
  splits: dict[str, tuple[VideoRecord, ...]]

  @property
  def num_classes(self) -> int:
    return len(self.classes)

  def class_counts(self, split: str) -> list[int]:
    counts = [0] * self.num_classes
    for r in self.splits[split]:
      counts[r.label] += 1
    return counts


class DatasetLayoutError(ValueError):
  """The files on disk do not have the layout the source expects."""


class NotReadyError(FileNotFoundError):
  """Data another process is still generating or building; try again later."""


def require_file(path: str, what: str) -> str:
  if not os.path.isfile(path):
    raise DatasetLayoutError(f"{what} not found: {path!r}. Check config.dataset.data_dir.")
  return path


def choose_video_root(dataset: str, candidates: list[str], sample: list[str], lists: str,
                      resolve=os.path.join) -> str:
  """The candidate folder under which most of `sample` (paths relative to the video root) exist.

  Checked before any decoding, so a wrong data_dir is one clear error rather than hundreds of skipped files.
  """
  seen, best, hits = set(), None, 0
  for folder in candidates:
    folder = os.path.normpath(folder)
    if folder in seen or not os.path.isdir(folder):
      continue
    seen.add(folder)
    n = sum(os.path.isfile(resolve(folder, rel)) for rel in sample)
    if n > hits:
      best, hits = folder, n
  if best is not None:
    return best
  if not sample:
    raise DatasetLayoutError(f"{dataset}: the lists in {lists!r} name no videos")
  looked = sorted(seen) or [os.path.normpath(c) for c in candidates[:1]]
  first_class = sample[0].split("/")[0]
  holder = _folder_holding(looked, first_class)
  raise DatasetLayoutError(
      f"{dataset}: the lists in {lists!r} name videos such as {sample[0]!r}, but none of the first {len(sample)} is "
      f"under {', '.join(repr(f) for f in looked)} (found there: {folder_entries(looked[0])}). "
      + (f"Point config.dataset.data_dir at {holder!r}." if holder else
         f"Point config.dataset.data_dir at the folder that holds the class folders ({first_class}/, ...)."))


def folder_entries(folder: str, n: int = 6) -> str:
  try:
    names = sorted(os.listdir(folder))
  except OSError:
    return "nothing (not a folder)"
  return ", ".join(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "") if names else "nothing"


def _folder_holding(folders: list[str], class_folder: str, depth: int = 3) -> str | None:
  """A folder up to `depth` levels below `folders` that holds `class_folder` (case-insensitive), if any."""
  frontier = list(folders)
  for _ in range(depth):
    nxt = []
    for folder in frontier:
      try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
      except OSError:
        continue
      for e in entries:
        if e.is_dir():
          if e.name.lower() == class_folder.lower():
            return folder
          nxt.append(e.path)
    frontier = nxt[:2000]
  return None
