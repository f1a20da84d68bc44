"""R(2+1)D-18: every 3x3x3 conv factorised into 1x3x3 then 3x1x1 (Tran et al. 2018); torchvision's r2plus1d_18,
parameter for parameter (base_config's video_resnet model is exactly it).

Kinetics-400 fine-tuning (the path to high UCF101 accuracy), with torchvision's weights downloaded by you:
  python -m vidjax.weights --pth r2plus1d_18.pth --arch r2plus1d_18 --out weights/r2plus1d_18
  python main.py --config=configs/r2plus1d_18.py --workdir=runs/r2plus1d_18_ucf101 \
    --config.dataset.name=ucf101 --config.dataset.data_dir=/data/UCF-101 --config.input.flip=True \
    --config.init.path=weights/r2plus1d_18
From scratch, drop --config.init.path.

Expected: not run at this size by this project (one training step takes seconds to minutes on a 2-core CPU: use
a GPU). torchvision's Kinetics-400 weights score 57.5 % clip accuracy on Kinetics-400 (its 0.13 docs); from
scratch, 3D CNNs reach about 40-60 % on UCF101 (Hara et al. 2018). torchvision normalises with per-channel
Kinetics statistics; vidjax uses one mean/std (config.input.mean/std), which fine-tuning absorbs. The imported
weights were trained with global average pooling (model.pool="avg", the default).
"""

from configs.common import paper_schedule
from vidjax.config import base_config


def get_config():
  c = paper_schedule(base_config("video_resnet"))
  c.train.optimizer = "sgd"
  c.train.learning_rate = 0.01
  return c
