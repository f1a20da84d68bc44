"""Pretrained weights: torchvision state dicts -> vidjax variables, and initialising a model from them.

    python -m vidjax.weights --pth r2plus1d_18-91a641e6.pth --arch r2plus1d_18 --out weights/r2plus1d_18
    python -m vidjax.weights --pth vgg19-dcbb9e9d.pth --arch vgg19 --out weights/vgg19          # style transfer
    python -m vidjax.weights --pth style_ukiyoe.pth --arch cyclegan --out weights/cyclegan/ukiyoe  # a generator
    python -m vidjax.weights --hf videomae-base-finetuned-kinetics --out weights/videomae_k400  # a Hugging Face folder

`.pth` files are parsed without torch and without unpickling (vidjax/pth_reader.py),
`.npz` with `allow_pickle=False`. vidjax
modules carry torchvision's names with '.' -> '_', so conversion is renaming plus
layout changes (conv OI... -> ...IO, linear transposed), then a check that every
tensor fits the vidjax model. The output is an orbax checkpoint of
{params, batch_stats} plus weights.json; `config.init.path` points a run at it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp
from absl import logging

from vidjax.models import ARCHS, CLASSIFIER_ARCHS, build_arch
from vidjax.models.vgg19 import LAYERS
from vidjax.pth_reader import read_pth

_SKIPPED = {"googlenet": ("aux1.", "aux2."),  # training-only auxiliary classifiers, not in the vidjax model
            "vgg19": ("classifier.",)}
_CLASSIFIER = ("fc", "head")  # top-level modules whose shape may change with the class count


def read_state_dict(path: str) -> dict[str, np.ndarray]:
  """A torch state dict as numpy arrays. Nothing is unpickled: `.pth` goes through vidjax.pth_reader."""
  if not os.path.isfile(path):
    raise FileNotFoundError(f"Weights file {path!r} does not exist")
  if path.endswith(".npz"):
    with np.load(path, allow_pickle=False) as f:
      return {k: f[k] for k in f.files}
  return read_pth(path)


def _module_path(torch_module: str) -> tuple[str, ...]:
  """'layer2.0.conv1.0.3' -> ('layer2_0', 'conv1_0_3'); 'stem.0' -> ('stem_0',); 'lstm' -> ('lstm',)."""
  m = re.match(r"^(layer\d+)\.(\d+)\.(.+)$", torch_module)
  if m:
    return (f"{m[1]}_{m[2]}", m[3].replace(".", "_"))
  return (torch_module.replace(".", "_"),)


def torch_to_flax(state_dict: Mapping[str, np.ndarray]) -> dict:
  """torchvision CNN state dict -> {'params': ..., 'batch_stats': ...} in vidjax layout."""
  params: dict = {}
  stats: dict = {}

  def put(tree, path, value):
    for p in path[:-1]:
      tree = tree.setdefault(p, {})
    tree[path[-1]] = np.asarray(value, np.float32)

  for key, value in state_dict.items():
    module, _, leaf = key.rpartition(".")
    path = _module_path(module)
    if leaf == "num_batches_tracked":
      continue
    if leaf == "weight" and value.ndim == 5:  # Conv3d (O, I, T, H, W) -> (T, H, W, I, O)
      put(params, (*path, "kernel"), value.transpose(2, 3, 4, 1, 0))
    elif leaf == "weight" and value.ndim == 4:  # Conv2d (O, I, H, W) -> (H, W, I, O)
      put(params, (*path, "kernel"), value.transpose(2, 3, 1, 0))
    elif leaf == "weight" and value.ndim == 2:  # Linear (O, I) -> (I, O)
      put(params, (*path, "kernel"), value.T)
    elif leaf == "weight":  # BatchNorm
      put(params, (*path, "scale"), value)
    elif leaf == "bias":
      put(params, (*path, "bias"), value)
    elif leaf == "running_mean":
      put(stats, (*path, "mean"), value)
    elif leaf == "running_var":
      put(stats, (*path, "var"), value)
    else:
      raise ValueError(f"Do not know how to convert {key!r} {value.shape}")
  return {"params": params, "batch_stats": stats}


def _shapes(tree) -> dict[tuple[str, ...], tuple[int, ...]]:
  flat = jax.tree_util.tree_flatten_with_path(tree)[0]
  return {tuple(k.key for k in path): tuple(np.shape(v)) for path, v in flat}


def check_against(variables: dict, reference: dict, what: str) -> None:
  """Every tensor present in both with equal shape, and nothing missing on either side."""
  for col in ("params", "batch_stats"):
    got, want = _shapes(variables.get(col, {})), _shapes(reference.get(col, {}))
    missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    wrong = sorted(k for k in set(got) & set(want) if got[k] != want[k])
    if missing or extra or wrong:
      detail = "; ".join(filter(None, [
          f"missing {['/'.join(k) for k in missing[:5]]}" if missing else "",
          f"unexpected {['/'.join(k) for k in extra[:5]]}" if extra else "",
          f"shape {['/'.join(k) + f' {got[k]} vs {want[k]}' for k in wrong[:5]]}" if wrong else ""]))
      raise ValueError(f"{what} does not fit the vidjax model ({col}): {detail}")


def convert_state_dict(state: Mapping[str, np.ndarray], arch: str, what: str = "the weights") -> dict:
  """A torchvision state dict (numpy) -> checked vidjax variables; tensors the vidjax model leaves out (GoogLeNet's
  auxiliary classifiers) are dropped first."""
  if arch not in ARCHS:
    raise ValueError(f"--arch={arch!r} is not one of {sorted(ARCHS)}")
  skip = _SKIPPED.get(arch, ())
  if arch == "cyclegan":
    return _convert_cyclegan(state, what)
  variables = torch_to_flax({k: v for k, v in state.items() if not (skip and k.startswith(skip))})
  if arch == "vgg19":
    model, shape = build_arch(arch, layers=(list(LAYERS)[-1],))
    check_against(variables, jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros(shape))),
                  f"{what} as vgg19 (its `features`)")
    return variables
  if "fc" not in variables["params"]:
    raise ValueError(f"{what} has no classifier (fc.weight): not a torchvision {arch} state dict")
  num_classes = variables["params"]["fc"]["kernel"].shape[1]
  model, shape = build_arch(arch, num_classes)
  reference = jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros(shape), train=False))
  check_against(variables, reference, f"{what} as {arch}")
  return variables


def cyclegan_settings(state: Mapping[str, np.ndarray], what: str = "the weights") -> dict:
  """ngf and the residual block count of an official generator state dict, read from its tensors."""
  if "model.1.weight" not in state:
    raise ValueError(f"{what} has no model.1.weight: not an official CycleGAN ResnetGenerator state dict "
                     "(latest_net_G.pth or a pretrained_models/*.pth)")
  blocks = len({k.split(".")[1] for k in state if re.match(r"^model\.\d+\.conv_block\.1\.weight$", k)})
  return {"ngf": int(state["model.1.weight"].shape[0]), "blocks": blocks}


def _convert_cyclegan(state: Mapping[str, np.ndarray], what: str) -> dict:
  # a DataParallel save prefixes "module."; releases made with torch 0.4 carry InstanceNorm running statistics
  # that the norm (track_running_stats=False) never uses: the official loader deletes them too
  state = {k.removeprefix("module."): v for k, v in state.items()
           if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))}
  settings = cyclegan_settings(state, what)
  variables = {"params": torch_to_flax(state)["params"]}
  model, shape = build_arch("cyclegan", **settings)
  reference = jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros(shape)))
  check_against(variables, reference, f"{what} as a CycleGAN resnet generator ({settings['blocks']} blocks)")
  return variables


def describe(variables: dict, arch: str) -> dict:
  """What weights.json records beside the tensors: enough to rebuild the module."""
  n = sum(int(np.prod(v.shape)) for v in jax.tree.leaves(variables["params"]))
  meta: dict = {"arch": arch, "parameters": n}
  if arch == "cyclegan":
    p = variables["params"]
    meta.update(ngf=int(p["model_1"]["kernel"].shape[-1]), blocks=sum(1 for k in p if k.endswith("_conv_block_1")))
  elif arch in CLASSIFIER_ARCHS:
    meta["num_classes"] = int(variables["params"]["fc"]["kernel"].shape[1])
  return meta


def read_meta(path: str) -> dict:
  """weights.json of converted weights (what `describe` wrote), or a clear error naming the folder."""
  meta_path = os.path.join(path, "weights.json")
  if not os.path.isfile(meta_path):
    raise FileNotFoundError(f"{path!r} holds no converted weights (weights.json); make them with "
                            "`python -m vidjax.weights --pth FILE --arch ARCH --out DIR`")
  with open(meta_path) as f:
    return json.load(f)


def convert(pth: str, arch: str) -> dict:
  """State dict file -> checked vidjax variables."""
  return convert_state_dict(read_state_dict(pth), arch, repr(pth))


def save(variables: dict, out_dir: str, meta: dict) -> None:
  out_dir = os.path.abspath(out_dir)
  if os.path.exists(os.path.join(out_dir, "weights.json")):
    raise FileExistsError(f"{out_dir!r} already holds converted weights; choose another --out")
  ckpt = ocp.StandardCheckpointer()
  ckpt.save(os.path.join(out_dir, "variables"), variables)
  ckpt.wait_until_finished()
  with open(os.path.join(out_dir, "weights.json"), "w") as f:
    json.dump(meta, f, indent=1)


def load(path: str) -> dict:
  """Converted weights ({params, batch_stats}) as numpy trees."""
  if not os.path.isfile(os.path.join(path, "weights.json")):
    raise FileNotFoundError(f"config.init.path={path!r} holds no converted weights (weights.json); "
                            "make them with `python -m vidjax.weights --pth FILE --arch ARCH --out DIR`")
  restored = ocp.StandardCheckpointer().restore(os.path.join(os.path.abspath(path), "variables"))
  return jax.tree.map(np.asarray, restored)


def merge_into(variables: dict, loaded: dict, prefix: str = "") -> tuple[dict, list[str]]:
  """Copies loaded tensors into a model's fresh variables (at module `prefix`, '' = the root).

  Tensors of a classifier (`fc`, `head`) whose shape differs keep their fresh init: that is fine-tuning on a
  new class count. Any other mismatch is an error. Loaded tensors the model lacks (a backbone's `fc` when only
  the backbone is taken) are skipped. Returns the new variables and a list of what was not copied.
  """
  notes: list[str] = []
  out = jax.tree.map(lambda x: x, variables)
  copied = 0
  for col in ("params", "batch_stats"):
    target = out.get(col, {})
    if not loaded.get(col) and not target:
      continue  # e.g. no BatchNorm on either side
    for p in prefix.split("/") if prefix else ():
      if p not in target:
        raise ValueError(f"config.init.prefix={prefix!r}: the model has no module {p!r} "
                         f"(top-level modules: {sorted(out['params'])})")
      target = target[p]
    src_flat = _shapes(loaded.get(col, {}))
    dst_flat = _shapes(target)
    for path, shape in src_flat.items():
      name = "/".join(path)
      if path not in dst_flat:
        notes.append(f"skipped {col}/{name} (not in the model)")
        continue
      if dst_flat[path] != shape:
        if path[0] in _CLASSIFIER and not prefix:
          notes.append(f"kept fresh {col}/{name}: {shape} -> {dst_flat[path]} (new classifier)")
          continue
        raise ValueError(f"Weights {col}/{name} have shape {shape}, the model needs {dst_flat[path]}: "
                         "the architecture settings (config.model) differ from the weights'")
      node, src = target, loaded[col]
      for p in path[:-1]:
        node, src = node[p], src[p]
      node[path[-1]] = jnp.asarray(src[path[-1]], dtype=node[path[-1]].dtype)
      copied += 1
    for path in sorted(set(dst_flat) - set(src_flat)):
      if not (path[0] in _CLASSIFIER and not prefix):
        raise ValueError(f"Weights lack {col}/{'/'.join(path)} that the model has: config.model does not "
                         "match the weights' architecture (or set config.init.prefix)")
  if not copied:
    raise ValueError("No tensor of the weights matched the model")
  return out, notes


def main(argv: list[str] | None = None) -> None:
  ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  source = ap.add_mutually_exclusive_group(required=True)
  source.add_argument("--pth", help="torchvision state dict (.pth) or .npz of {name: array}; with --arch")
  source.add_argument("--hf", help="a Hugging Face model folder (config.json + model.safetensors): VideoMAE")
  ap.add_argument("--arch", choices=sorted(ARCHS))
  ap.add_argument("--out", required=True, help="new directory for the vidjax weights")
  a = ap.parse_args(argv)
  if a.hf:
    _import_hf(a.hf, a.out)
    return
  if not a.arch:
    ap.error("--pth needs --arch")
  try:
    variables = convert(a.pth, a.arch)
  except (ValueError, FileNotFoundError) as e:  # PthFormatError included: one line, the file and what is wrong
    sys.exit(f"vidjax.weights: {e}")
  meta = describe(variables, a.arch)
  n = meta["parameters"]
  save(variables, a.out, {**meta, "source": os.path.abspath(a.pth)})
  logging.info("Wrote %s (%s, %d parameters)", a.out, a.arch, n)
  use = {"vgg19": f"python -m vidjax.style --vgg={os.path.abspath(a.out)} ...",
         "cyclegan": f"python -m vidjax.style --method=cyclegan --generator={os.path.abspath(a.out)} ..."}.get(
             a.arch, f"--config.init.path={os.path.abspath(a.out)}" + (
                 " --config.init.prefix=frozen_backbone (or backbone)" if a.arch in ("resnet18", "googlenet") else ""))
  print(f"Wrote {os.path.abspath(a.out)}: {a.arch}, {n:,} parameters. Use it with {use}")


def _import_hf(folder: str, out: str) -> None:
  from vidjax import hf_import

  try:
    variables, info = hf_import.convert_folder(folder)
  except (ValueError, FileNotFoundError) as e:
    sys.exit(f"vidjax.weights: {e}")
  n = sum(int(np.prod(v.shape)) for v in jax.tree.leaves(variables["params"]))
  save(variables, out, {**info, "parameters": n, "source": os.path.abspath(folder)})
  model = ", ".join(f"--config.model.{k}={v}" for k, v in info["settings"].items())
  print(f"Wrote {os.path.abspath(out)}: VideoMAE, {n:,} parameters, {info['num_classes']} classes. Use it with "
        f"--config.init.path={os.path.abspath(out)} and the model it holds (configs/videomae_b.py, or {model})")


if __name__ == "__main__":
  main()
