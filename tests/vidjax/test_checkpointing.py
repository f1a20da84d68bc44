"""vidjax.checkpointing: the best checkpoint outlives rotation; latest | best | STEP resolve."""







import jax.numpy as jnp
import pytest

from vidjax import checkpointing


def test_best_checkpoint_survives_rotation_and_resolves(tmp_path):
  ckpt = checkpointing.Checkpointer(str(tmp_path), max_to_keep=1)
  for step, value in zip(range(1, 6), [0.2, 0.5, 0.3, 0.5, 0.1], strict=True):
    ckpt.save(step, {"w": jnp.full(3, float(step))}, {"step": step})
    ckpt.record_evaluation(step, "val", "accuracy", value)
  ckpt.close()
  again = checkpointing.Checkpointer(str(tmp_path), max_to_keep=1)  # a later process reads what was recorded
  assert again.all_steps() == [2, 5]  # the newest and the best (the first to reach 0.5: a tie does not replace it)
  assert again.resolve("best") == 2 and again.resolve("latest") == 5 and again.resolve("5") == 5
  assert again.best() == {"step": 2, "metric": "accuracy", "value": 0.5, "split": "val"}
  state, meta = again.restore({"w": jnp.zeros(3)}, "best")
  assert meta["step"] == 2 and float(state["w"][0]) == 2.0
  with pytest.raises(FileNotFoundError, match=r"no checkpoint at step 3 .* there are \[2, 5\]"):
    again.resolve("3")
  with pytest.raises(ValueError, match="use latest, best or a step number"):
    again.resolve("newest")

