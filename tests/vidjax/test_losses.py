"""vidjax.losses: class weights and the weighted loss against references."""



import jax.numpy as jnp
import numpy as np
from sklearn.utils.class_weight import compute_class_weight

from vidjax import losses


def test_balanced_class_weights_match_sklearn():
  labels = np.array([0] * 30 + [1] * 10 + [2] * 5 + [3] * 55)
  counts = np.bincount(labels).tolist()
  expected = compute_class_weight("balanced", classes=np.arange(4), y=labels)
  np.testing.assert_allclose(losses.class_weights("balanced", counts), expected, rtol=1e-6)
  np.testing.assert_array_equal(losses.class_weights("none", counts), np.ones(4))
  assert losses.class_weights("balanced", [4, 0, 4])[1] == 0


def test_weighted_cross_entropy_matches_numpy_reference():
  rng = np.random.default_rng(0)
  logits = rng.normal(size=(12, 5)).astype(np.float32)
  labels = rng.integers(0, 5, 12)
  w = rng.uniform(0.2, 3.0, 5).astype(np.float32)
  logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
  ce = -logp[np.arange(12), labels]
  expected = (w[labels] * ce).sum() / w[labels].sum()  # PyTorch CrossEntropyLoss(weight=w)
  got = losses.weighted_cross_entropy(jnp.asarray(logits), jnp.asarray(labels), jnp.asarray(w))
  np.testing.assert_allclose(float(got), expected, rtol=1e-5)
  mask = np.ones(12)
  mask[:4] = 0
  got_masked = losses.weighted_cross_entropy(jnp.asarray(logits), jnp.asarray(labels), jnp.asarray(w),
                                             mask=jnp.asarray(mask))
  expected_masked = (w[labels] * ce)[4:].sum() / w[labels][4:].sum()
  np.testing.assert_allclose(float(got_masked), expected_masked, rtol=1e-5)

