"""The HMDB51 study's second variant: configs/cnn_lstm_baseline.py with BatchNorm + LeakyReLU after every conv
and balanced class weights.

  python main.py --config=configs/cnn_lstm_bn_leaky.py --workdir=runs/cnn_lstm_bn_leaky

Expected: at CPU size with frame differences (configs/zoo_small.py:cnn_lstm_bn_leaky) 66.0 % top-1 / 57.9 % mean
class accuracy on synthetic_motion in 600 steps (one run, BENCHMARKS.md); HMDB51 as in the baseline's docstring.
"""

from configs.cnn_lstm_baseline import get_config as baseline_config


def get_config():
  c = baseline_config()
  c.model.batch_norm = True
  c.model.activation = "leaky_relu"
  c.train.class_weights = "balanced"
  return c
