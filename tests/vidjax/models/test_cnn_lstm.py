"""vidjax.models.cnn_lstm: what the 2D CNN sees of each frame."""


import jax
import jax.numpy as jnp
import numpy as np


def test_frame_diff_shows_the_cnn_each_frame_and_its_change_from_the_previous():
  """cnn_lstm's frame_diff=True is the same network fed [frame_t, frame_t - frame_(t-1)] (zero change at t=0)."""
  from vidjax.models.cnn_lstm import CNNLSTM

  x = jax.random.normal(jax.random.key(1), (2, 5, 16, 16, 3))
  kw = {"num_classes": 4, "widths": (8, 16), "depths": (1, 1), "lstm_hidden": 8}
  with_diff = CNNLSTM(frame_diff=True, **kw)
  variables = with_diff.init(jax.random.key(0), x)
  stem = jax.tree.leaves(variables["params"]["backbone"])
  assert any(p.ndim == 4 and p.shape[2] == 6 for p in stem)  # 3 colour + 3 change channels
  change = x - jnp.concatenate([x[:, :1], x[:, :-1]], axis=1)
  by_hand = CNNLSTM(frame_diff=False, **kw).apply(variables, jnp.concatenate([x, change], -1))
  np.testing.assert_allclose(with_diff.apply(variables, x), by_hand, rtol=1e-6, atol=1e-6)

