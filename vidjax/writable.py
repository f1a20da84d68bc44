"""Checks that a folder or file named on the command line can be written, made before any work starts: a run
that trains for an hour and then cannot save, or scores every video and then cannot write its answer, loses it.
"""

from __future__ import annotations

import os
import tempfile


def check_folder(path: str, flag: str) -> None:
  """`path` is, or can be made, a folder this process can write; a ValueError naming `flag` says why not. Trying is
  the only exact test (permissions, read-only mounts, /sys), so it makes what is missing, writes a file there and
  removes both again: a refused command leaves nothing behind."""
  target = os.path.abspath(os.path.expanduser(path))
  if os.path.exists(target) and not os.path.isdir(target):
    raise ValueError(f"{flag}={path} is a file, not a folder: name a folder (it is made if missing)")
  made, parent = [], target
  while not os.path.exists(parent):
    made.append(parent)
    parent = os.path.dirname(parent)
  try:
    for folder in reversed(made):
      os.mkdir(folder)
    with tempfile.TemporaryFile(dir=target):
      pass
  except OSError as e:
    raise ValueError(f"{flag}={path} cannot be written ({e.strerror or type(e).__name__}): name a folder you can "
                     "write") from None
  finally:
    for folder in made:
      if os.path.isdir(folder):
        os.rmdir(folder)


def check_file(path: str, flag: str, suffixes: tuple[str, ...]) -> None:
  """`path` ends in one of `suffixes`, is not a folder and can be written (its folder is made if missing); the
  file itself is neither made nor touched."""
  target = os.path.abspath(os.path.expanduser(path))
  if os.path.isdir(target):
    raise ValueError(f"{flag}={path} is a folder: name a {' or '.join(suffixes)} file in it")
  if not path.lower().endswith(suffixes):
    raise ValueError(f"{flag}={path}: name a {' or '.join(suffixes)} file")
  if os.path.exists(target) and not os.access(target, os.W_OK):
    raise ValueError(f"{flag}={path} exists and cannot be written: name another file")
  check_folder(os.path.dirname(target), f"{flag}'s folder")
