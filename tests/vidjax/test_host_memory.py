"""vidjax.host_memory: on glibc, big blocks come from the kept heap, not fresh mmaps; the opt-outs hold."""

import os
import subprocess
import sys

import pytest

from tests.helpers import REPO_ROOT

ROOT = str(REPO_ROOT)

# Allocates 200 MB with numpy (malloc), then reports glibc's mmapped bytes (mallinfo2's hblkhd) while it lives,
# and a small JAX computation's result.
CHILD = """
import ctypes
from vidjax import host_memory
state = host_memory.keep_freed_memory()
class Info(ctypes.Structure):
  _fields_ = [(n, ctypes.c_size_t) for n in
              "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]
libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Info
import numpy as np
a = np.ones(50_000_000, np.float32)
mapped = libc.mallinfo2().hblkhd >> 20
import jax.numpy as jnp
print(state, "|", mapped, "|", float(jnp.arange(10.0).sum()), "|", host_memory.keep_freed_memory())
"""


def _child(code: str = CHILD, **env) -> list[str]:
  full = {k: v for k, v in os.environ.items() if k not in ("VIDJAX_KEEP_FREED_MEMORY", "JAX_PLATFORMS")}
  full.update(env, PYTHONPATH=ROOT)
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full, timeout=120)
  assert out.returncode == 0, out.stderr[-2000:]
  return [p.strip() for p in out.stdout.strip().splitlines()[-1].split("|")]


pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc settings: Linux only")


def test_kept_heap_serves_big_blocks_without_mmap():
  state, mapped, total, again = _child()
  assert state == again == "kept"
  assert int(mapped) < 100, f"{mapped} MB still mmapped: the 200 MB array did not come from the heap"
  assert float(total) == 45.0


def test_opt_out_and_accelerators_leave_glibc_alone():
  state, mapped, total, _ = _child(VIDJAX_KEEP_FREED_MEMORY="0")
  assert state == "off (VIDJAX_KEEP_FREED_MEMORY=0)"
  assert int(mapped) >= 190, f"only {mapped} MB mmapped: glibc's default should mmap a 200 MB block"
  assert float(total) == 45.0
  state_only = "from vidjax import host_memory; print(host_memory.keep_freed_memory())"
  assert _child(state_only, JAX_PLATFORMS="cuda,cpu") == ["off (an accelerator is expected)"]
  assert _child(state_only, JAX_PLATFORMS="cpu") == ["kept"]
