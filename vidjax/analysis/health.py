"""A dataset's health: which files could not be used and why, and which files are the same file twice.

Unusable files are the ones the store skipped at build time (their reasons come from `input_pipeline.decode`
and `store.encode_example`), sorted into kinds a user acts on differently. Duplicates are found by content:
files are grouped by size first, and only sizes that occur more than once are hashed, so a dataset of
distinct files costs one `stat` per file.
"""

from __future__ import annotations

import collections
import hashlib
import os

# reason kind -> substrings of the skip reasons that mean it (first match wins)
REASON_KINDS = (
    ("missing", ("no such file",)),
    ("empty", ("empty file",)),
    ("too short", ("fewer than",)),
    ("unreadable", ("",)),  # cannot be opened, no frame decodes, damaged: everything else
)


def reason_kind(reason: str) -> str:
  for kind, needles in REASON_KINDS:
    if any(n in reason for n in needles):
      return kind
  return "unreadable"


def skipped_by_kind(skipped: dict[str, list[dict]]) -> dict[str, list[dict]]:
  """{split: [{path, reason}]} (the store's record) -> {kind: [{split, path, reason}]}, kinds in REASON_KINDS order."""
  out: dict[str, list[dict]] = {kind: [] for kind, _ in REASON_KINDS}
  for split, items in skipped.items():
    for item in items:
      out[reason_kind(item["reason"])].append({"split": split, "path": item["path"], "reason": item["reason"]})
  return {k: v for k, v in out.items() if v}


def _sha256(path: str, chunk: int = 1 << 20) -> str:
  h = hashlib.sha256()
  with open(path, "rb") as f:
    while block := f.read(chunk):
      h.update(block)
  return h.hexdigest()


def duplicate_files(split_paths: dict[str, list[str]]) -> list[dict]:
  """Groups of listed files with identical content: [{sha256, bytes, files: [{split, path}], across_splits}].

  The same path listed twice is one file, not a duplicate. Files that are gone (a store outlives its videos) or
  unreadable are left out.
  """
  by_size: dict[int, set[str]] = collections.defaultdict(set)
  splits_of: dict[str, set[str]] = collections.defaultdict(set)
  for split, paths in split_paths.items():
    for p in paths:
      splits_of[p].add(split)
      try:
        by_size[os.path.getsize(p)].add(p)
      except OSError:
        continue
  by_hash: dict[tuple[str, int], list[str]] = collections.defaultdict(list)
  for size, paths in by_size.items():
    if len(paths) < 2 or size == 0:
      continue
    for p in sorted(paths):
      try:
        by_hash[(_sha256(p), size)].append(p)
      except OSError:
        continue
  groups = []
  for (digest, size), paths in sorted(by_hash.items(), key=lambda kv: kv[1]):
    if len(paths) < 2:
      continue
    files = [{"split": s, "path": p} for p in paths for s in sorted(splits_of[p])]
    groups.append({"sha256": digest, "bytes": size, "files": files,
                   "across_splits": len({f["split"] for f in files}) > 1})
  return groups
