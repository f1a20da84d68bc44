"""glibc malloc settings for the host process, made once at start (main.py, `python -m vidjax.style` /
`vidjax.web`, the benchmarks) before JAX's CPU backend starts: the one place vidjax tunes the allocator.

Where JAX computes on the CPU, freed memory stays in the process: XLA:CPU allocates a step's large temporaries
again on every call, and glibc served each with a fresh mmap, so every step page-faulted and zero-filled them
again (benchmarks/host_memory.py). One arena, no mmaps and no trimming reuse freed blocks from the heap instead;
the process keeps its peak heap until it exits. One arena slows compiling, but two lost the reuse in some
training steps (BENCHMARKS.md). Off glibc this does nothing; with an accelerator plugin installed (unless
JAX_PLATFORMS starts with cpu) or VIDJAX_KEEP_FREED_MEMORY=0 (the test suite, which mostly compiles, sets it)
only the loader's records are kept on the heap: a stored video is a record above glibc's mmap threshold,
so every read paid for fresh pages (benchmarks/loader_parts.py).

Stdlib only: the speed race's PyTorch worker imports it too.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import sys

ENV = "VIDJAX_KEEP_FREED_MEMORY"
# mallopt parameters (glibc malloc.h)
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD, _M_MMAP_MAX, _M_ARENA_MAX = -1, -2, -3, -4, -8
_TOP_PAD = 64 << 20  # grow the heap in 64 MB steps: fewer brk calls
_ARENAS = 1  # a run's steps outweigh its compile (the docstring)
_ACCELERATOR_PLUGINS = ("jax_cuda12_plugin", "jax_cuda13_plugin", "jax_rocm60_plugin", "jax_rocm7_plugin", "libtpu")
_applied: str | None = None


def _glibc():
  if not sys.platform.startswith("linux"):
    return None
  try:
    libc = ctypes.CDLL(None)
    libc.gnu_get_libc_version  # noqa: B018 (absent on musl)
    return libc
  except (OSError, AttributeError):
    return None


def _accelerator_expected() -> bool:
  platforms = os.environ.get("JAX_PLATFORMS", "").strip().lower()
  if platforms:
    return not platforms.startswith("cpu")
  for name in _ACCELERATOR_PLUGINS:
    try:
      if importlib.util.find_spec(name) is not None:
        return True
    except (ImportError, ValueError):
      continue
  return False


def keep_freed_memory() -> str:
  """Sets glibc's malloc to one arena, no mmaps and no trimming where JAX will run on the CPU, else keeps only
  record-sized blocks on the heap. Returns what it did ("kept" or why not), the same on every call."""
  global _applied
  if _applied is not None:
    return _applied
  if os.environ.get(ENV, "1").strip() == "0":
    _applied = f"off ({ENV}=0)"
  elif (libc := _glibc()) is None:
    _applied = "off (not glibc)"
  elif _accelerator_expected():
    _applied = "off (an accelerator is expected)"
  else:
    ok = _mallopt(libc, ((_M_ARENA_MAX, _ARENAS), (_M_MMAP_MAX, 0), (_M_TRIM_THRESHOLD, -1), (_M_TOP_PAD, _TOP_PAD)))
    _applied = "kept" if ok else "off (mallopt refused)"
  if _applied != "kept" and (libc := _glibc()) is not None:
    # blocks up to 32 MB (glibc's largest mmap threshold on 64-bit) from the heap, freed ones kept up to 256 MB
    _mallopt(libc, ((_M_MMAP_THRESHOLD, 32 * 2**20), (_M_TRIM_THRESHOLD, 256 * 2**20)))
  return _applied


def _mallopt(libc, settings) -> bool:
  return all(libc.mallopt(p, v) == 1 for p, v in settings)

