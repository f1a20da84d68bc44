"""The UCF101 study's VGG-style CNN+LSTM: five blocks of two 3x3 convs (32 ... 512), max pooling,
global average pool to 512, LSTM(256).

  python main.py --config=configs/cnn_lstm_vgg.py --workdir=runs/cnn_lstm_vgg
  UCF101, the study's 9 classes: --config.dataset.name=ucf101 --config.dataset.data_dir=/data/UCF-101
    --config.input.flip=True --config.dataset.classes="('ApplyEyeMakeup', 'Archery', ...)"
"""

from configs.common import study_input
from vidjax.config import base_config


def get_config():
  c = study_input(base_config("cnn_lstm"))
  c.model.backbone = "vgg"
  c.model.widths = (32, 64, 128, 256, 512)
  c.model.depths = (2, 2, 2, 2, 2)
  c.model.batch_norm = True
  c.model.activation = "relu"
  c.model.pool = "avg"  # "flatten" keeps positions for the LSTM (simple/vgg backbones)
  c.model.lstm_hidden = 256
  c.model.lstm_layers = 1
  c.model.dropout = 0.3
  c.model.remat = False
  c.train.learning_rate = 1e-3
  return c
