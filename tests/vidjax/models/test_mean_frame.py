"""synthetic_motion really tests motion: a model of the mean frame learns nothing that transfers."""

import numpy as np
import pytest

from configs.mean_frame import get_config
from input_pipeline.sources import synthetic_motion as sm
from tests.conftest import shrink
from tests.helpers.models import balanced_accuracy_se
from vidjax import evaluate, train

SPEC = sm.GenerationSpec(num_groups=8, clips_per_group=3, sizes=((64, 48), (48, 64), (56, 56)),
                         min_frames=18, max_frames=30)


@pytest.mark.slow
def test_mean_frame_model_fits_train_but_stays_near_chance_on_test(tmp_path):
  root = str(tmp_path / "synthetic_motion")
  sm.generate(root, SPEC, workers=1)
  c = shrink(get_config(), root, SPEC, str(tmp_path / "store"), frames=16)
  c.train.batch_size = 16
  c.train.num_steps = 300
  c.train.learning_rate = 3e-3
  c.log_every_steps = 100
  c.checkpoint_every_steps = 300
  workdir = str(tmp_path / "run")

  test = train.train_and_evaluate(c, workdir)
  c.dataset.eval_split = "train"
  fit = evaluate.evaluate_checkpoint(c, workdir)

  support = [row["support"] for row in test["per_class"].values()]
  assert test["num_videos"] == 60 and sorted(support) == [6] * 7 + [18]
  # chance is 1/8; a model at chance stays under three of its standard errors above it (0.262 for these classes)
  at_chance = balanced_accuracy_se(support, recall=1 / 8)
  assert test["balanced_accuracy"] < 1 / 8 + 3 * at_chance, test["balanced_accuracy"]
  # Not for want of fitting: the same model separates its training videos, by more than 3 standard errors of the
  # difference (each bounded for any recall)
  se_fit = balanced_accuracy_se([row["support"] for row in fit["per_class"].values()])
  se_test = balanced_accuracy_se(support)
  assert fit["balanced_accuracy"] > test["balanced_accuracy"] + 3 * np.hypot(se_test, se_fit), (fit, test)
