"""Small ir-CSN on the embedded synthetic_motion set: the first run on any machine.

  python main.py --config=configs/csn.py --workdir=runs/csn

Expected: 96-97 % top-1 and ~96 % mean class accuracy on the 200 held-out videos in 3-4 minutes on a 2-core CPU
(README's first-run table; 97.0 % / 96.3 % at commit d792a12). configs/mean_frame.py on the same data stays at
chance (balanced accuracy ~12.5 %).

ir-CSN (Tran et al. 2019) keeps the paper's ResNet stem with its 1x3x3 max pool, depthwise 3x3x3 bottlenecks,
temporal and spatial stride 2 from the second stage on and global average pooling; shrunk for a CPU to three
one-block stages (widths 16 / 32-64-128, expansion 1) on 8 grey frames of 48 x 48. The stem pool divides every
later layer's cost by 4 and doubles the receptive field (about 39 input pixels at the last stage), which is what
rotation and zoom need: their direction is only visible to features that see the moving part and the object's
centre together. Frames are sampled one at random per segment (base_config's `segment`): evenly spaced frames
overfit (one run: 91 % against 95 %).

For real data, e.g. UCF101 at 16 x 112 x 112 RGB, use the paper's widths: configs/csn_ir50.py.
"""

from configs.common import cpu_motion_input
from vidjax.config import base_config


def get_config():
  c = cpu_motion_input(base_config("csn"))
  c.model.stem_features = 16
  c.model.stem_kernel = (3, 3, 3)
  c.model.stage_features = (32, 64, 128)
  c.model.stage_blocks = (1, 1, 1)
  c.model.stage_strides = ((1, 1, 1), (2, 2, 2), (2, 2, 2))
  c.model.expansion = 1
  c.model.zero_init_residual = False  # three one-block stages: no depth to stabilise
  c.train.batch_size = 16
  c.train.num_steps = 1700
  c.train.learning_rate = 3e-3
  c.train.warmup_steps = 50
  c.log_every_steps = 100
  c.eval_every_steps = 850
  c.checkpoint_every_steps = 850
  return c
