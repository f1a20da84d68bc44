"""ir-CSN at the paper's size (Tran et al. 2019): depth 50 here; 26, 101 and 152 by flag.

  python main.py --config=configs/csn_ir50.py --workdir=runs/ircsn50 \
    --config.dataset.name=ucf101 --config.dataset.data_dir=/data/UCF-101 --config.input.flip=True
  ip-CSN-152: --config.model.variant=ip --config.model.depth=152

Expected: not run by this project (one step takes minutes on a 2-core CPU: use a GPU). Trained from scratch,
3D CNNs reach about 40-60 % on UCF101 (Hara et al. 2018); above ~85 % takes Kinetics pretraining. Parameters
(400 classes): ir-CSN-50 13.13 M, ir-CSN-152 29.70 M, ip-CSN-152 33.02 M;
the authors list 29.6 M / 32.8 M for the 152s (tests/vidjax/models/test_csn.py). configs/csn.py is the
shrunken version for CPUs.
"""

from configs.common import paper_schedule
from vidjax.config import base_config


def get_config():
  c = paper_schedule(base_config("csn"))
  c.model.depth = 50
  c.model.dropout = 0.2
  c.train.optimizer = "sgd"
  c.train.learning_rate = 0.05
  return c
