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
