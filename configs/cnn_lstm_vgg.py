"""The UCF101 study's VGG-style CNN+LSTM: five blocks of two 3x3 convs with BatchNorm (32 ... 512, the `vgg`
backbone's defaults), max pooling, global average pool to 512, LSTM(256), dropout 0.3.

  python main.py --config=configs/cnn_lstm_vgg.py --workdir=runs/cnn_lstm_vgg

Expected: at CPU size with frame differences (configs/zoo_small.py:cnn_lstm_vgg) 69.0 % top-1 / 61.7 % mean class
accuracy on synthetic_motion in 1,200 steps (one run, README's results table). UCF101 as in
configs/cnn_lstm_resnet.py.
"""

from configs.common import paper_schedule
from vidjax.config import base_config


def get_config():
  c = paper_schedule(base_config("cnn_lstm"))
  c.model.backbone = "vgg"
  c.model.batch_norm = True
  c.model.dropout = 0.3
  return c
