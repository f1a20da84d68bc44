"""Shared fixtures. Every test process sees 8 CPU devices, as a multi-GPU user does."""

import os
import tempfile

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# One persistent XLA compilation cache for the whole suite: its workers and the main.py processes tests start
# compile the same small models again and again (measured: 48 s -> 43 s cold, 16 s warm for three train tests).
# Keyed by the HLO, compile options and jax version, so a hit is the same executable; kept between runs.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(tempfile.gettempdir(), f"vidjax-tests-xla-cache-{os.getuid()}"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")

# glibc's own malloc for the suite and the main.py processes it starts: its work is mostly compiling, which ran
# slower with freed memory kept (vidjax/host_memory.py; cold-cache subset, one-off: 142 s against 121 s);
# tests/vidjax/test_host_memory.py checks the setting in processes of its own.
os.environ.setdefault("VIDJAX_KEEP_FREED_MEMORY", "0")

import pathlib

import pytest

from input_pipeline.sources import synthetic_motion

TINY = synthetic_motion.GenerationSpec(num_groups=4, clips_per_group=2, sizes=((64, 48), (48, 64), (56, 56)),
                                       min_frames=18, max_frames=24)


@pytest.fixture(scope="session")
def tiny_motion_root(tmp_path_factory) -> str:
  """A small synthetic_motion set (80 videos), written once per test session."""
  root = str(tmp_path_factory.mktemp("data") / "synthetic_motion")
  synthetic_motion.generate(root, TINY, workers=1)
  return root


def shrink(c, root: str, spec: synthetic_motion.GenerationSpec, store_dir: str, frames: int = 8):
  """A config on a small synthetic set at 32x32: seconds, not minutes."""
  c.dataset.data_dir = root
  c.dataset.store_dir = store_dir
  c.dataset.synthetic_groups = spec.num_groups
  c.dataset.synthetic_clips_per_group = spec.clips_per_group
  c.dataset.store_short_side = 36
  c.dataset.decode_workers = 1
  c.input.num_frames = frames
  c.input.frame_size = 32
  c.input.loader_threads = 2
  c.eval_every_steps = 0
  return c


@pytest.fixture
def tiny_config(tiny_motion_root, tmp_path):
  """configs/csn.py shrunk to seconds: tiny data, 8 frames of 32x32, a few steps."""
  from configs.csn import get_config

  c = shrink(get_config(), tiny_motion_root, TINY, str(tmp_path / "store"))
  c.train.batch_size = 8
  c.eval_batch_size = 8
  c.train.num_steps = 6
  c.train.warmup_steps = 1
  c.log_every_steps = 2
  c.checkpoint_every_steps = 3
  return c


@pytest.fixture
def repo_root() -> pathlib.Path:
  return pathlib.Path(__file__).resolve().parent.parent


# The suite runs on every core (pytest-xdist, scripts/test.sh): the longest tests go first so that they never
# start last and leave the other cores idle; then the other slow ones, then the rest, each in file order.
_LONGEST = ("test_temporal_models_beat_the_mean_frame_on_held_out_scenes",
            "test_sigkill_then_rerun_gives_the_uninterrupted_result")


def pytest_collection_modifyitems(config, items):
  del config

  def rank(item) -> int:
    if item.originalname in _LONGEST:
      return 0
    return 1 if item.get_closest_marker("slow") else 2
  items.sort(key=rank)  # stable: file order within each rank
