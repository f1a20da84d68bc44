"""Hugging Face model folders (what `save_pretrained` writes: config.json + model.safetensors) -> vidjax variables.

Read without torch: safetensors through the `safetensors` package's numpy API (a JSON header of bounded size,
then raw arrays: nothing to unpickle). Families: VideoMAE (`model_type` "videomae"), into vidjax.models.video_vit.
"""

from __future__ import annotations

import os

import numpy as np

from input_pipeline import bounded_json

_MAX_CONFIG_BYTES = 1 << 20


def read_folder(path: str) -> tuple[dict, dict[str, np.ndarray]]:
  """(config.json as a dict, the tensors of model.safetensors); errors name the file and what to do."""
  config_path, tensors_path = os.path.join(path, "config.json"), os.path.join(path, "model.safetensors")
  for p in (config_path, tensors_path):
    if not os.path.isfile(p):
      raise FileNotFoundError(f"{p} is missing: a Hugging Face model folder holds config.json and model.safetensors "
                              "(what save_pretrained writes)")
  config = bounded_json.read_object(config_path, _MAX_CONFIG_BYTES, ValueError,
                                    "a Hugging Face model folder's config.json is what save_pretrained writes")
  from safetensors import SafetensorError
  from safetensors.numpy import load_file

  try:
    tensors = load_file(tensors_path)
  except (SafetensorError, OSError, ValueError) as e:
    raise ValueError(f"{tensors_path} cannot be read as safetensors ({' '.join(str(e).split())[:200]})") from None
  return config, tensors


def videomae_settings(config: dict) -> dict:
  """VideoViT settings from a VideoMAE config.json (its defaults where a key is missing, as transformers does)."""
  if config.get("use_mean_pooling", True) is False:
    raise ValueError("this VideoMAE config uses the class-token layernorm head (use_mean_pooling=false), which "
                     "vidjax's VideoViT does not build")
  return {"patch": int(config.get("patch_size", 16)), "tubelet": int(config.get("tubelet_size", 2)),
          "width": int(config.get("hidden_size", 768)), "depth": int(config.get("num_hidden_layers", 12)),
          "heads": int(config.get("num_attention_heads", 12)), "mlp_dim": int(config.get("intermediate_size", 3072)),
          "qv_bias": bool(config.get("qv_bias", config.get("qkv_bias", True))),
          "norm_eps": float(config.get("layer_norm_eps", 1e-12))}


def _linear(tensors: dict, name: str, bias: bool = True) -> dict:
  out = {"kernel": tensors[f"{name}.weight"].T}
  if bias:
    out["bias"] = tensors[f"{name}.bias"]
  return out


def _norm(tensors: dict, name: str) -> dict:
  return {"scale": tensors[f"{name}.weight"], "bias": tensors[f"{name}.bias"]}


def videomae_to_flax(tensors: dict[str, np.ndarray], settings: dict) -> dict:
  """`VideoMAEForVideoClassification` tensors -> VideoViT params. Older releases store the query and value biases
  as `q_bias` / `v_bias` beside a bias-free qkv; both layouts are read."""
  t = {k.removeprefix("videomae."): v for k, v in tensors.items()}
  proj = t["embeddings.patch_embeddings.projection.weight"]  # [width, C, kt, kh, kw]
  params: dict = {"patch_embed": {"kernel": proj.transpose(2, 3, 4, 1, 0),
                                  "bias": t["embeddings.patch_embeddings.projection.bias"]}}
  for i in range(settings["depth"]):
    p = f"encoder.layer.{i}."
    a = p + "attention.attention."
    if a + "q_bias" in t:  # the release's layout
      t[a + "query.bias"], t[a + "value.bias"] = t[a + "q_bias"], t[a + "v_bias"]
    qv = settings["qv_bias"]
    params[f"block{i}"] = {
        "norm1": _norm(t, p + "layernorm_before"), "norm2": _norm(t, p + "layernorm_after"),
        "attn": {"query": _linear(t, a + "query", qv), "key": _linear(t, a + "key", False),
                 "value": _linear(t, a + "value", qv), "out": _linear(t, p + "attention.output.dense")},
        "fc1": _linear(t, p + "intermediate.dense"), "fc2": _linear(t, p + "output.dense")}
  params["fc_norm"] = _norm(t, "fc_norm")
  if "classifier.weight" in t:
    params["head"] = _linear(t, "classifier")
  return {"params": params}


def convert_folder(path: str) -> tuple[dict, dict]:
  """A Hugging Face model folder -> (checked vidjax variables, {arch, settings, num_classes, classes})."""
  import jax
  import jax.numpy as jnp

  from vidjax.models import build_model, model_config
  from vidjax.weights import check_against

  config, tensors = read_folder(path)
  kind = config.get("model_type")
  if kind != "videomae":
    raise ValueError(f"{os.path.join(path, 'config.json')}: model_type {kind!r}; vidjax imports 'videomae' folders")
  settings = videomae_settings(config)
  try:
    variables = videomae_to_flax(tensors, settings)
  except KeyError as e:
    raise ValueError(f"{os.path.join(path, 'model.safetensors')} has no tensor {e.args[0]!r}: not a "
                     "VideoMAEForVideoClassification checkpoint of its config.json") from None
  num_classes = int(variables["params"]["head"]["kernel"].shape[1]) if "head" in variables["params"] else 0
  frames, size = int(config.get("num_frames", 16)), int(config.get("image_size", 224))
  model = build_model(model_config("video_vit", **settings), num_classes)
  reference = jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros((1, frames, size, size, 3))))
  check_against(variables, reference, f"{path!r} as VideoMAE {settings}")
  labels = config.get("id2label") or {}
  classes = [str(labels.get(str(i), labels.get(i, f"class_{i}"))) for i in range(num_classes)] if labels else []
  return variables, {"arch": "videomae", "settings": settings, "num_classes": num_classes, "classes": classes,
                     "num_frames": frames, "image_size": size}
