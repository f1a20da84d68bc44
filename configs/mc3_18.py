"""MC3-18: 3D convs in the first stage, 2D (1x3x3) after; torchvision's mc3_18, parameter for parameter.

Same training setup as configs/r2plus1d_18.py (see it for Kinetics-400 fine-tuning):
  python -m vidjax.weights --pth mc3_18.pth --arch mc3_18 --out weights/mc3_18
  python main.py --config=configs/mc3_18.py --workdir=runs/mc3_18_ucf101 --config.init.path=weights/mc3_18 \
    --config.dataset.name=ucf101 --config.dataset.data_dir=/data/UCF-101 --config.input.flip=True
"""

from configs.r2plus1d_18 import get_config as r2plus1d_config


def get_config():
  c = r2plus1d_config()
  c.model.arch = "mc3"
  return c
