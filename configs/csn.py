"""Small ir-CSN on the embedded synthetic_motion set: the first run on any machine.

  python main.py --config=configs/csn.py --workdir=runs/csn

Expected: see README's first-run table (accuracy, balanced accuracy and wall time, measured from a fresh clone
on a 2-core CPU). configs/mean_frame.py on the same data stays at chance (balanced accuracy ~12.5 %).

The model is ir-CSN (Tran et al. 2019) shrunk to three one-block stages so it trains on a laptop CPU. Which
choices are the paper's and which are this data's:
- paper: the ResNet stem with its 1x3x3 max pool (stem_pool=True), depthwise 3x3x3 bottlenecks, temporal and
  spatial stride 2 from the second stage on, global average pooling (pool="avg").
- shrunk for a CPU: one block per stage, widths 16 / 32-64-128 with expansion 1, 8 grey frames of 48 x 48.
  The stem pool is what lets this fit the time: it divides every later layer's cost by 4 and doubles the
  receptive field (about 39 input pixels at the last stage), which is what rotation and zoom need: their
  direction is only visible to features that see the moving part and the object's centre together. A grid
  head (pool="grid", vidjax/models/pooling.py) is the other way to keep where motion happens; on this set it
  did not add accuracy (one run each: 72.5 % against 71.5 % at 1,000 steps of an earlier 16-frame variant).
- 8 frames rather than the study's 16: the same clip length at half the cost; motion per frame doubles, which
  this model learns faster (one run: 82.5 % at 1,000 steps against 85.0 % for 16 frames in twice the time).

For real data, e.g. UCF101 at 16x112x112 RGB, use the paper's widths: stem_features=64, stem_kernel=(3,7,7),
stage_features=(256,512,1024,2048), stage_blocks=(3,4,6,3) (ir-CSN-50), expansion=4, with
--config.input.num_frames=16 --config.input.frame_size=112 --config.input.channels=3 --config.input.flip=True
(configs/csn_ir50.py).
"""

from vidjax.config import base_config


def get_config():
  c = base_config("csn")
  c.dataset.store_short_side = 56
  c.input.num_frames = 8
  c.input.frame_size = 48
  c.input.channels = 1
  c.input.train_sampling = "segment"  # a random frame per segment: evenly spaced frames overfit (one run: 91 % vs 95 %)
  c.input.crop_scale = (0.8, 1.0)
  c.input.flip = False  # synthetic_motion has Left/Right and clockwise/counter-clockwise: a flip swaps them

  c.model.variant = "ir"
  c.model.stem_features = 16
  c.model.stem_kernel = (3, 3, 3)
  c.model.stem_strides = (1, 2, 2)
  c.model.stem_pool = True
  c.model.stage_features = (32, 64, 128)
  c.model.stage_blocks = (1, 1, 1)
  c.model.stage_strides = ((1, 1, 1), (2, 2, 2), (2, 2, 2))
  c.model.expansion = 1
  c.model.zero_init_residual = False  # three one-block stages: no depth to stabilise
  c.model.pool = "avg"
  c.model.dropout = 0.0
  c.model.conv_impl = "auto"

  c.train.batch_size = 16
  c.train.num_steps = 1700
  c.train.optimizer = "adamw"
  c.train.learning_rate = 3e-3
  c.train.warmup_steps = 50
  c.train.weight_decay = 1e-4
  c.train.class_weights = "balanced"

  c.log_every_steps = 100
  c.eval_every_steps = 850
  c.checkpoint_every_steps = 850
  return c
