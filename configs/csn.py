"""Small ir-CSN on the embedded synthetic_motion set: the first run on any machine.

  python main.py --config=configs/csn.py --workdir=runs/csn

Expected (2-core CPU, first run with data generation): 96-98.5 % test accuracy (macro-F1 0.96-0.98; latest,
2026-11-29: 97.0 % / 0.971) after 800 steps, 5-6 min for main.py. configs/mean_frame.py on the
same data stays at chance (balanced accuracy ~12.7 %).
The model is ir-CSN (Tran et al. 2019) shrunk to three one-block stages so it
trains on a laptop CPU. For real data, e.g. UCF101 at 16x112x112 RGB, use the
paper's widths: stem_features=64, stem_kernel=(3,7,7), stem_pool=True,
stage_features=(256,512,1024,2048), stage_blocks=(3,4,6,3) (ir-CSN-50),
expansion=4, with --config.input.frame_size=112 --config.input.channels=3
--config.input.flip=True.
"""

from vidjax.config import base_config


def get_config():
  c = base_config("csn")
  c.dataset.store_short_side = 56
  c.input.num_frames = 16
  c.input.frame_size = 48
  c.input.channels = 1
  c.input.train_sampling = "segment"
  c.input.crop_scale = (0.8, 1.0)
  c.input.flip = False  # synthetic_motion has MoveLeft/MoveRight: a flip would swap them

  c.model.variant = "ir"
  c.model.stem_features = 16
  c.model.stem_kernel = (3, 3, 3)
  c.model.stem_strides = (1, 2, 2)
  c.model.stem_pool = False
  c.model.stage_features = (24, 48, 96)
  c.model.stage_blocks = (1, 1, 1)
  c.model.stage_strides = ((1, 1, 1), (2, 2, 2), (2, 2, 2))
  c.model.expansion = 1
  c.model.zero_init_residual = False  # three one-block stages: no depth to stabilise
  c.model.dropout = 0.0
  c.model.conv_impl = "auto"

  c.train.batch_size = 16
  c.train.num_steps = 800
  c.train.optimizer = "adamw"
  c.train.learning_rate = 3e-3
  c.train.warmup_steps = 50
  c.train.weight_decay = 1e-4
  c.train.class_weights = "balanced"

  c.log_every_steps = 50
  c.eval_every_steps = 400
  c.checkpoint_every_steps = 200
  return c
