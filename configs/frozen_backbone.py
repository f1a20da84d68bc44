"""A head over a frozen backbone that runs inside every step (model `frozen_features`): what to start from to
fine-tune the backbone later, and the zoo's end-to-end frozen-feature entry.

To train only the head, extract the features once and train from the store instead (configs/frozen_mlp.py,
configs/frozen_lstm.py): an epoch then costs the head alone (benchmarks/BENCHMARKS.md has the ratio).

  python -m vidjax.weights --pth resnet18.pth --arch resnet18 --out weights/resnet18
  python main.py --config=configs/frozen_backbone.py --workdir=runs/frozen_backbone \
    --config.init.path=weights/resnet18 \
    --config.dataset.name=hmdb51 --config.dataset.data_dir=/data/hmdb51 --config.input.flip=True
Head: mlp (features averaged over time -> 256 -> ReLU -> dropout 0.3), or --config.model.head=lstm.
Without --config.init.path the frozen backbone keeps its random init: a random-feature baseline.
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
