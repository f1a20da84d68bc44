"""The UCF101 study's ResNet-style CNN+LSTM: a small ResNet (BasicBlocks, 32/64/128/256, one per stage) per
frame, LSTM(256), dropout 0.3. With the `resnet` backbone's own widths and depths (--config.model.widths="()"
--config.model.depths="()") it is torchvision's resnet18 and can start from its ImageNet weights:
--config.init.path=weights/resnet18 --config.init.prefix=backbone.

  python main.py --config=configs/cnn_lstm_resnet.py --workdir=runs/cnn_lstm_resnet
  UCF101, the study's 9 classes: --config.dataset.name=ucf101 --config.dataset.data_dir=/data/UCF-101
    --config.input.flip=True --config.dataset.classes="('ApplyEyeMakeup', 'Archery', ...)"

Expected: at CPU size with frame differences (configs/zoo_small.py:cnn_lstm_resnet) 71.0 % top-1 / 65.0 % mean
class accuracy on synthetic_motion in 1,200 steps (one run, README's results table).
"""

from configs.common import paper_schedule
from vidjax.config import base_config


def get_config():
  c = paper_schedule(base_config("cnn_lstm"))
  c.model.backbone = "resnet"
  c.model.widths = (32, 64, 128, 256)
  c.model.depths = (1, 1, 1, 1)
  c.model.dropout = 0.3
  return c
