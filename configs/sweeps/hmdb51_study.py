"""The HMDB51 study's ablations at CPU size: three CNN+LSTM variants x {plain, balanced class weights,
augmentation, dropout}, 12 points, on the embedded synthetic_motion set by default.

  python main.py --config=configs/sweeps/hmdb51_study.py --workdir=runs/hmdb51_study --mode=sweep
  # on HMDB51 itself (the study's subset: ~30 training videos per class), every point at the paper's input size:
  python main.py --config=configs/sweeps/hmdb51_study.py --workdir=runs/hmdb51_study_real --mode=sweep \
    --config.dataset.name=hmdb51 --config.dataset.data_dir=/data/hmdb51 --config.input.flip=True \
    --config.dataset.max_train_per_class=30

Points: <variant>_<ablation>. "plain" trains with no class weights, no dropout and the mild crop of
configs/zoo_small.py; each ablation changes one thing: balanced class weights, stronger augmentation (wider
crops, brightness and contrast jitter; add --config.input.flip=True on data without left/right classes), or
dropout 0.3 before the classifier. Variants: the baseline (3 convs + ReLU), BatchNorm + LeakyReLU, and
the deeper six-conv network. Compare them with --mode=report (written at the end of the sweep).
Expected: at this CPU budget the studies' per-frame-pooled CNN+LSTMs stay near chance on synthetic_motion
(see benchmarks/BENCHMARKS.md); the sweep records the comparison, not a winner.
"""

from configs import zoo_small
from configs.sweeps.common import merge, zoo_model
from vidjax.sweep import sweep

VARIANTS = ("cnn_lstm_baseline", "cnn_lstm_bn_leaky", "cnn_lstm_deep_dropout")
PLAIN = {"train": {"class_weights": "none"}, "model": {"dropout": 0.0}}
ABLATIONS = {
    "plain": {},
    "balanced": {"train": {"class_weights": "balanced"}},
    "augmentation": {"input": {"crop_scale": (0.5, 1.0), "brightness": 0.3, "contrast": 0.3}},
    "dropout": {"model": {"dropout": 0.3}},
}


def get_config():
  base = zoo_small.get_config("cnn_lstm_baseline")
  points = {}
  for variant in VARIANTS:
    for ablation, change in ABLATIONS.items():
      points[f"{variant.removeprefix('cnn_lstm_')}_{ablation}"] = merge(zoo_model(variant), PLAIN, change)
  return sweep(base, points)
