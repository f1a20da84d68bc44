"""Every family of configs/zoo_small.py as one sweep: the zoo's results table (benchmarks/zoo_table.py runs it).

  python main.py --config=configs/sweeps/zoo.py --workdir=runs/zoo --mode=sweep
  python main.py --config=configs/sweeps/zoo.py --workdir=runs/zoo1200 --mode=sweep --config.train.num_steps=1200

Expected: configs/zoo_small.py's docstring (BENCHMARKS.md "The zoo like for like" has every row).
"""

from configs import zoo_small
from configs.sweeps.common import zoo_model
from vidjax.sweep import sweep


def get_config():
  return sweep(zoo_small.get_config("ir_csn"), {name: zoo_model(name) for name in zoo_small.SMALL})
