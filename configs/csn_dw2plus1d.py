"""The UCF101 study's "2D depthwise + (2+1)D" CSN: each block's depthwise 3x3x3 split into a depthwise
1x3x3 (per frame) and a depthwise 3x1x1 (over time). Same shrunken shape and data as configs/csn.py.

  python main.py --config=configs/csn_dw2plus1d.py --workdir=runs/csn_dw2plus1d

Expected: at configs/zoo_small.py's 600 steps it reached 69.5 % top-1 / 63.1 % mean class accuracy, at 1,200
steps 80.5 % / 76.5 % (one run each, BENCHMARKS.md and README's results table).
"""

from configs.csn import get_config as csn_config


def get_config():
  c = csn_config()
  c.model.variant = "dw2plus1d"
  return c
