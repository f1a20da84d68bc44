"""A trained run's own config, read from its workdir, so its eval-time settings can be overridden:

  python main.py --config=configs/workdir.py:runs/csn --workdir=runs/csn --mode=eval \
    --config.input.eval_clips=2 --config.input.eval_crops=3
  python main.py --config=configs/workdir.py:runs/csn --workdir=runs/csn --mode=predict --video=clip.mp4 \
    --config.input.eval_clips=4

What defines the run (model, data, clip) must stay as it was; eval and predict refuse a change to it.
"""

from vidjax.config import read_run_config


def get_config(workdir: str):
  return read_run_config(workdir)
