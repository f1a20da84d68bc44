"""The HMDB51 study's second variant: BatchNorm + LeakyReLU after every conv, balanced class weights.

  python main.py --config=configs/cnn_lstm_bn_leaky.py --workdir=runs/cnn_lstm_bn_leaky
  HMDB51: --config.dataset.name=hmdb51 --config.dataset.data_dir=/data/hmdb51 --config.input.flip=True
          --config.dataset.max_train_per_class=30  (the study's subset)

Frames: 16 evenly spaced per video (the study's sampling), 112 x 112 RGB.
"""

from configs.cnn_lstm_baseline import get_config as baseline_config


def get_config():
  c = baseline_config()
  c.model.batch_norm = True
  c.model.activation = "leaky_relu"
  c.train.class_weights = "balanced"
  return c
