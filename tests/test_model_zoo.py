"""The model zoo: parameter counts against published ones, and every family learning motion on synthetic_motion."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import zoo_small
from tests.conftest import TINY, shrink
from vidjax import train
from vidjax.models import build_model
from vidjax.models.csn import CSN
from vidjax.models.video_resnet import VideoResNet


def _count(model, shape=(1, 8, 32, 32, 3)) -> int:
  v = jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros(shape)))
  return sum(int(np.prod(p.shape)) for p in jax.tree.leaves(v["params"]))


@pytest.mark.parametrize("arch,count", [("r2plus1d", 31_505_325), ("r3d", 33_371_472), ("mc3", 11_695_440)])
def test_video_resnet_18_parameters_equal_torchvision(arch, count):
  # sum(p.numel() for p in torchvision.models.video.<arch>_18().parameters()), torchvision 0.29.1
  assert _count(VideoResNet(400, arch=arch, depth=18)) == count


def test_googlenet_parameters_equal_torchvision():
  """torchvision's googlenet (IMAGENET1K_V1, auxiliary classifiers dropped as its weights' users do): 6,624,904."""
  from vidjax.models.googlenet import GoogLeNet

  assert _count(GoogLeNet(num_classes=1000), (1, 64, 64, 3)) == 6_624_904
  features = jax.eval_shape(lambda: GoogLeNet().init_with_output(jax.random.key(0), jnp.zeros((2, 112, 112, 3))))[0]
  assert features.shape == (2, 1024)


@pytest.mark.parametrize("variant,depth,published_m", [("ir", 152, 29.6), ("ip", 152, 32.8), ("ir", 50, 13.13)])
def test_csn_parameters_match_published(variant, depth, published_m):
  # Kinetics-400 heads. 152: the authors' own figures (facebookresearch/VMZ, c2/tutorials/model_zoo.md, params(M)
  # of the paper's ir-/ip-CSN-152); we count 29.70 M / 33.02 M. 50: the authors list none; MMAction2's model
  # zoo lists its conversion of the VMZ release at 13.13 M.
  n = _count(CSN(400, variant=variant, depth=depth)) / 1e6
  assert abs(n - published_m) / published_m < 0.01, n


@pytest.mark.parametrize("variant,published_gflops", [("ir", 96.7), ("ip", 108.8)])
def test_csn_152_multiply_adds_match_the_authors(variant, published_gflops):
  """The authors list 96.7 / 108.8 GFLOPs (multiply-adds) for ir-/ip-CSN-152 on a 32-frame clip. Our conv and
  FC multiply-adds equal those exactly at 256 x 256 crops (74.0 / 83.3 G at the 224 x 224 their table names),
  so that is the size compared here; XLA also counts BatchNorm, ReLU and pooling (+0.4 %)."""
  model = CSN(400, variant=variant, depth=152, conv_impl="xla")
  x = jax.ShapeDtypeStruct((1, 32, 256, 256, 3), jnp.float32)
  v = jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros(x.shape)))
  cost = jax.jit(lambda v, x: model.apply(v, x)).lower(v, x).cost_analysis()
  cost = cost[0] if isinstance(cost, list) else cost
  gmacs = cost["flops"] / 2 / 1e9  # XLA counts a multiply-add as 2 flops
  assert abs(gmacs - published_gflops) / published_gflops < 0.01, gmacs


def test_every_csn_depth_builds_with_bottleneck_stages():
  counts = [_count(CSN(400, variant="ir", depth=d)) for d in (26, 50, 101, 152)]
  assert counts == sorted(counts) and counts[0] > 8e6


ZOO = zoo_small.SMALL


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


def zoo_config(name, root, store_dir, steps):
  """configs/zoo_small.py:<name> on the given synthetic set, for `steps` steps."""
  c = shrink(zoo_small.get_config(name), root, TINY, store_dir)
  c.train.num_steps = steps
  c.log_every_steps = steps
  c.checkpoint_every_steps = steps
  return c


@pytest.fixture(scope="module")
def real_batch(tiny_motion_root, tmp_path_factory):
  """8 augmented clips of the tiny synthetic set, through the real store and loader."""
  import input_pipeline
  from input_pipeline import loader

  c = zoo_config("ir_csn", tiny_motion_root, str(tmp_path_factory.mktemp("store")), 1)
  data = input_pipeline.open_dataset(c)
  return next(loader.train_batches(data.sources["train"], input_pipeline.clip_spec(c), seed=0, global_batch=8,
                                   threads=1))


TRAINED_IN_FULL = ("ir_csn", "mc3", "mean_frame")  # by the held-out test below


@pytest.mark.parametrize("name", sorted(set(ZOO) - set(TRAINED_IN_FULL)))
def test_every_model_config_learns_a_batch(name, tiny_motion_root, real_batch, tmp_path):
  """Built through its config only; 40 train steps on one real batch must halve the loss. Frozen parts stay put.

  Heads over a frozen *random* backbone get 80 steps and only have to cut it by a fifth: random features of 8
  look-alike clips are not separable, so halving is not a property of the code (one frozen head was still at
  0.63x after 120 steps; on the rotation/zoom set frozen_mlp was at 0.82x after 40).
  Training over imported frozen weights is tested in tests/test_weights.py."""
  from functools import partial

  from vidjax import optim, steps

  c = zoo_config(name, tiny_motion_root, str(tmp_path), 40)
  c.train.warmup_steps = 0
  c.train.schedule = "constant"
  c.train.learning_rate = 1e-2
  model = build_model(c.model, 8)
  tx, _ = optim.make_optimizer(c.train)
  state = jax.jit(partial(steps.init_state, model=model, tx=tx, input_shape=(1, *real_batch["video"].shape[1:])))(
      jax.random.key(0))
  before = state
  step = steps.make_train_step(class_weights=jnp.ones(8), donate=False)
  batch = jax.device_put(real_batch, jax.devices()[0])  # one device: data parallelism is tested in test_train.py
  losses = []
  for _ in range(80 if name.startswith("frozen") else 40):
    state, m = step(state, batch, jax.random.key(1))
    losses.append(float(m.compute()["loss"]))
  assert all(math.isfinite(x) for x in losses), losses
  assert min(losses[-3:]) < (0.8 if name.startswith("frozen") else 0.5) * losses[0], (name, losses)
  if name.startswith("frozen"):
    for col in ("params", "batch_stats"):
      a, b = getattr(before, col).get("frozen_backbone", {}), getattr(state, col).get("frozen_backbone", {})
      assert all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)), col
    assert not np.array_equal(before.params["head"]["kernel"], state.params["head"]["kernel"])




@pytest.fixture(scope="module")
def medium_motion(tmp_path_factory):
  from input_pipeline.sources import synthetic_motion as sm

  spec = sm.GenerationSpec(num_groups=30, clips_per_group=2, sizes=((64, 48), (48, 64), (56, 56)),
                           min_frames=18, max_frames=24)
  root = str(tmp_path_factory.mktemp("medium") / "synthetic_motion")
  sm.generate(root, spec, workers=2)
  return root, spec, str(tmp_path_factory.mktemp("medium_store"))


def _held_out_balanced_accuracy(name, medium_motion, workdir, steps=300):
  root, spec, store = medium_motion
  c = zoo_config(name, root, store, steps)
  c.dataset.synthetic_groups = spec.num_groups
  c.dataset.synthetic_clips_per_group = spec.clips_per_group
  return train.train_and_evaluate(c, workdir)["balanced_accuracy"]


@pytest.mark.slow
def test_temporal_models_beat_the_mean_frame_on_held_out_scenes(medium_motion, tmp_path):
  """Same data and optimizer for all; 140 held-out videos (7 of 30 scenes); the mean frame trains 300 steps, the
  temporal models 600. Measured on the 2-core Xeon dev machine (2026-11-29, the set with rotation and zoom): ir-CSN
  0.62, MC3 0.31, mean frame 0.16 balanced accuracy (chance 0.125; one standard error is ~0.04). On the earlier,
  translation-only set: 0.93 / 0.72 / 0.17. The CNN+LSTM is not asserted here (0.23 against 0.17 on the earlier
  set was a coin toss for a test); it learns a batch like every other config (above), and the zoo table in
  benchmarks/BENCHMARKS.md compares every family on the full default set."""
  base = _held_out_balanced_accuracy("mean_frame", medium_motion, str(tmp_path / "mean_frame"))
  got = {name: _held_out_balanced_accuracy(name, medium_motion, str(tmp_path / name), steps=600)
         for name in ("ir_csn", "mc3")}
  print("held-out balanced accuracy", got, "mean frame", base)
  assert base < 0.3, base  # chance 0.125: appearance alone does not tell the class
  assert got["ir_csn"] > base + 0.3 and got["mc3"] > base + 0.08, (got, base)
