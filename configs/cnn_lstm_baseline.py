"""The HMDB51 study's baseline CNN+LSTM: 3 convs (32, 64, 128) with ReLU and 2x2 pooling per frame (the `simple`
backbone's defaults), global average pooling, an LSTM(256) over the 16 evenly spaced frames, no class weights.

  python main.py --config=configs/cnn_lstm_baseline.py --workdir=runs/cnn_lstm_baseline
  HMDB51: --config.dataset.name=hmdb51 --config.dataset.data_dir=/data/hmdb51 --config.input.flip=True
          --config.dataset.max_train_per_class=30  (the study's subset)

Expected: the study's from-scratch CNN+LSTMs reached about 7 % on its HMDB51 subset. On motion-only data a
CNN+LSTM that sees single frames stays near chance (BENCHMARKS.md); at CPU size with frame differences
(configs/zoo_small.py:cnn_lstm_baseline) it reached 44.0 % top-1 / 31.2 % mean class accuracy in 600 steps.
model.pool="avg" (the study's) cannot see where things move; "grid" or "flatten" keep the layout
(vidjax/models/pooling.py).
"""

from configs.common import paper_schedule
from vidjax.config import base_config


def get_config():
  c = paper_schedule(base_config("cnn_lstm"))
  c.input.train_sampling = "uniform"
  c.train.class_weights = "none"
  return c
