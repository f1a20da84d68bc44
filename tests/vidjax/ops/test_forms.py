"""vidjax.ops.forms: the one process setting that chooses forms, the choices it makes, and whole models computing
the same under each setting."""

import os
import pathlib
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.helpers import REPO_ROOT
from tests.helpers.conv_reference import under
from vidjax.ops import forms

F32, BF16 = jnp.float32, jnp.bfloat16


def test_the_setting_comes_from_use_then_the_process_then_the_environment(monkeypatch):
  monkeypatch.setattr(forms, "_process_default", None)
  monkeypatch.setenv(forms.ENV, "xla")
  assert forms.setting() == "xla" and not forms.cpu_forms(F32)
  forms.set_default("cpu")
  assert forms.setting() == "cpu" and forms.cpu_forms(F32)
  with forms.use("xla"):
    assert forms.setting() == "xla"
    assert forms.conv3d((3, 3, 3), (1, 1, 1), 64, 16, 56, 56, F32) == "xla"
  assert forms.setting() == "cpu"
  monkeypatch.setattr(forms, "_process_default", None)
  monkeypatch.setenv(forms.ENV, "auto")
  assert forms.cpu_forms(F32) == (jax.default_backend() == "cpu")


def test_an_unknown_setting_is_refused_naming_where_it_came_from(monkeypatch):
  with pytest.raises(ValueError, match=r"--compute_forms='cudnn' is not a compute-forms setting; choose one of"):
    forms.set_default("cudnn")
  monkeypatch.setattr(forms, "_process_default", None)
  monkeypatch.setenv(forms.ENV, "fast")
  with pytest.raises(ValueError, match=r"VIDJAX_COMPUTE_FORMS='fast' is not a compute-forms setting"):
    forms.setting()


# (op, arguments, the form the CPU setting takes): one row per decision of forms.py, at the zoo's shapes
CPU_CHOICES = [
    ("conv3d", ((3, 3, 3), (1, 1, 1), 64, 16, 56, 56), "winograd_f4"),  # R3D layer 1
    ("conv3d", ((1, 3, 3), (1, 1, 1), 64, 16, 56, 56), "winograd_f4"),  # R(2+1)D's spatial half
    ("conv3d", ((3, 3, 3), (1, 1, 1), 512, 2, 7, 7), "xla"),  # R3D layer 4: short clip, small map
    ("conv3d", ((1, 3, 3), (1, 1, 1), 512, 8, 7, 7), "xla+winograd_f2"),  # MC3's last stage
    ("conv3d", ((3, 1, 1), (1, 1, 1), 144, 16, 56, 56), "winograd_temporal"),
    ("conv3d", ((3, 7, 7), (1, 2, 2), 3, 16, 112, 112), "im2col_stem"),  # R3D's stem: 441 terms
    ("conv3d", ((3, 3, 3), (1, 2, 2), 1, 8, 48, 48), "direct+im2col_stem"),  # the default CSN's stem: 27 terms
    ("conv3d", ((3, 3, 3), (2, 2, 2), 64, 16, 56, 56), "im2col"),  # strided
    ("conv2d", (3, 1, 64, 28, 28), "xla+winograd_f4"),
    ("conv2d", (7, 2, 3, 112, 112), "im2col_stem"),  # resnet18's stem: 147 terms
    ("conv2d", (3, 2, 128, 28, 28), "xla+im2col"),  # a wide strided conv
    ("conv2d", (3, 1, 3, 112, 112), "narrow_direct"),  # the first conv from RGB
    ("conv2d", (3, 1, 4, 4, 4), "narrow_direct"),
    ("conv2d", (1, 2, 16, 10, 10), "im2col"),  # a downsample
    ("depthwise_conv3d", (), "shifted_slices"),
    ("max_pool", ((2, 8, 8, 4), (2, 2), (2, 2), ((0, 0), (0, 0))), "blocks"),
    ("max_pool", ((2, 9, 8, 4), (3, 3), (2, 2), ((1, 1), (1, 1))), "masked_slices"),
]


@pytest.mark.parametrize("op,args,cpu_form", CPU_CHOICES)
def test_each_op_takes_its_cpu_form_and_xla_or_bfloat16_take_xlas_own(op, args, cpu_form):
  """The CPU setting picks per shape; `xla` picks XLA's own for every op, and so does bfloat16 under any setting
  (every form treats it alike)."""
  choose = getattr(forms, op)
  with forms.use("cpu"):
    assert choose(*args, F32) == cpu_form
    assert choose(*args, BF16) == "xla"
  with forms.use("xla"):
    assert choose(*args, F32) == "xla"


def test_every_threshold_has_a_reason_and_no_model_or_config_chooses_forms():
  assert all(t.why and isinstance(t.value, int) for t in forms.THRESHOLDS.values())
  for folder in ("vidjax/models", "configs"):
    for path in pathlib.Path(REPO_ROOT, folder).rglob("*.py"):
      text = path.read_text()
      assert "conv_impl" not in text and "forms" not in text.replace("transforms", ""), path


def test_summary_counts_the_same_model_under_every_setting(repo_root):
  """`--mode=summary` prints the parameters and GFLOPs of the model as written, whatever forms run."""
  env = {k: v for k, v in os.environ.items() if k != forms.ENV}
  tails = []
  for setting in forms.SETTINGS:
    p = subprocess.run([sys.executable, "main.py", "--config=configs/r3d_18.py", "--mode=summary",
                        f"--compute_forms={setting}"], cwd=repo_root, env=env, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    tails.append(p.stdout.strip().splitlines()[-3:])
  assert tails[0] == tails[1] == tails[2]
  assert tails[0][0].startswith("total parameters 33,170,376")  # torchvision's r3d_18 with 8 classes


@pytest.mark.parametrize("backbone", ["simple", "resnet", "vgg"])
def test_cnn_lstm_cpu_forms_compute_the_same_model(backbone):
  """The CPU forms against the same model computed in float64 by XLA's conv: the same logits in inference, and
  loss gradients as close to float64's as XLA's own float32 ones (per parameter, an error norm within 3x theirs,
  or 1e-4 of the gradient's norm). Deep nets with BatchNorm on tiny maps amplify rounding: XLA's own float32
  gradients here differ from float64 by up to ~3 % for the ResNet backbone (largest element against each leaf's
  largest, one-off)."""
  from vidjax.models.cnn_lstm import CNNLSTM

  x = jax.random.normal(jax.random.key(0), (2, 3, 32, 32, 3))
  widths, depths = {"vgg": ((16, 32, 32, 32), (2, 1, 1, 1))}.get(backbone, ((16, 32, 32, 32), (1, 1, 1, 1)))
  model = CNNLSTM(num_classes=5, backbone=backbone, batch_norm=True, activation="leaky_relu", widths=widths,
                  depths=depths)
  variables = jax.jit(model.init)(jax.random.key(1), x)

  def loss(params, variables, x):
    y, _ = model.apply({**variables, "params": params}, x, train=True, mutable=["batch_stats"])
    return (y ** 2).sum()

  # each compiled whole from a fresh function: jit's trace cache does not know the forms setting
  logits = under("cpu", jax.jit(lambda v, x: model.apply(v, x)), variables, x)
  grads = {s: under(s, jax.jit(jax.grad(loss)), variables["params"], variables, x) for s in ("cpu", "xla")}
  with jax.enable_x64(True), forms.use("xla"):
    v64, x64 = jax.tree.map(lambda a: np.asarray(a, np.float64), (variables, x))
    logits64 = np.asarray(jax.jit(lambda v, x: model.apply(v, x))(v64, x64))
    grads64 = jax.tree.map(np.asarray, jax.jit(jax.grad(loss))(v64["params"], v64, x64))  # compared in float64
  np.testing.assert_allclose(logits, logits64, rtol=0, atol=1e-5 * float(np.abs(logits64).max()))
  leaves = [jax.tree_util.tree_leaves_with_path(jax.tree.map(np.asarray, g)) for g in (grads["cpu"], grads["xla"], grads64)]
  for (path, got), (_, xla32), (_, want) in zip(*leaves, strict=True):
    err, err_xla, norm = (float(np.linalg.norm(np.ravel(a))) for a in (got - want, xla32 - want, want))
    assert err <= max(1e-4 * norm, 3 * err_xla), (jax.tree_util.keystr(path), err / norm, err_xla / norm)


def test_googlenet_cpu_forms_compute_xlas_model():
  """GoogLeNet (ceil-mode pools, 1x1 / 3x3 / 7x7 convs): the CPU forms' logits and loss gradients against XLA's own
  in float32 (float64 convs on this CPU would take minutes): within 1e-4 of the logits' scale, and per parameter
  an error norm within 1e-3 of the gradient's norm. The gradient is taken in inference mode: with batch
  statistics of two 32 x 32 images (1 x 1 maps at the end) BatchNorm amplifies float32 rounding by orders of
  magnitude, whichever form computes the convs; every form's backward pass runs either way."""
  from vidjax.models.googlenet import GoogLeNet

  x = jax.random.normal(jax.random.key(0), (2, 32, 32, 3))
  model = GoogLeNet(num_classes=5)
  variables = jax.jit(model.init)(jax.random.key(1), x)

  def loss(params):
    logits = model.apply({**variables, "params": params}, x)
    return (logits ** 2).sum(), logits

  # one compiled function per setting gives both the logits and the gradients
  out = {s: under(s, jax.jit(jax.grad(loss, has_aux=True)), variables["params"]) for s in ("cpu", "xla")}
  (grads_cpu, logits_cpu), (grads_xla, logits_xla) = out["cpu"], out["xla"]
  np.testing.assert_allclose(logits_cpu, logits_xla, rtol=0, atol=1e-4 * float(np.abs(logits_xla).max()))
  leaves = [jax.tree_util.tree_leaves_with_path(g) for g in (grads_cpu, grads_xla)]
  for (path, got), (_, want) in zip(*leaves, strict=True):
    err, norm = float(np.linalg.norm(np.ravel(got - want))), float(np.linalg.norm(np.ravel(want)))
    assert err <= 1e-3 * norm + 1e-12, (jax.tree_util.keystr(path), err / max(norm, 1e-30))
