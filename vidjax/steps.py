"""Pure, jit-compiled steps: functions of (state, batch, rng) and nothing else.

No `from __future__ import annotations` here: clu reads metric annotations at runtime.
"""

from functools import partial
from typing import Any

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from clu import metrics
from flax.training import train_state

from vidjax import optim, sharding
from vidjax.losses import weighted_cross_entropy


class TrainState(train_state.TrainState):
  batch_stats: Any = None
  ema_params: Any = None  # only with config.train.ema_decay > 0; evaluation then uses these


def eval_params(state: "TrainState") -> Any:
  return state.params if state.ema_params is None else state.ema_params


@flax.struct.dataclass
class TrainMetrics(metrics.Collection):
  loss: metrics.Average.from_output("loss")
  accuracy: metrics.Accuracy


def normalize(video: jax.Array, mean: float, std: float) -> jax.Array:
  """uint8 clips travel to the device (4x less traffic); scaling happens here. Float input (stored features)
  passes through unchanged."""
  if not jnp.issubdtype(video.dtype, jnp.integer):
    return video.astype(jnp.float32)
  return (video.astype(jnp.float32) / 255.0 - mean) / std


def init_state(rng: jax.Array, model: nn.Module, tx: optax.GradientTransformation, input_shape: tuple[int, ...],
               ema: bool = False) -> TrainState:
  variables = model.init({"params": rng}, jnp.zeros(input_shape, jnp.float32), train=False)
  return TrainState.create(apply_fn=model.apply, params=variables["params"], tx=tx,
                           batch_stats=variables.get("batch_stats", {}),
                           ema_params=variables["params"] if ema else None)


def train_step(state: TrainState, batch: dict, rng: jax.Array, *, class_weights: jax.Array,
               label_smoothing: float, mean: float, std: float, accum_steps: int = 1,
               ema_decay: float = 0.0, mixup_alpha: float = 0.0) -> tuple[TrainState, TrainMetrics]:
  """One update. With accum_steps > 1 the batch is split into micro-batches whose gradients are summed before
  the update: the weighted loss is sum(w*ce)/sum(w) over the whole batch, and sum(w) does not depend on the
  parameters, so summing each micro-batch's gradient of sum(w*ce) and dividing by the batch's sum(w) gives
  the full-batch gradient. Only BatchNorm sees micro-batch statistics (as in any framework).

  Mixup (mixup_alpha > 0) blends each clip with the clip at the mirrored position of its (micro-)batch,
  lam ~ Beta(alpha, alpha) per step, and the loss with it: lam * loss(y) + (1 - lam) * loss(y_mirrored).
  Mirroring permutes the batch, so sum(w) is unchanged and the normaliser above still holds."""
  step_rng = jax.random.fold_in(rng, state.step)  # same dropout on a resumed run
  labels = batch["label"]
  weight = class_weights[labels]
  total_weight = jnp.maximum(jnp.sum(weight), 1e-12)
  lam = jax.random.beta(jax.random.fold_in(step_rng, 7), mixup_alpha, mixup_alpha) if mixup_alpha else 1.0

  def weighted_sum(params, batch_stats, video, labels, rng):
    x = normalize(video, mean, std)
    if mixup_alpha:
      x = lam * x + (1 - lam) * jnp.flip(x, axis=0)
    logits, updates = state.apply_fn({"params": params, "batch_stats": batch_stats}, x,
                                     train=True, rngs={"dropout": rng}, mutable=["batch_stats"])
    per_example = weighted_cross_entropy(logits, labels, class_weights, label_smoothing, reduce=False)
    if mixup_alpha:
      mirrored = weighted_cross_entropy(logits, jnp.flip(labels, axis=0), class_weights, label_smoothing, reduce=False)
      per_example = lam * per_example + (1 - lam) * mirrored
    return jnp.sum(per_example), (logits, updates.get("batch_stats", batch_stats))

  grad_fn = jax.value_and_grad(weighted_sum, has_aux=True)
  if accum_steps == 1:
    (num, (logits, batch_stats)), grads = grad_fn(state.params, state.batch_stats, batch["video"], labels, step_rng)
  else:
    # micro-batch j = elements j, j+k, j+2k, ...: every device keeps its own slice of the sharded batch
    def split(x):
      return jnp.moveaxis(x.reshape(x.shape[0] // accum_steps, accum_steps, *x.shape[1:]), 1, 0)

    def body(carry, micro):
      grads, num, batch_stats = carry
      video, lab, j = micro
      (n, (logits, batch_stats)), g = grad_fn(state.params, batch_stats, video, lab, jax.random.fold_in(step_rng, j))
      return (jax.tree.map(jnp.add, grads, g), num + n, batch_stats), logits

    zeros = jax.tree.map(jnp.zeros_like, state.params)
    (grads, num, batch_stats), logits = jax.lax.scan(
        body, (zeros, jnp.zeros((), jnp.float32), state.batch_stats),
        (split(batch["video"]), split(labels), jnp.arange(accum_steps)))
    logits = jnp.moveaxis(logits, 0, 1).reshape(labels.shape[0], -1)  # back to batch order
  grads = jax.tree.map(lambda g: g / total_weight, grads)
  state = state.apply_gradients(grads=grads, batch_stats=batch_stats)
  if ema_decay:
    state = state.replace(ema_params=jax.tree.map(lambda e, p: ema_decay * e + (1 - ema_decay) * p,
                                                  state.ema_params, state.params))
  return state, TrainMetrics.single_from_model_output(loss=num / total_weight, logits=logits, labels=labels)


def eval_step(state: TrainState, batch: dict, *, mean: float, std: float) -> dict:
  """Class probabilities of every view (clip x crop) of every video: [B, views, classes].

  Views stay apart so the host can score clips alone (clip-level) and averaged per video (video-level).
  """
  video = batch["video"]  # [B, views, T, H, W, C]
  b, k = video.shape[:2]
  x = normalize(video.reshape(b * k, *video.shape[2:]), mean, std)
  logits = state.apply_fn({"params": eval_params(state), "batch_stats": state.batch_stats}, x, train=False)
  probs = jax.nn.softmax(logits.astype(jnp.float32), -1).reshape(b, k, -1)
  return {"probs": probs, "label": batch["label"], "mask": batch["mask"]}


@jax.jit
def all_finite(tree: Any) -> jax.Array:
  """True when every float array of the tree (a TrainState: parameters, statistics, optimizer state) is finite."""
  leaves = [x for x in jax.tree.leaves(tree) if jnp.issubdtype(x.dtype, jnp.floating)]
  return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves])) if leaves else jnp.bool_(True)


def make_init(model: nn.Module, tx: optax.GradientTransformation, example_shape: tuple[int, ...], mesh: Any = None,
              ema: bool = False):
  """init_state jit-wired: rng -> a fresh TrainState for one example of `example_shape`, replicated over the
  mesh's devices (mesh=None: plain jit). Training, tests and benchmarks all initialise through it."""
  fn = partial(init_state, model=model, tx=tx, input_shape=(1, *example_shape), ema=ema)
  return jax.jit(fn) if mesh is None else jax.jit(fn, out_shardings=sharding.replicated(mesh))


def init_from_config(config: Any, model: nn.Module, example_shape: tuple[int, ...], mesh: Any = None):
  """make_init with the optimizer and EMA of `config.train`."""
  tx, _ = optim.make_optimizer(config.train)
  return make_init(model, tx, example_shape, mesh, ema=config.train.ema_decay > 0)


def make_train_step(mesh: Any = None, *, class_weights: Any, label_smoothing: float = 0.0, mean: float = 0.45,
                    std: float = 0.225, accum_steps: int = 1, ema_decay: float = 0.0, mixup_alpha: float = 0.0,
                    donate: bool = True):
  """The one place the train step is jit-wired: state replicated, batch sharded along `data`, state donated.

  Training, tests and benchmarks all call this (mesh=None: plain jit, no shardings, for single-device checks).
  """
  fn = partial(train_step, class_weights=jnp.asarray(class_weights, jnp.float32), label_smoothing=label_smoothing,
               mean=mean, std=std, accum_steps=accum_steps, ema_decay=ema_decay, mixup_alpha=mixup_alpha)
  shardings = {} if mesh is None else {
      "in_shardings": (sharding.replicated(mesh), sharding.data_sharded(mesh), sharding.replicated(mesh)),
      "out_shardings": (sharding.replicated(mesh), sharding.replicated(mesh))}
  return jax.jit(fn, donate_argnums=0 if donate else (), **shardings)


def train_step_from_config(config: Any, mesh: Any, class_weights: Any, donate: bool = True):
  """make_train_step with every setting taken from `config.train` / `config.input`."""
  t = config.train
  return make_train_step(mesh, class_weights=class_weights, label_smoothing=t.label_smoothing, mean=config.input.mean,
                         std=config.input.std, accum_steps=t.grad_accum_steps, ema_decay=t.ema_decay,
                         mixup_alpha=t.mixup_alpha, donate=donate)


def make_eval_step(mesh: Any, *, mean: float, std: float):
  """eval_step jit-wired like the train step (the batch sharded, the result replicated for the host)."""
  return jax.jit(partial(eval_step, mean=mean, std=std),
                 in_shardings=(sharding.replicated(mesh), sharding.data_sharded(mesh)),
                 out_shardings=sharding.replicated(mesh))
