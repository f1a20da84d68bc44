"""Writes tests/fixtures/golden_torch.npz: torchvision/PyTorch outputs for the golden tests.

Run once, in a separate venv with torch (not a vidjax dependency):
  python3.11 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch==2.14.1 torchvision==0.29.1 numpy
  /tmp/torchvenv/bin/python scripts/make_golden_fixtures.py

The models are full size (torchvision's constructors, 10 classes); their weights are
not stored: tests/golden_weights.py regenerates them from names and shapes, which the
fixture records. Inputs are small (1 clip x 3 x 4 x 32 x 32; resnet18 2 x 3 x 32 x 32; googlenet
2 x 3 x 72 x 56)
so the file stays ~100 KB.
"""

import json
import os
import sys

import numpy as np
import torch
import torchvision
from torchvision.models import video

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tests.golden_weights import make_weights


def record(out: dict, name: str, model: torch.nn.Module, x: np.ndarray) -> None:
  shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
  weights = make_weights(shapes)
  model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
  model.eval()
  with torch.no_grad():
    y = model(torch.from_numpy(x))
  y = y[0] if isinstance(y, tuple) else y
  out[f"{name}/input"] = x
  out[f"{name}/output"] = y.numpy()
  out[f"{name}/shapes"] = np.array(json.dumps(shapes))
  print(f"{name}: input {x.shape} -> output {tuple(y.shape)}, |y| max {float(y.abs().max()):.3f}")


class _Payload:
  """Stands for a malicious file: unpickling it would call print."""

  def __reduce__(self):
    return (print, ("this .pth ran code",))


def write_pth_fixtures(fixtures: str) -> None:
  """Small real torch.save files for vidjax's pickle-free reader: a state dict (with a non-contiguous, an offset
  and a 0-d tensor) beside the same arrays as .npz, and a file that would run code if unpickled."""
  torch.manual_seed(0)
  net = torch.nn.Sequential(torch.nn.Conv3d(3, 4, 3), torch.nn.BatchNorm3d(4), torch.nn.Flatten(), torch.nn.Linear(4, 2))
  sd = dict(net.state_dict())
  base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
  sd.update({"odd.transposed": base.t(), "odd.offset": base[1:, 2:5], "odd.scalar": torch.tensor(2.5)})
  torch.save(sd, os.path.join(fixtures, "small_state_dict.pth"))
  np.savez(os.path.join(fixtures, "small_state_dict.npz"), **{k: v.numpy() for k, v in sd.items()})
  torch.save({"weight": torch.ones(2), "payload": _Payload()}, os.path.join(fixtures, "runs_code.pth"))


def main() -> None:
  torch.manual_seed(0)
  rng = np.random.default_rng(0)
  out: dict[str, np.ndarray] = {"versions": np.array(f"torch {torch.__version__}, torchvision {torchvision.__version__}")}
  clip = rng.normal(0, 1, (1, 3, 4, 32, 32)).astype(np.float32)  # N, C, T, H, W
  for name in ("r2plus1d_18", "r3d_18", "mc3_18"):
    record(out, name, getattr(video, name)(num_classes=10), clip)
  record(out, "resnet18", torchvision.models.resnet18(num_classes=10), rng.normal(0, 1, (2, 3, 32, 32)).astype(np.float32))
  lstm = torch.nn.LSTM(input_size=12, hidden_size=8, num_layers=2, batch_first=True)
  record(out, "lstm", lstm, rng.normal(0, 1, (3, 5, 12)).astype(np.float32))
  googlenet = torchvision.models.googlenet(num_classes=10, aux_logits=True, transform_input=True, init_weights=False)
  record(out, "googlenet", googlenet, rng.normal(0, 1, (2, 3, 72, 56)).astype(np.float32))
  fixtures = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures")
  write_pth_fixtures(fixtures)
  path = os.path.join(fixtures, "golden_torch.npz")
  np.savez_compressed(path, **out)
  print(f"wrote {os.path.abspath(path)} ({os.path.getsize(path) / 1024:.0f} KB)")


if __name__ == "__main__":
  main()
