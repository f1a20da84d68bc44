"""Worker processes for decoding and generation: spawned (never forked: JAX may be running), and tied to
their parent, so a parent killed with `kill -9` does not leave them decoding for nobody."""

from __future__ import annotations

import concurrent.futures
import ctypes
import multiprocessing
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
  """Pool initializer: the kernel sends this worker SIGKILL when its parent dies (Linux; elsewhere a no-op)."""
  if not sys.platform.startswith("linux"):
    return
  try:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
  except (OSError, AttributeError):
    pass


def process_pool(workers: int) -> concurrent.futures.ProcessPoolExecutor:
  return concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                                initializer=die_with_parent)
