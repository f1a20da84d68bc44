"""Control: a 2D CNN on the temporal mean frame, on the same data and input as configs/csn.py.

  python main.py --config=configs/mean_frame.py --workdir=runs/mean_frame

Expected: near chance, 13.5 % top-1 / 14.0 % mean class accuracy (README's first-run table; chance 12.5 %). It
cannot see the order of frames; if it scored well, the dataset would leak its class into appearance
(tests/vidjax/models/test_mean_frame.py checks the same on a small set).
"""

from configs.csn import get_config as csn_config
from vidjax.models import model_config


def get_config():
  c = csn_config()
  c.model = model_config("mean_frame")
  return c
