"""MC3-18: 3D convs in the first stage, 2D (1x3x3) after; torchvision's mc3_18, parameter for parameter.

  python -m vidjax.weights --pth mc3_18.pth --arch mc3_18 --out weights/mc3_18
  python main.py --config=configs/mc3_18.py --workdir=runs/mc3_18_ucf101 --config.init.path=weights/mc3_18 \
    --config.dataset.name=ucf101 --config.dataset.data_dir=/data/UCF-101 --config.input.flip=True

Expected: torchvision's Kinetics-400 weights score 63.96 % top-1 on Kinetics-400 (video level, 5 clips of 16
frames; its docs); training as in configs/r2plus1d_18.py.
"""

from configs.r2plus1d_18 import get_config as r2plus1d_config


def get_config():
  c = r2plus1d_config()
  c.model.arch = "mc3"
  return c
