"""A head over a frozen backbone that runs inside every step (model `frozen_features`, a torchvision resnet18 by
default): what to start from to fine-tune the backbone later, and the zoo's end-to-end frozen-feature entry.
To train only the head, extract the features once and train from the store (configs/frozen_mlp.py): an epoch
then costs the head alone.

  python -m vidjax.weights --pth resnet18.pth --arch resnet18 --out weights/resnet18
  python main.py --config=configs/frozen_backbone.py --workdir=runs/frozen_backbone \
    --config.init.path=weights/resnet18 \
    --config.dataset.name=hmdb51 --config.dataset.data_dir=/data/hmdb51 --config.input.flip=True

Expected: without --config.init.path the backbone keeps its random init: a random-feature floor, 29.5 % top-1 /
12.3 % mean class accuracy on synthetic_motion at CPU size (configs/zoo_small.py:frozen_mlp, BENCHMARKS.md).
Head: mlp (features averaged over time -> 256 -> ReLU -> dropout 0.3), or --config.model.head=lstm.
"""

from configs.common import paper_schedule
from vidjax.config import base_config


def get_config():
  c = paper_schedule(base_config("frozen_features"))
  c.input.train_sampling = "uniform"
  c.init.prefix = "frozen_backbone"
  c.train.num_steps = 3000
  return c
