"""Every model family shrunk to CPU size, on the default config's input: the zoo compared like for like.

  python main.py --config=configs/zoo_small.py:r2plus1d --workdir=runs/zoo_r2plus1d
  python benchmarks/zoo_table.py            # all of them: held-out accuracy, parameters, MB, training time

Expected (600 steps, one run each, BENCHMARKS.md "The zoo like for like"): mean class accuracy 63-73 % for the
CSNs, 64-66 % for the 3D ResNets, 31-58 % for the CNN+LSTMs, 14.0 % for the mean-frame control (chance 12.5 %).

Names (after the colon): see SMALL. Input: configs/common.py's cpu_motion_input (8 frames of 48 x 48 grey; at
32 x 32 R(2+1)D stayed at 25 % mean class accuracy where it reaches 66 % at 48); AdamW 3e-3 (the CNN+LSTMs:
their studies' 1e-3: at 3e-3 the baseline without BatchNorm stayed at chance), batch 16, 600 steps. Each family
keeps its paper's pooling (global average). Not the papers': the CNN+LSTMs' 2D CNN sees each frame with its
difference from the previous one (`frame_diff`, TSN's RGB difference); on their own frames they stay at chance
on this motion-only data. frozen_mlp / frozen_lstm run over a frozen *random* backbone here: floors, not results.
"""

import importlib

from configs.common import cpu_motion_input

_CNN_LSTM = {"widths": (16, 32, 64), "lstm_hidden": 64, "frame_diff": True}
# name -> (config file the model comes from, model settings that shrink it)
SMALL = {
    "cnn_lstm_baseline": ("cnn_lstm_baseline", _CNN_LSTM),
    "cnn_lstm_bn_leaky": ("cnn_lstm_bn_leaky", _CNN_LSTM),
    "cnn_lstm_deep_dropout": ("cnn_lstm_deep_dropout", _CNN_LSTM),
    "cnn_lstm_vgg": ("cnn_lstm_vgg", {**_CNN_LSTM, "depths": (2, 2, 2)}),
    "cnn_lstm_resnet": ("cnn_lstm_resnet", {**_CNN_LSTM, "depths": (1, 1, 1)}),
    "r2plus1d": ("r2plus1d_18", {"depth": 10, "widths": (8, 16, 32, 64)}),
    "r3d": ("r3d_18", {"depth": 10, "widths": (8, 16, 32, 64)}),
    "mc3": ("mc3_18", {"depth": 10, "widths": (8, 16, 32, 64)}),
    "ir_csn": ("csn", {}),
    "ip_csn": ("csn", {"variant": "ip"}),
    "csn_dw2plus1d": ("csn_dw2plus1d", {}),
    "frozen_mlp": ("frozen_backbone", {"backbone": "simple", "widths": (16, 32), "depths": (1, 1), "hidden": 32}),
    "frozen_lstm": ("frozen_backbone", {"head": "lstm", "backbone": "simple", "widths": (16, 32), "depths": (1, 1),
                                        "hidden": 32}),
    "mean_frame": ("mean_frame", {}),
    # VideoMAE's ViT, 4 blocks of width 64 over 2 x 8 x 8 tubelets (4 x 6 x 6 = 144 tokens at 8 x 48 x 48)
    "videomae_small": ("videomae_b", {"patch": 8, "width": 64, "depth": 4, "heads": 4, "mlp_dim": 128}),
}


def get_config(name: str = "ir_csn"):
  if name not in SMALL:
    raise ValueError(f"configs/zoo_small.py:{name} is not a model here; choose one of {sorted(SMALL)}")
  module, overrides = SMALL[name]
  c = cpu_motion_input(importlib.import_module(f"configs.{module}").get_config())
  c.input.train_sampling = "segment"
  for k, v in overrides.items():
    c.model[k] = v
  c.train.optimizer = "adamw"
  c.train.learning_rate = 1e-3 if module.startswith("cnn_lstm") else 3e-3
  c.train.warmup_steps = 10
  c.train.batch_size = 16
  c.eval_batch_size = 16
  c.train.num_steps = 600
  c.train.class_weights = "balanced"
  c.log_every_steps = 50
  c.eval_every_steps = 0
  c.checkpoint_every_steps = 600
  return c
