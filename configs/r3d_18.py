"""R3D-18: a ResNet-18 with full 3x3x3 convs; torchvision's r3d_18, parameter for parameter.

  python -m vidjax.weights --pth r3d_18.pth --arch r3d_18 --out weights/r3d_18
  python main.py --config=configs/r3d_18.py --workdir=runs/r3d_18_ucf101 --config.init.path=weights/r3d_18 \
    --config.dataset.name=ucf101 --config.dataset.data_dir=/data/UCF-101 --config.input.flip=True

Expected: torchvision's Kinetics-400 weights score 63.2 % top-1 on Kinetics-400 (video level, 5 clips of 16
frames; its docs); training as in configs/r2plus1d_18.py, which says what to expect from scratch.
"""

from configs.r2plus1d_18 import get_config as r2plus1d_config


def get_config():
  c = r2plus1d_config()
  c.model.arch = "r3d"
  return c
