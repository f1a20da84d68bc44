"""The UCF101 study's four families at CPU size, like for like: VGG CNN+LSTM, ResNet CNN+LSTM, R(2+1)D and the
depthwise + (2+1)D CSN, on the embedded synthetic_motion set by default.

  python main.py --config=configs/sweeps/ucf101_study.py --workdir=runs/ucf101_study --mode=sweep
  # on UCF101 (every point keeps its CPU size; set the input size you want):
  python main.py --config=configs/sweeps/ucf101_study.py --workdir=runs/ucf101_study_real --mode=sweep \
    --config.dataset.name=ucf101 --config.dataset.data_dir=/data/UCF-101 --config.input.flip=True

Every point trains 1,200 steps (batch 16, AdamW at configs/zoo_small.py's rates, cosine) on its input (8 frames
of 48 x 48 grey) and is evaluated every 200 steps on the held-out scenes (zoo_small's own budget is 600 steps).
The report written at the end is the study's results table: top-1, top-5, mean class accuracy, macro-F1,
parameters, size, GFLOPs, training time.

Expected: README's results table (one run, 19 min on a 2-core CPU): mean class accuracy 80.2 % for R(2+1)D, 76.5 %
for the depthwise + (2+1)D CSN, 61.7-65.0 % for the CNN+LSTMs; chance 12.5 %.
"""

from configs import zoo_small
from configs.sweeps.common import zoo_model
from vidjax.sweep import sweep

POINTS = ("cnn_lstm_vgg", "cnn_lstm_resnet", "r2plus1d", "csn_dw2plus1d")


def get_config():
  base = zoo_small.get_config("ir_csn")
  base.train.num_steps = 1200
  base.eval_every_steps = 200
  base.checkpoint_every_steps = 400
  return sweep(base, {name: zoo_model(name) for name in POINTS})
