"""MC3-18: 3D convs in the first stage, 2D (1x3x3) after; torchvision's mc3_18, parameter for parameter.

Kinetics-400 fine-tuning (the path to high UCF101 accuracy), with torchvision's weights
downloaded by you beforehand:
  python -m vidjax.weights --pth mc3_18.pth --arch mc3_18 --out weights/mc3_18
  python main.py --config=configs/mc3_18.py --workdir=runs/mc3_18_ucf101 \
    --config.dataset.name=ucf101 --config.dataset.data_dir=/data/UCF-101 --config.input.flip=True \
    --config.init.path=weights/mc3_18
From scratch, drop --config.init.path. torchvision normalises with per-channel
Kinetics statistics; vidjax uses one mean/std (config.input.mean/std), which
fine-tuning absorbs. On a 2-core CPU one training step takes minutes: use a GPU.
"""

from configs.common import study_input
from vidjax.config import base_config


def get_config():
  c = study_input(base_config())
  c.model.name = "video_resnet"
  c.model.arch = "mc3"
  c.model.depth = 18  # 18 or 34 (BasicBlock), 50 (Bottleneck); 10 = one block per stage
  c.model.widths = (64, 128, 256, 512)
  c.model.dropout = 0.0
  c.model.remat = False
  c.model.conv_impl = "auto"
  c.train.optimizer = "sgd"
  c.train.learning_rate = 0.01
  c.train.weight_decay = 1e-4
  return c
