"""The HMDB51 study's third variant: configs/cnn_lstm_bn_leaky.py with two convs per stage (six in all) and
dropout 0.3 on the frame features and the last LSTM state.

  python main.py --config=configs/cnn_lstm_deep_dropout.py --workdir=runs/cnn_lstm_deep_dropout

Expected: at CPU size with frame differences (configs/zoo_small.py:cnn_lstm_deep_dropout) 54.5 % top-1 / 44.8 %
mean class accuracy on synthetic_motion in 600 steps (one run, BENCHMARKS.md).
"""

from configs.cnn_lstm_bn_leaky import get_config as bn_leaky_config


def get_config():
  c = bn_leaky_config()
  c.model.depths = (2, 2, 2)
  c.model.dropout = 0.3
  return c
