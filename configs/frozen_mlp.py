"""An MLP over the temporal mean of frozen per-frame features
(the HMDB51 study's best model: 16 frames, features averaged over time, hidden 256, ReLU, dropout 0.3).

The features come from torchvision's ImageNet resnet18 (512-d per frame), imported once:
  python -m vidjax.weights --pth resnet18.pth --arch resnet18 --out weights/resnet18
  python main.py --config=configs/frozen_mlp.py --workdir=runs/frozen_mlp \
    --config.init.path=weights/resnet18 \
    --config.dataset.name=hmdb51 --config.dataset.data_dir=/data/hmdb51 --config.input.flip=True
Without --config.init.path the frozen backbone keeps its random init: a random-feature baseline.
Only the head trains; the backbone runs in inference mode and is never updated.
"""

from configs.common import study_input
from vidjax.config import base_config


def get_config():
  c = study_input(base_config("frozen_features"))
  c.input.train_sampling = "uniform"
  c.input.mean = 0.45
  c.input.std = 0.225
  c.model.backbone = "resnet"
  c.model.widths = (64, 128, 256, 512)
  c.model.depths = (2, 2, 2, 2)
  c.model.head = "mlp"
  c.model.hidden = 256
  c.model.dropout = 0.3
  c.init.prefix = "frozen_backbone"
  c.train.learning_rate = 1e-3
  c.train.num_steps = 3000
  return c
