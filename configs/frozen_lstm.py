"""An LSTM over the sequence of frozen per-frame features.

The features come from torchvision's ImageNet resnet18 (512-d per frame), imported once:
  python -m vidjax.weights --pth resnet18.pth --arch resnet18 --out weights/resnet18
  python main.py --config=configs/frozen_lstm.py --workdir=runs/frozen_lstm \
    --config.init.path=weights/resnet18 \
    --config.dataset.name=hmdb51 --config.dataset.data_dir=/data/hmdb51 --config.input.flip=True
Without --config.init.path the frozen backbone keeps its random init: a random-feature baseline.
Only the head trains; the backbone runs in inference mode and is never updated.
"""

from configs.frozen_mlp import get_config as frozen_mlp_config


def get_config():
  c = frozen_mlp_config()
  c.model.head = "lstm"
  return c
