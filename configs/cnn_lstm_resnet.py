"""The UCF101 study's ResNet-style CNN+LSTM: a small ResNet (BasicBlocks, 32/64/128/256) per frame, LSTM(256).
With widths (64, 128, 256, 512) and depths (2, 2, 2, 2) the backbone is torchvision's resnet18 and can start
from its ImageNet weights: --config.init.path=weights/resnet18 --config.init.prefix=backbone.

  python main.py --config=configs/cnn_lstm_resnet.py --workdir=runs/cnn_lstm_resnet
  UCF101, the study's 9 classes: --config.dataset.name=ucf101 --config.dataset.data_dir=/data/UCF-101
    --config.input.flip=True --config.dataset.classes="('ApplyEyeMakeup', 'Archery', ...)"
"""

from configs.common import study_input
from vidjax.config import base_config


def get_config():
  c = study_input(base_config("cnn_lstm"))
  c.model.backbone = "resnet"
  c.model.widths = (32, 64, 128, 256)
  c.model.depths = (1, 1, 1, 1)
  c.model.batch_norm = True
  c.model.activation = "relu"
  c.model.pool = "avg"
  c.model.lstm_hidden = 256
  c.model.lstm_layers = 1
  c.model.dropout = 0.3
  c.model.remat = False
  c.train.learning_rate = 1e-3
  return c
