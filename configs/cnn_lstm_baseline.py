"""The HMDB51 study's baseline CNN+LSTM: 3 conv layers (32, 64, 128) with ReLU and pooling, an LSTM(256), no class weights.

  python main.py --config=configs/cnn_lstm_baseline.py --workdir=runs/cnn_lstm_baseline
  HMDB51: --config.dataset.name=hmdb51 --config.dataset.data_dir=/data/hmdb51 --config.input.flip=True
          --config.dataset.max_train_per_class=30  (the study's subset)

Frames: 16 evenly spaced per video (the study's sampling), 112 x 112 RGB.
Pooling: pool="avg" (each frame globally averaged before the LSTM) is the study's; it cannot see where things
move. --config.model.pool=grid (or flatten) keeps the layout (vidjax/models/pooling.py).
"""

from configs.common import study_input
from vidjax.config import base_config


def get_config():
  c = study_input(base_config("cnn_lstm"))
  c.input.train_sampling = "uniform"
  c.model.backbone = "simple"
  c.model.widths = (32, 64, 128)
  c.model.depths = (1, 1, 1)
  c.model.batch_norm = False
  c.model.activation = "relu"
  c.model.pool = "avg"  # "flatten" keeps positions for the LSTM (simple/vgg backbones)
  c.model.lstm_hidden = 256
  c.model.lstm_layers = 1
  c.model.dropout = 0.0
  c.model.remat = False
  c.model.conv_impl = "auto"  # on CPU the faster conv forms (vidjax/models/layers.py); XLA's convs elsewhere
  c.train.class_weights = "none"
  c.train.learning_rate = 1e-3
  return c
