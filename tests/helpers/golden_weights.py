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


def vgg19_features_shapes() -> dict[str, tuple[int, ...]]:
  """torchvision vgg19's `features` tensors (what `--arch vgg19` keeps)."""
  from vidjax.models.vgg19 import CFG

  shapes, index, cin = {}, 0, 3
  for c in CFG:
    if c == "M":
      index += 1
      continue
    shapes[f"features.{index}.weight"], shapes[f"features.{index}.bias"] = (c, cin, 3, 3), (c,)
    cin, index = c, index + 2
  return shapes


def cyclegan_shapes(ngf: int = 64, blocks: int = 9) -> dict[str, tuple[int, ...]]:
  """The official ResnetGenerator's state dict (its module indices)."""
  shapes = {"model.1.weight": (ngf, 3, 7, 7), "model.4.weight": (2 * ngf, ngf, 3, 3),
            "model.7.weight": (4 * ngf, 2 * ngf, 3, 3)}
  for b in range(10, 10 + blocks):
    for j in (1, 5):
      shapes[f"model.{b}.conv_block.{j}.weight"] = (4 * ngf, 4 * ngf, 3, 3)
  up = 10 + blocks
  shapes.update({f"model.{up}.weight": (4 * ngf, 2 * ngf, 3, 3), f"model.{up + 3}.weight": (2 * ngf, ngf, 3, 3),
                 f"model.{up + 7}.weight": (3, ngf, 7, 7)})
  shapes.update({k.replace("weight", "bias"): (v[1] if k in (f"model.{up}.weight", f"model.{up + 3}.weight") else v[0],)
                 for k, v in list(shapes.items())})
  return shapes


def save_random_style_weights(out_dir: str, seed: int = 0) -> dict[str, str]:
  """Random VGG-19 features and a random CycleGAN generator, converted and saved as `python -m vidjax.weights`
  would: {"vgg19": DIR, "cyclegan": DIR}. For tests, benchmarks and the README's pictures; never real weights."""
  import os

  from vidjax import weights

  out = {}
  for arch, shapes in (("vgg19", vgg19_features_shapes()), ("cyclegan", cyclegan_shapes())):
    variables = weights.convert_state_dict(make_weights(shapes, seed), arch)
    path = os.path.join(out_dir, arch)
    weights.save(variables, path, {**weights.describe(variables, arch), "source": f"random (seed {seed})"})
    out[arch] = path
  return out


def torch_lstm_to_flax(state_dict, layers: int = 1) -> dict:
  """torch.nn.LSTM weights -> vidjax.models.lstm.StackedLSTM params."""
  out = {}
  for k in range(layers):
    out[f"l{k}"] = {
        "ih": {"kernel": np.asarray(state_dict[f"weight_ih_l{k}"]).T, "bias": np.asarray(state_dict[f"bias_ih_l{k}"])},
        "step": {"hh": {"kernel": np.asarray(state_dict[f"weight_hh_l{k}"]).T,
                        "bias": np.asarray(state_dict[f"bias_hh_l{k}"])}},
    }
  return out
