"""An LSTM(256) over the sequence of stored per-frame features (what averaging over time throws away), at the
CNN+LSTMs' learning rate; same store and recipe as configs/frozen_mlp.py (extract once with either):

  python main.py --config=configs/frozen_lstm.py --workdir=runs/hmdb_mlp --config.features.out=runs/hmdb_mlp/features \
    --config.dataset.name=video_folder --config.dataset.data_dir=/data/hmdb51 --config.dataset.test_fraction=0.1

Expected: not measured on HMDB51 by this project. On synthetic_motion, over a single-frame encoder's stored
features, this LSTM head reached 25.6 % mean class accuracy where the MLP over the time mean stayed at chance
(11.2 %): the order of the frames carries the motion (one run, BENCHMARKS.md "Frozen features").
"""

from configs.frozen_mlp import get_config as frozen_mlp_config


def get_config():
  c = frozen_mlp_config()
  c.model.head = "lstm"
  c.train.learning_rate = 1e-3
  return c
