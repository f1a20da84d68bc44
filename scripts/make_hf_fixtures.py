"""Writes tests/fixtures/golden_hf.npz: Hugging Face transformers' outputs for the video-transformer golden tests.

Run once, in a separate venv with torch + transformers (never vidjax dependencies):
  python3.11 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install torch==2.13.0 transformers==5.23.0 safetensors numpy
  /tmp/refvenv/bin/python scripts/make_hf_fixtures.py

Small configs of each model (full-size layouts, fewer and narrower layers), weights from
tests/helpers/golden_weights.py by name and shape (not stored), eval mode, eager attention.
"""

import json
import os
import sys

import numpy as np
import torch
import transformers

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tests.helpers.golden_weights import make_weights

VIDEOMAE = {"image_size": 32, "patch_size": 16, "num_channels": 3, "num_frames": 4, "tubelet_size": 2,
            "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 128,
            "num_labels": 5, "use_mean_pooling": True, "qv_bias": True}


def main() -> None:
  out = {}
  config = transformers.VideoMAEConfig(**VIDEOMAE, attn_implementation="eager")
  model = transformers.VideoMAEForVideoClassification(config).eval()
  shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
  model.load_state_dict({k: torch.from_numpy(v) for k, v in make_weights(shapes).items()})
  x = np.random.default_rng(0).normal(size=(2, 4, 3, 32, 32)).astype(np.float32)  # [B, T, C, H, W]
  with torch.no_grad():
    y = model(pixel_values=torch.from_numpy(x)).logits.numpy()
  out.update({"videomae/input": x, "videomae/output": y, "videomae/shapes": np.array(json.dumps(shapes)),
              "videomae/config": np.array(json.dumps(config.to_dict())),
              "videomae/parameters": np.array(sum(p.numel() for p in model.parameters()))})
  print(f"videomae: {tuple(x.shape)} -> {tuple(y.shape)}, |y| max {np.abs(y).max():.3f}, "
        f"{int(out['videomae/parameters']):,} parameters; transformers {transformers.__version__}, torch {torch.__version__}")
  path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "golden_hf.npz")
  np.savez_compressed(path, **out)
  print(f"wrote {os.path.abspath(path)} ({os.path.getsize(path):,} bytes)")


if __name__ == "__main__":
  main()
