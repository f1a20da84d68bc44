"""The HMDB51 study's best model, over stored features: GoogLeNet features of 16 evenly spaced frames, averaged
over time, into Linear(1024 -> 256) -> ReLU -> Dropout(0.3) -> Linear(256 -> classes); Adam 1e-4, batch 8.

Extract once, then train the head from the store (an epoch takes seconds):

  python -m vidjax.weights --pth googlenet-1378be20.pth --arch googlenet --out weights/googlenet
  python main.py --config=configs/frozen_mlp.py --workdir=runs/hmdb_mlp --mode=extract \
    --config.features.weights=weights/googlenet \
    --config.dataset.name=video_folder --config.dataset.data_dir=/data/hmdb51 --config.dataset.test_fraction=0.1
  python main.py --config=configs/frozen_mlp.py --workdir=runs/hmdb_mlp \
    --config.dataset.name=video_folder --config.dataset.data_dir=/data/hmdb51 --config.dataset.test_fraction=0.1
  python main.py --config=configs/frozen_mlp.py --workdir=runs/hmdb_mlp --mode=tsne      # how separable they are

Expected: the study reports 55.6 % validation accuracy (macro-F1 0.55) on HMDB51 after 10 epochs of a stratified
90/10 split. config.dataset names the videos the store is extracted from; the head reads the store in
<workdir>/features (or config.features.out), whose frames x dimension it takes from the store itself. 10 epochs
of the study's split (~6,100 train videos) at batch 8 are ~7,600 steps; set train.num_steps for your split. The
frames are decoded at the store's 128-pixel short side and centre-cropped to 112 x 112 (the study resized to
224 x 224: set input.frame_size=224 and dataset.store_short_side=256 for that).
"""

from vidjax.config import base_config


def get_config():
  c = base_config("feature_head")
  c.train.weight_decay = 0.0  # Adam
  c.train.learning_rate = 1e-4
  c.train.schedule = "constant"
  c.train.batch_size = 8
  c.eval_batch_size = 8
  c.train.num_steps = 7600
  c.train.class_weights = "none"
  c.checkpoint_every_steps = 760  # every epoch of the study's split
  c.eval_every_steps = 760
  return c
