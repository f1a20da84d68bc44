"""ir-CSN at the paper's size (Tran et al. 2019): depth 50 here; 26, 101 and 152 by flag.

  python main.py --config=configs/csn_ir50.py --workdir=runs/ircsn50 \
    --config.dataset.name=ucf101 --config.dataset.data_dir=/data/UCF-101 --config.input.flip=True
  ip-CSN-152: --config.model.variant=ip --config.model.depth=152

Parameters (400 classes): ir-CSN-50 13.13 M, ir-CSN-152 29.70 M, ip-CSN-152 33.02 M; the authors list
29.6 M / 32.8 M for the 152s (tests/test_model_zoo.py). configs/csn.py is the shrunken version for CPUs.
"""

from configs.common import study_input
from vidjax.config import base_config


def get_config():
  c = study_input(base_config("csn"))
  c.model.variant = "ir"
  c.model.depth = 50
  c.model.stem_features = 64
  c.model.stem_kernel = (3, 7, 7)
  c.model.stem_strides = (1, 2, 2)
  c.model.stem_pool = True
  c.model.stage_features = (256, 512, 1024, 2048)
  c.model.expansion = 4
  c.model.zero_init_residual = True
  c.model.dropout = 0.2
  c.model.remat = False
  c.model.conv_impl = "auto"
  c.train.optimizer = "sgd"
  c.train.learning_rate = 0.05
  return c
