"""The GPU check: golden tests, a speed race against PyTorch, and the loader, within a time budget.

  bash benchmarks/device_check.sh --out=DIR [--budget=480] [--smoke]     # the entry point (installs carried wheels)

Stages, each in its own process with what is left of the budget (a stage cut short keeps the lines it printed):
  1. versions and the device;
  2. the golden tests (tests/vidjax/models/test_golden_torch.py: vidjax models against torchvision's logits) on the device,
     where the compute forms "auto" pick XLA's convolutions;
  3. the race (benchmarks/device_race.py): bf16 matmul peak per framework, then R(2+1)D-18, ir-CSN-152 and the
     CNN+LSTM, train and inference, float32 and bfloat16, in JAX and (when importable) PyTorch;
  4. the loader's clips/s with 16 threads from a store built there (benchmarks/loader_throughput.py).
Writes DIR/device_check.json after every stage and DIR/device_check.md (tables) at the end. Without an
accelerator, or with --smoke, every stage runs at tiny sizes on the CPU: the test suite runs that, so the
script cannot rot between the rare GPU sessions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESERVE_S = 15  # kept back for writing the results

# (model, batch, csn blocks) for a GPU; batches sized to keep an H200 busy, not tuned
GPU_RACE = (("r2plus1d_18", 64, None), ("ir_csn_152", 32, None), ("cnn_lstm", 128, None))
SMOKE_RACE = (("cnn_lstm", 2, None), ("ir_csn_152", 1, (1, 1, 1, 1)))  # R(2+1)D-18's compile alone is ~20 s on a CPU


class Budget:
  def __init__(self, seconds: float):
    self.end = time.monotonic() + seconds

  def left(self) -> float:
    return self.end - time.monotonic() - RESERVE_S


def run_stage(cmd: list[str], budget: Budget, cap: float, env: dict | None = None) -> dict:
  """Runs cmd for at most min(cap, what is left); returns its JSON lines, tail of output and how it ended."""
  timeout = min(cap, budget.left())
  if timeout < 5:
    return {"status": "skipped: time budget spent", "lines": []}
  start = time.monotonic()
  p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       env={**os.environ, **(env or {})})
  try:
    out, _ = p.communicate(timeout=timeout)
    status = "ok" if p.returncode == 0 else f"failed (exit {p.returncode})"
  except subprocess.TimeoutExpired:
    p.kill()
    out, _ = p.communicate()
    status = f"cut short after {timeout:.0f} s (time budget)"
  lines = []
  for line in out.splitlines():
    if line.startswith("{"):
      try:
        lines.append(json.loads(line))
      except json.JSONDecodeError:
        pass
  return {"status": status, "seconds": round(time.monotonic() - start, 1), "lines": lines, "tail": out[-1500:]}


def versions() -> dict:
  import importlib.metadata as md

  out = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()}
  for name in ("jax", "jaxlib", "flax", "optax", "orbax-checkpoint", "numpy", "torch", "torchvision",
               "tensorflow-datasets", "grain", "opencv-python-headless"):
    try:
      out[name] = md.version(name)
    except md.PackageNotFoundError:
      out[name] = None
  import jax

  out["backend"] = jax.default_backend()
  out["devices"] = [d.device_kind for d in jax.devices()]
  out["tensorflow_importable"] = _importable("tensorflow")
  return out


def _importable(module: str) -> bool:
  import importlib.util

  return importlib.util.find_spec(module) is not None


def race(smoke: bool, budget: Budget, results: dict, save) -> None:
  py = sys.executable
  script = os.path.join("benchmarks", "device_race.py")
  frameworks = ["jax"] + (["torch"] if _importable("torch") else [])
  results["race"] = {"frameworks": frameworks, "rows": [], "peaks": []}
  matmul = "256" if smoke else "8192"
  for fw in frameworks:
    r = run_stage([py, script, f"--framework={fw}", "--model=peak", f"--matmul={matmul}"], budget, 120)
    results["race"]["peaks"] += r["lines"]
  for model, batch, blocks in (SMOKE_RACE if smoke else GPU_RACE):
    for fw in frameworks:
      cmd = [py, script, f"--framework={fw}", f"--model={model}", f"--batch={batch}"]
      if smoke:
        cmd += ["--frames=4", "--size=32", "--reps=1"]
        if model != "cnn_lstm":  # the cheap model runs every mode and dtype; the others one each, to bound compile time
          cmd += ["--modes=infer", "--dtypes=float32"]
      if blocks:
        cmd += ["--csn-blocks", *map(str, blocks)]
      r = run_stage(cmd, budget, 240)
      results["race"]["rows"] += r["lines"]
      if r["status"] != "ok":
        results["race"].setdefault("problems", []).append({"cmd": " ".join(cmd[2:]), "status": r["status"],
                                                           "tail": r["tail"]})
      save()


def loader(smoke: bool, budget: Budget, results: dict) -> None:
  args = ["--videos=4", "--batches=2", "--repeats=1", "--threads=2", "--num_frames=4", "--frame_size=32"] if smoke \
      else ["--videos=64", "--batches=30", "--repeats=2", "--threads=16"]
  env = {"VIDJAX_CACHE_DIR": os.path.join(os.environ.get("TMPDIR", "/tmp"), "vidjax_device_check_cache")}
  r = run_stage([sys.executable, os.path.join("benchmarks", "loader_throughput.py"), *args], budget, 180, env)
  results["loader"] = {"status": r["status"], "seconds": r.get("seconds"), "lines": r["lines"]}
  if r["status"] != "ok":
    results["loader"]["tail"] = r.get("tail", "")


def golden(smoke: bool, budget: Budget, results: dict) -> None:
  cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/vidjax/models/test_golden_torch.py"]
  if smoke:
    cmd += ["-k", "resnet18"]
  # full float32 for comparing with torchvision's logits: on GPUs XLA would otherwise use TF32 for f32 convs
  r = run_stage(cmd, budget, 150, {"JAX_DEFAULT_MATMUL_PRECISION": "highest"})
  summary = [ln for ln in r.get("tail", "").splitlines() if " passed" in ln or " failed" in ln or " error" in ln]
  results["golden"] = {"status": r["status"], "seconds": r.get("seconds"), "summary": summary[-1:] or r.get("tail", "")[-500:]}


def markdown(results: dict) -> str:
  v = results["versions"]
  lines = [f"# device_check ({'smoke, CPU' if results['smoke'] else 'GPU'})", "",
           f"{', '.join(v['devices'])} ({v['backend']}); Python {v['python']}, jax {v['jax']}, flax {v['flax']}, "
           f"torch {v['torch']}; {results['date']}; total {results.get('seconds', 0):.0f} s", "",
           f"golden tests: {results.get('golden', {}).get('summary')} ({results.get('golden', {}).get('status')})", ""]
  peaks = {p["framework"]: p["bf16_matmul_flops_per_s"] for p in results.get("race", {}).get("peaks", [])}
  peak = max(peaks.values(), default=0)
  lines += ["bf16 matmul peak: " + ", ".join(f"{k} {v / 1e12:.1f} TFLOP/s" for k, v in peaks.items()), "",
            "| model | mode | dtype | batch | vidjax clips/s | PyTorch clips/s | ratio | vidjax peak MB | PyTorch peak MB "
            "| GFLOP/step | % of bf16 peak |", "|---|---|---|---|---|---|---|---|---|---|---|"]
  rows = results.get("race", {}).get("rows", [])
  keyed = {(r["framework"], r["model"], r["mode"], r["dtype"]): r for r in rows}
  for (fw, model, mode, dtype), j in keyed.items():
    if fw != "jax":
      continue
    t = keyed.get(("torch", model, mode, dtype), {})
    jc, tc = j.get("clips_per_s"), t.get("clips_per_s")
    pct = 100 * j["flops"] / j["median_s"] / peak if jc and peak and j.get("flops") else None
    lines.append(f"| {model} | {mode} | {dtype} | {j['batch']} | {_f(jc)} | {_f(tc)} | "
                 f"{_f(jc / tc if jc and tc else None, 2)} | {_f(j.get('peak_mem_mb'))} | {_f(t.get('peak_mem_mb'))} | "
                 f"{_f(j['flops'] / 1e9 if j.get('flops') else None)} | {_f(pct)} |"
                 + (f" error: {j['error']}" if "error" in j else ""))
  for line in results.get("loader", {}).get("lines", []):
    if "store_build_seconds" in line or "repeats" in line:
      lines += ["", f"loader: `{json.dumps(line)}`"]
  lines += ["", f"loader: {results.get('loader', {}).get('status')}"]
  return "\n".join(lines) + "\n"


def _f(x, digits: int = 1) -> str:
  return "-" if x is None else f"{x:,.{digits}f}"


def main() -> None:
  ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  ap.add_argument("--out", required=True)
  ap.add_argument("--budget", type=float, default=480, help="seconds for everything after the wheels' install")
  ap.add_argument("--smoke", action="store_true", help="tiny sizes on the CPU (the default without an accelerator)")
  ap.add_argument("--stages", default="golden,race,loader")
  a = ap.parse_args()
  os.makedirs(a.out, exist_ok=True)
  start, budget = time.monotonic(), Budget(a.budget)
  results = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "versions": versions(),
             "wheels_install_s": float(os.environ.get("VIDJAX_WHEELS_INSTALL_S", "nan"))}
  results["smoke"] = a.smoke or results["versions"]["backend"] == "cpu"
  path = os.path.join(a.out, "device_check.json")

  def save() -> None:
    results["seconds"] = time.monotonic() - start
    with open(path + ".tmp", "w") as f:
      json.dump(results, f, indent=1)
    os.replace(path + ".tmp", path)

  save()
  stages = {"golden": lambda: golden(results["smoke"], budget, results),
            "race": lambda: race(results["smoke"], budget, results, save),
            "loader": lambda: loader(results["smoke"], budget, results)}
  for name in a.stages.split(","):
    print(f"device_check: {name} ({budget.left():.0f} s left)", flush=True)
    stages[name]()
    save()
  with open(os.path.join(a.out, "device_check.md"), "w") as f:
    f.write(markdown(results))
  print(markdown(results))


if __name__ == "__main__":
  main()
