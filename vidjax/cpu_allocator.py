"""Keeps freed host memory in the process when JAX computes on the CPU, so steps stop page-faulting.

XLA:CPU allocates a step's large temporaries again on every call. glibc's malloc serves blocks above its mmap
threshold (dynamic, at most 32 MB) with fresh mmaps and unmaps them when freed, so each step page-faults and
zero-fills all of its big temporaries again. On the 2-core EPYC (`benchmarks/host_memory.py`, BENCHMARKS.md
"Issue 18 on a Zen 5 EPYC"): a 400 MB elementwise op took 151 ms with glibc's default against 41 ms with freed
memory kept, R3D's layer-1 Winograd conv 342 against 178 ms. With one malloc arena, no mmaps and no trimming,
freed blocks are reused from the heap instead. The cost: the process keeps its peak heap until it exits.

`keep_freed_memory()` must run before JAX's CPU backend starts (its worker threads would create their own
arenas first); `main.py`, `python -m vidjax.style` / `vidjax.web` and the CPU benchmarks call it at start (the
test suite, which mostly compiles, runs with it off). It does nothing off glibc, when an accelerator plugin is
installed (unless JAX_PLATFORMS starts with cpu), or with VIDJAX_KEEP_FREED_MEMORY=0.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import sys

ENV = "VIDJAX_KEEP_FREED_MEMORY"
# mallopt parameters (glibc malloc.h)
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_MAX, _M_ARENA_MAX = -1, -2, -4, -8
_TOP_PAD = 64 << 20  # grow the heap in 64 MB steps: fewer brk calls
# One arena. It costs compile time (XLA's compiler threads wait on malloc's lock: the CSN train step compiled in
# 20.7 / 17.0 s against 17.6 / 15.7 s under glibc's default, one-off), but with two arenas some steps lost the
# reuse (race 13: R(2+1)D's train step 8.2 s against 3.8-4.3 s with one), and a run's steps outweigh its compile.
_ARENAS = 1
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
  """Sets glibc's malloc to one arena, no mmaps and no trimming, where JAX will run on the CPU. Returns what it did
  ("kept" or why not), the same on every call."""
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
    ok = all(libc.mallopt(p, v) == 1 for p, v in (
        (_M_ARENA_MAX, _ARENAS), (_M_MMAP_MAX, 0), (_M_TRIM_THRESHOLD, -1), (_M_TOP_PAD, _TOP_PAD)))
    _applied = "kept" if ok else "off (mallopt refused)"
  return _applied
