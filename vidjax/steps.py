"""Pure, jit-compiled steps: functions of (state, batch, rng) and nothing else.

No `from __future__ import annotations` here: clu reads metric annotations at runtime.
"""


from typing import Any

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from clu import metrics
from flax.training import train_state

from vidjax.losses import weighted_cross_entropy


class TrainState(train_state.TrainState):
  batch_stats: Any = None


@flax.struct.dataclass
class TrainMetrics(metrics.Collection):
  loss: metrics.Average.from_output("loss")
  accuracy: metrics.Accuracy


def normalize(video: jax.Array, mean: float, std: float) -> jax.Array:
  """uint8 clips travel to the device (4x less traffic); scaling happens here."""
  return (video.astype(jnp.float32) / 255.0 - mean) / std


def init_state(rng: jax.Array, model: nn.Module, tx: optax.GradientTransformation, input_shape: tuple[int, ...]
               ) -> TrainState:
  variables = model.init({"params": rng}, jnp.zeros(input_shape, jnp.float32), train=False)
  return TrainState.create(apply_fn=model.apply, params=variables["params"], tx=tx,
                           batch_stats=variables.get("batch_stats", {}))


def train_step(state: TrainState, batch: dict, rng: jax.Array, *, class_weights: jax.Array,
               label_smoothing: float, mean: float, std: float) -> tuple[TrainState, TrainMetrics]:
  step_rng = jax.random.fold_in(rng, state.step)  # same dropout on a resumed run
  x = normalize(batch["video"], mean, std)

  def loss_fn(params):
    logits, updates = state.apply_fn({"params": params, "batch_stats": state.batch_stats}, x, train=True,
                                     rngs={"dropout": step_rng}, mutable=["batch_stats"])
    loss = weighted_cross_entropy(logits, batch["label"], class_weights, label_smoothing)
    return loss, (logits, updates)

  (loss, (logits, updates)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
  state = state.apply_gradients(grads=grads, batch_stats=updates.get("batch_stats", state.batch_stats))
  return state, TrainMetrics.single_from_model_output(loss=loss, logits=logits, labels=batch["label"])


def eval_step(state: TrainState, batch: dict, *, mean: float, std: float) -> dict:
  """Per-video class probabilities, averaged over the video's clips (Scenic-style)."""
  video = batch["video"]  # [B, clips, T, H, W, C]
  b, k = video.shape[:2]
  x = normalize(video.reshape(b * k, *video.shape[2:]), mean, std)
  logits = state.apply_fn({"params": state.params, "batch_stats": state.batch_stats}, x, train=False)
  probs = jax.nn.softmax(logits.astype(jnp.float32), -1).reshape(b, k, -1).mean(1)
  return {"probs": probs, "label": batch["label"], "mask": batch["mask"]}
