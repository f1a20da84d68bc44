"""Control: a 2D CNN on the temporal mean frame, on the same data and input as configs/csn.py.

  python main.py --config=configs/mean_frame.py --workdir=runs/mean_frame

It cannot see the order of frames, so on synthetic_motion it should score near chance (balanced accuracy
~12.5 %); see README for the measured figure, and tests/test_motion_only.py for the same check on a small set.
If it does not, the dataset leaks its class into appearance.
"""

from configs.csn import get_config as csn_config
from vidjax.models import model_config


def get_config():
  c = csn_config()
  c.model = model_config("mean_frame", features=(32, 64, 128), dropout=0.0)
  return c
