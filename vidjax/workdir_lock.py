"""One training process per workdir: an advisory lock held for the life of the run.

The lock is `flock` on <workdir>/.lock, so the kernel drops it when the holder exits or is killed: a lock left
by a killed process is simply taken by the next run. The file names the holder (pid, host, start time) so a
refused run can say who has the workdir.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time


class WorkdirBusyError(RuntimeError):
  """Another live process trains in this workdir."""


class WorkdirLock:
  def __init__(self, workdir: str):
    self.path = os.path.join(workdir, ".lock")
    os.makedirs(workdir, exist_ok=True)
    self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
      fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      holder = self._holder()
      os.close(self._fd)
      self._fd = None
      raise WorkdirBusyError(
          f"--workdir {workdir!r} is in use by {holder} ({self.path}); wait for that run to end, or use another "
          "--workdir") from None
    os.ftruncate(self._fd, 0)
    os.pwrite(self._fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                    "since": time.strftime("%Y-%m-%d %H:%M:%S")}).encode(), 0)

  def _holder(self) -> str:
    try:
      with open(self.path) as f:
        h = json.load(f)
      return f"process {h['pid']} on {h['host']} since {h['since']}"
    except (OSError, ValueError, KeyError):
      return "another process"

  def release(self) -> None:
    if self._fd is not None:
      fcntl.flock(self._fd, fcntl.LOCK_UN)
      os.close(self._fd)
      self._fd = None
