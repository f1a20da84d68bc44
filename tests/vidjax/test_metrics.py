"""vidjax.metrics: clip- and video-level scores against a hand-computed example."""








import numpy as np
import pytest

from vidjax import metrics

# Three videos, two views each (clip x crop), six classes (so top-5 is not everything). Worked by hand:
# video 0 (label 0): views argmax 0 and 1; mean [.35 .25 .1 .1 .1 .1] -> 0, right.
# video 1 (label 1): views argmax 0 and 0; mean [.55 .35 .075 .025 0 0] -> 0, wrong; label is 2nd: top-5 right.
# video 2 (label 2): view 1 gives label 2 the unique lowest probability (not in its top-5); view 2 argmax 2;
#                    mean [.175 .15 .3 .15 .125 .1] -> 2, right.
VIEWS = np.array([
    [[0.5, 0.1, 0.1, 0.1, 0.1, 0.1], [0.2, 0.4, 0.1, 0.1, 0.1, 0.1]],
    [[0.6, 0.3, 0.05, 0.05, 0.0, 0.0], [0.5, 0.4, 0.1, 0.0, 0.0, 0.0]],
    [[0.3, 0.25, 0.0, 0.2, 0.15, 0.1], [0.05, 0.05, 0.6, 0.1, 0.1, 0.1]],
])


LABELS = np.array([0, 1, 2])


def test_clip_and_video_level_top1_top5_against_a_hand_computed_example():
  r = metrics.classification_report(VIEWS, LABELS, [f"c{i}" for i in range(6)])
  assert r["views_per_video"] == 2 and r["num_videos"] == 3
  assert r["accuracy"] == pytest.approx(2 / 3)  # video-level top-1
  assert r["top5"] == pytest.approx(1.0)  # video-level top-5
  assert r["clip_accuracy"] == pytest.approx(2 / 6)  # views 0a and 2b
  assert r["clip_top5"] == pytest.approx(5 / 6)  # all but view 2a
  assert r["mean_class_accuracy"] == pytest.approx(2 / 3) == pytest.approx(r["balanced_accuracy"])
  assert r["loss"] == pytest.approx(-(np.log(0.35) + np.log(0.35) + np.log(0.3)) / 3)
  assert r["per_class"]["c1"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1, "most_confused_with": "c0"}
  assert r["most_confused"] == [{"true": "c1", "predicted": "c0", "count": 1, "share_of_true": 1.0}]
  # fewer than five classes: top-5 is every class
  assert metrics.topk_accuracy(np.array([[0.1, 0.9]]), np.array([0]), 5) == 1.0

