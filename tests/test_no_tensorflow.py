"""No module of vidjax or input_pipeline imports TensorFlow."""

import subprocess
import sys

_BLOCK_TF = """
import importlib.abc, sys
class NoTensorFlow(importlib.abc.MetaPathFinder):
  def find_spec(self, name, path=None, target=None):
    if name == "tensorflow" or name.startswith("tensorflow."):
      raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)")
sys.meta_path.insert(0, NoTensorFlow())
"""


def test_training_evaluation_and_pipeline_modules_do_not_import_tensorflow():
  code = _BLOCK_TF + (
      "import main\n"
      "from vidjax import train, evaluate, predict, summary, sweep, metric_writer\n"
      "from vidjax.reports import runs, plots\n"
      "import input_pipeline\n"
      "from input_pipeline import store, loader, decode\n"
      "from input_pipeline.sources import synthetic_motion, ucf101, hmdb51, video_folder\n"
      "bad = sorted(m for m in sys.modules if m == 'tensorflow' or m.startswith('tensorflow.'))\n"
      "assert not bad, bad\n"
      "print('ok')\n")
  p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
  assert p.returncode == 0 and p.stdout.strip().endswith("ok"), p.stderr[-3000:]

