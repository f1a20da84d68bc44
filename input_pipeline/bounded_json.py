"""A JSON object from a file that may be hostile: its size bounded before it is read, one error naming it."""

from __future__ import annotations

import json
import os


def read_object(path: str, max_bytes: int, error: type[Exception], fix: str) -> dict:
  """The JSON object in `path`, or `error` naming the file, what is wrong and `fix` (what to do about it)."""
  try:
    size = os.path.getsize(path)
  except OSError as e:
    raise error(f"{path}: cannot be read ({e.strerror}); {fix}") from e
  if size > max_bytes:
    raise error(f"{path}: {size} bytes, more than the {max_bytes} such a file can hold; not read; {fix}")
  try:
    with open(path, encoding="utf-8") as f:
      value = json.load(f)
  except (ValueError, UnicodeDecodeError) as e:
    raise error(f"{path}: not valid JSON ({e}); {fix}") from e
  if not isinstance(value, dict):
    raise error(f"{path}: expected a JSON object; {fix}")
  return value
