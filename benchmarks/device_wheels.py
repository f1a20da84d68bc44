"""Downloads exactly the wheels the GPU machine lacks into .whl/ (carried there by `device_check.sh`'s caller).

  .venv/bin/python benchmarks/device_wheels.py            # then: run(carry=[".whl"], command="bash benchmarks/device_check.sh")
  .venv/bin/python benchmarks/device_wheels.py --list     # only print what would be fetched

What is missing = the runtime closure of requirements.txt (walked through this venv's installed metadata, so the
versions are the pinned ones, with dependency markers evaluated for Python 3.12) minus the packages of the GPU
image (gpu_image_packages.txt), and less what the GPU check never imports (NOT_ON_DEVICE: the web page and the
stylised-video writer, whose ffmpeg binary alone is ~30 MB). Each is fetched as a CPython 3.12 manylinux
wheel; a package published only as a source archive is built here into a wheel and accepted only if that wheel
is pure Python. Fails if the bundle is over the 64 MiB that may travel with the working tree.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import os
import re
import shutil
import subprocess
import sys
import tempfile

from packaging.requirements import Requirement

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LIMIT = 64 * 2**20
NOT_ON_DEVICE = {"imageio-ffmpeg", "flask", "waitress"}  # vidjax.web and vidjax.video_writer: not in the GPU check
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_24_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64", "manylinux1_x86_64"]
TARGET = {"python_version": "3.12", "python_full_version": "3.12.3", "sys_platform": "linux",
          "platform_system": "Linux", "platform_machine": "x86_64", "implementation_name": "cpython",
          "platform_python_implementation": "CPython", "os_name": "posix", "extra": ""}


def norm(name: str) -> str:
  return re.sub(r"[-_.]+", "-", name).lower()


def image_packages() -> set[str]:
  with open(os.path.join(HERE, "gpu_image_packages.txt")) as f:
    return {norm(line.strip()) for line in f if line.strip() and not line.startswith("#")}


def runtime_closure(requirements: str) -> dict[str, str]:
  """{name: installed version} for requirements.txt and everything it needs on Python 3.12 (no extras)."""
  with open(requirements) as f:
    stack = [Requirement(line.split("#")[0].strip()).name for line in f if line.split("#")[0].strip()]
  stack = [name for name in stack if norm(name) not in NOT_ON_DEVICE]
  found: dict[str, str] = {}
  while stack:
    name = norm(stack.pop())
    if name in found:
      continue
    try:
      dist = md.distribution(name)
    except md.PackageNotFoundError:
      raise SystemExit(f"device_wheels: {name} is not installed in this venv; run `bash scripts/setup.sh` first") from None
    found[name] = dist.version
    for spec in dist.requires or []:
      req = Requirement(spec)
      if req.marker is None or req.marker.evaluate(TARGET):
        stack.append(req.name)
  return found


def fetch(name: str, version: str, dest: str) -> str:
  """One wheel for CPython 3.12 on x86-64 Linux; a pure-Python wheel built here when only a source archive exists."""
  before = set(os.listdir(dest))
  cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "--python-version",
         "3.12", "--implementation", "cp", *[f"--platform={p}" for p in PLATFORMS], "-d", dest, f"{name}=={version}"]
  if subprocess.run(cmd, capture_output=True, text=True).returncode != 0:
    with tempfile.TemporaryDirectory() as tmp:
      built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", tmp,
                              f"{name}=={version}"], capture_output=True, text=True)
      wheels = os.listdir(tmp) if built.returncode == 0 else []
      if not wheels or not wheels[0].endswith("-none-any.whl"):
        raise SystemExit(f"device_wheels: no CPython 3.12 manylinux wheel of {name}=={version}, and it does not "
                         f"build as pure Python ({built.stderr.strip()[-300:]})")
      shutil.move(os.path.join(tmp, wheels[0]), dest)
  new = set(os.listdir(dest)) - before
  return new.pop() if new else next(f for f in os.listdir(dest) if norm(f.split("-")[0]) == name)


def main() -> None:
  ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  ap.add_argument("--dest", default=os.path.join(ROOT, ".whl"))
  ap.add_argument("--list", action="store_true", help="print the missing packages and stop")
  a = ap.parse_args()
  missing = {n: v for n, v in sorted(runtime_closure(os.path.join(ROOT, "requirements.txt")).items())
             if n not in image_packages()}
  print("missing on the GPU image:", ", ".join(f"{n}=={v}" for n, v in missing.items()))
  if a.list:
    return
  shutil.rmtree(a.dest, ignore_errors=True)  # one version of each: two would stop the install there
  os.makedirs(a.dest)
  for name, version in missing.items():
    fetch(name, version, a.dest)
  total = sum(os.path.getsize(os.path.join(a.dest, f)) for f in os.listdir(a.dest))
  print(f"{len(os.listdir(a.dest))} wheels, {total / 2**20:.1f} MiB in {a.dest}")
  if total > LIMIT:
    raise SystemExit(f"device_wheels: {total / 2**20:.1f} MiB is over the 64 MiB that may travel")


if __name__ == "__main__":
  main()
