"""An LSTM(256) over the sequence of stored per-frame features (what averaging over time throws away).

Same store and recipe as configs/frozen_mlp.py (extract once with it, or with this config):
  python main.py --config=configs/frozen_lstm.py --workdir=runs/hmdb_mlp --config.features.out=runs/hmdb_mlp/features \
    --config.dataset.name=video_folder --config.dataset.data_dir=/data/hmdb51 --config.dataset.test_fraction=0.1
"""

from configs.frozen_mlp import get_config as frozen_mlp_config


def get_config():
  c = frozen_mlp_config()
  c.model.head = "lstm"
  c.model.dropout = 0.3
  c.train.learning_rate = 1e-3
  return c
