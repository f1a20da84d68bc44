"""Deterministic, well-scaled random weights for a torch state-dict layout (numpy only).

Shared by scripts/make_golden_fixtures.py (which loads them into torchvision and
records its outputs) and the golden tests (which load the same numbers into vidjax),
so the fixtures hold only inputs and outputs, not megabytes of weights.
BatchNorm statistics and affine parameters are randomised too: at their defaults
eval-mode BN is close to the identity and would hide swapped scale/bias or mean/var.
"""

import zlib

import numpy as np


def make_weights(shapes: dict[str, tuple[int, ...]], seed: int = 0) -> dict[str, np.ndarray]:
  out = {}
  for key, shape in shapes.items():
    rng = np.random.default_rng([seed, zlib.crc32(key.encode())])
    leaf = key.rsplit(".", 1)[-1]
    if leaf == "num_batches_tracked":
      out[key] = np.zeros(shape, np.int64)
    elif leaf in ("running_var",) or (leaf == "weight" and len(shape) == 1):
      out[key] = rng.uniform(0.5, 1.5, shape).astype(np.float32)
    elif leaf in ("running_mean", "bias") or leaf.startswith("bias_"):
      out[key] = rng.normal(0.0, 0.1, shape).astype(np.float32)
    else:  # conv, linear and LSTM matrices: He-normal on fan-in keeps activations O(1) through depth
      fan_in = int(np.prod(shape[1:]))
      out[key] = (rng.normal(0.0, 1.0, shape) * np.sqrt(2.0 / fan_in) * 0.7).astype(np.float32)
  return out
