"""R3D-18: a ResNet-18 with full 3x3x3 convs; torchvision's r3d_18, parameter for parameter.

Same training setup as configs/r2plus1d_18.py (see it for Kinetics-400 fine-tuning):
  python -m vidjax.weights --pth r3d_18.pth --arch r3d_18 --out weights/r3d_18
  python main.py --config=configs/r3d_18.py --workdir=runs/r3d_18_ucf101 --config.init.path=weights/r3d_18 \
    --config.dataset.name=ucf101 --config.dataset.data_dir=/data/UCF-101 --config.input.flip=True
"""

from configs.r2plus1d_18 import get_config as r2plus1d_config


def get_config():
  c = r2plus1d_config()
  c.model.arch = "r3d"
  return c
