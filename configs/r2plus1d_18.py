"""R(2+1)D-18: every 3x3x3 conv factorised into 1x3x3 then 3x1x1 (Tran et al. 2018);
torchvision's r2plus1d_18, parameter for parameter.

Kinetics-400 fine-tuning (the path to high UCF101 accuracy), with torchvision's weights
downloaded by you beforehand:
  python -m vidjax.weights --pth r2plus1d_18.pth --arch r2plus1d_18 --out weights/r2plus1d_18
  python main.py --config=configs/r2plus1d_18.py --workdir=runs/r2plus1d_18_ucf101 \
    --config.dataset.name=ucf101 --config.dataset.data_dir=/data/UCF-101 --config.input.flip=True \
    --config.init.path=weights/r2plus1d_18
From scratch, drop --config.init.path. torchvision normalises with per-channel
Kinetics statistics; vidjax uses one mean/std (config.input.mean/std), which
fine-tuning absorbs. On a 2-core CPU one training step takes minutes: use a GPU.

Pooling: pool="avg" (global average, torchvision's and the paper's) is the default and the one imported
weights were trained with; --config.model.pool=grid --config.model.grid=2 averages over a 2 x 2 layout
instead, for classes whose direction lives in where motion happens (vidjax/models/pooling.py).
"""

from configs.common import study_input
from vidjax.config import base_config


def get_config():
  c = study_input(base_config("video_resnet"))
  c.model.arch = "r2plus1d"
  c.model.depth = 18  # 18 or 34 (BasicBlock), 50 (Bottleneck); 10 = one block per stage
  c.model.widths = (64, 128, 256, 512)
  c.model.dropout = 0.0
  c.model.remat = False
  c.model.conv_impl = "auto"
  c.train.optimizer = "sgd"
  c.train.learning_rate = 0.01
  c.train.weight_decay = 1e-4
  return c
