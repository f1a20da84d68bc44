"""The GPU check cannot rot: its smoke mode (tiny sizes, CPU) runs every stage here, and its wheel bundle fits."""

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import REPO_ROOT

ROOT = str(REPO_ROOT)


@pytest.mark.slow
def test_device_check_smoke_runs_every_stage(tmp_path):
  env = {**os.environ, "PYTHON": sys.executable, "VIDJAX_SKIP_WHEELS": "1"}  # the carried wheels are for the GPU image
  env.pop("XLA_FLAGS", None)
  p = subprocess.run(["bash", "benchmarks/device_check.sh", f"--out={tmp_path}", "--smoke", "--budget=300"], cwd=ROOT,
                     capture_output=True, text=True, timeout=420, env=env)
  assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
  results = json.loads((tmp_path / "device_check.json").read_text())
  assert results["smoke"] and results["versions"]["jax"]
  assert results["golden"]["status"] == "ok" and "passed" in results["golden"]["summary"][0]
  rows = {(r["framework"], r["model"], r["mode"], r["dtype"]): r for r in results["race"]["rows"]}
  want = [("jax", "cnn_lstm", m, d) for m in ("train", "infer") for d in ("float32", "bfloat16")]
  want += [("jax", "ir_csn_152", "infer", "float32")]
  for key in want:
    assert key in rows and "error" not in rows[key] and rows[key]["clips_per_s"] > 0, (key, rows.get(key))
  # the figures the table divides by are the models' own: parameters as vidjax counts them, weights resident in the
  # peak, a train step costing more than the forward alone, on the backend the check names
  from configs.cnn_lstm_bn_leaky import get_config
  from vidjax.models import build_model
  from vidjax.summary import summarize

  model = build_model(get_config().model, 101, "float32")  # the race's class count
  expect = summarize(model, (1, 4, 32, 32, 3))
  for key in want[:4]:
    assert rows[key]["params"] == expect["parameters"], (key, rows[key]["params"], expect["parameters"])
  infer, train = rows[("jax", "cnn_lstm", "infer", "float32")], rows[("jax", "cnn_lstm", "train", "float32")]
  assert infer["peak_mem_mb"] >= 4 * expect["parameters"] / 2**20
  assert train["flops"] > infer["flops"] > 0, (train["flops"], infer["flops"])
  assert [p["backend"] for p in results["race"]["peaks"] if p["framework"] == "jax"] == ["cpu"]
  assert results["loader"]["status"] == "ok"
  assert any("store_build_seconds" in line for line in results["loader"]["lines"])
  table = (tmp_path / "device_check.md").read_text()
  assert "| cnn_lstm | train | bfloat16 |" in table


def test_a_stage_past_the_budget_is_cut_and_the_results_kept(tmp_path):
  sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
  import device_check

  budget = device_check.Budget(device_check.RESERVE_S + 6)
  r = device_check.run_stage([sys.executable, "-c", "import time; print('{\"a\": 1}', flush=True); time.sleep(60)"],
                             budget, 60)
  assert r["status"].startswith("cut short") and r["lines"] == [{"a": 1}]
  assert device_check.run_stage([sys.executable, "-c", "pass"], budget, 60)["status"].startswith("skipped")


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("VIDJAX_NETWORK_TESTS") != "1",
                    reason="downloads from the package registry: opt in with VIDJAX_NETWORK_TESTS=1")
def test_the_wheel_bundle_for_the_gpu_image_fits(tmp_path):
  """Downloads (from the package registry) what the GPU image lacks; the script itself refuses over 64 MiB."""
  p = subprocess.run([sys.executable, "benchmarks/device_wheels.py", f"--dest={tmp_path / 'whl'}"], cwd=ROOT,
                     capture_output=True, text=True, timeout=600)
  assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
  wheels = os.listdir(tmp_path / "whl")
  names = {w.split("-")[0].lower() for w in wheels}
  assert {"tensorflow_datasets", "grain", "clu", "ml_collections", "array_record"} <= names
  assert not any(w.startswith(("jax", "torch", "flax", "tensorflow-")) for w in wheels)
  assert sum(os.path.getsize(tmp_path / "whl" / w) for w in wheels) < 64 * 2**20
