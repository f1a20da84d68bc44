"""Writes tests/fixtures/golden_torch.npz: torchvision/PyTorch outputs for the golden tests.

Run once, in a separate venv with torch (not a vidjax dependency):
  python3.11 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch==2.14.1 torchvision==0.29.1 numpy
  /tmp/torchvenv/bin/python scripts/make_golden_fixtures.py

The models are full size (torchvision's constructors, 10 classes); their weights are
not stored: tests/golden_weights.py regenerates them from names and shapes, which the
fixture records. Inputs are small (1 clip x 3 x 4 x 32 x 32; resnet18 2 x 3 x 32 x 32; googlenet
2 x 3 x 72 x 56; vgg19 features 1 x 3 x 16 x 24; the CycleGAN generator 1 x 3 x 32 x 32)
so the file stays a few hundred KB.
"""

import json
import os
import sys

import numpy as np
import torch
import torchvision
from torchvision.models import video

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tests.helpers.golden_weights import make_weights


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


class CycleGANGenerator(torch.nn.Module):
  """The official release's networks.ResnetGenerator(3, 3, ngf=64, InstanceNorm2d, use_dropout=False, n_blocks=9),
  written out here with its module indices (its state-dict names), so no CycleGAN code is needed."""

  def __init__(self, ngf: int = 64, blocks: int = 9):
    super().__init__()
    nn = torch.nn
    norm = lambda c: nn.InstanceNorm2d(c, affine=False, track_running_stats=False)
    layers = [nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7, bias=True), norm(ngf), nn.ReLU(True)]
    for mult in (1, 2):
      layers += [nn.Conv2d(ngf * mult, ngf * mult * 2, 3, 2, 1, bias=True), norm(ngf * mult * 2), nn.ReLU(True)]
    layers += [_ResnetBlock(ngf * 4, norm) for _ in range(blocks)]
    for mult in (4, 2):
      layers += [nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 3, 2, 1, output_padding=1, bias=True),
                 norm(ngf * mult // 2), nn.ReLU(True)]
    layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7), nn.Tanh()]
    self.model = nn.Sequential(*layers)

  def forward(self, x):
    return self.model(x)


class _ResnetBlock(torch.nn.Module):
  def __init__(self, dim, norm):
    super().__init__()
    nn = torch.nn
    self.conv_block = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True), norm(dim), nn.ReLU(True),
                                    nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True), norm(dim))

  def forward(self, x):
    return x + self.conv_block(x)


def record_vgg19(out: dict, x: np.ndarray) -> None:
  """torchvision vgg19's `features` (the classifier's tensors are in the state dict, as in the real file): the
  outputs of the ReLUs Gatys et al. use, on ImageNet-normalised input (vidjax normalises inside)."""
  model = torchvision.models.vgg19()
  shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
  model.load_state_dict({k: torch.from_numpy(v) for k, v in make_weights(shapes).items()})
  model.eval()
  taps = {"relu1_1": 1, "relu2_1": 6, "relu3_1": 11, "relu4_1": 20, "relu4_2": 22, "relu5_1": 29}
  mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
  std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
  h = (torch.from_numpy(x) - mean) / std
  with torch.no_grad():
    for i, layer in enumerate(model.features[:30]):
      h = layer(h)
      for name, index in taps.items():
        if index == i:
          y = h[:, :16] if name == "relu1_1" else h  # the first layer's first 16 channels keep the file small
          out[f"vgg19/{name}"] = y.numpy()
  out["vgg19/input"] = x
  out["vgg19/shapes"] = np.array(json.dumps(shapes))
  print(f"vgg19: input {x.shape} -> relu5_1 {tuple(h.shape)}")


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
  # the same in the legacy format of torch 0.1.10-1.5, in which most weights released before 2020 are
  torch.save(sd, os.path.join(fixtures, "small_state_dict_legacy.pth"), _use_new_zipfile_serialization=False)
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
  record_vgg19(out, rng.uniform(0, 1, (1, 3, 16, 24)).astype(np.float32))
  record(out, "cyclegan", CycleGANGenerator(), rng.uniform(-1, 1, (1, 3, 32, 32)).astype(np.float32))
  fixtures = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures")
  write_pth_fixtures(fixtures)
  path = os.path.join(fixtures, "golden_torch.npz")
  np.savez_compressed(path, **out)
  print(f"wrote {os.path.abspath(path)} ({os.path.getsize(path) / 1024:.0f} KB)")


if __name__ == "__main__":
  main()
