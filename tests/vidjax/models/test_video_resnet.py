"""vidjax.models.video_resnet: R3D / MC3 / R(2+1)D-18 are torchvision's, parameter for parameter."""





import pytest

from tests.helpers.models import count_params
from vidjax.models.video_resnet import VideoResNet


@pytest.mark.parametrize("arch,count", [("r2plus1d", 31_505_325), ("r3d", 33_371_472), ("mc3", 11_695_440)])
def test_video_resnet_18_parameters_equal_torchvision(arch, count):
  # sum(p.numel() for p in torchvision.models.video.<arch>_18().parameters()), torchvision 0.29.1
  assert count_params(VideoResNet(400, arch=arch, depth=18)) == count

