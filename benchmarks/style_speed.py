"""Style transfer, timed on a 5-second 240p clip: Gatys (seconds per frame, the whole clip in minutes) and
CycleGAN (frames per second), each at its defaults (vidjax/style/transfer.py), through the same `stylise_video`
the command line and the web page call.

  .venv/bin/python benchmarks/style_speed.py --workdir=/tmp/style_speed

The clip (320 x 240, 25 fps, 125 frames: a panning texture and a moving disc) is written with OpenCV; the weights
are random (tests/golden_weights.py), which costs what real ones cost. Totals include decoding, optical flow,
compilation and writing (not the warping errors, computed after); "steady" excludes the first frame (Gatys) or
the first batch (CycleGAN). Prints one markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cpu_model() -> str:
  try:
    with open("/proc/cpuinfo") as f:
      name = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
  except (OSError, StopIteration):
    name = platform.processor() or "unknown CPU"
  return f"{name}, {os.cpu_count()} cores"


def write_clip(path: str, frames: int = 125, fps: float = 25.0) -> str:
  import cv2
  import numpy as np

  rng = np.random.default_rng(0)
  texture = cv2.resize(rng.uniform(0, 255, (60, 180, 3)).astype(np.uint8), (720, 240), interpolation=cv2.INTER_CUBIC)
  writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), fps, (320, 240))
  for t in range(frames):
    frame = texture[:, 3 * t: 3 * t + 320].copy()
    cv2.circle(frame, (40 + 2 * t, 120), 30, (40, 40, 220), -1)
    writer.write(frame)
  writer.release()
  return path


def main() -> None:
  ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  ap.add_argument("--workdir", default="/tmp/style_speed")
  ap.add_argument("--methods", default="gatys,cyclegan")
  a = ap.parse_args()
  import cv2
  import numpy as np

  from tests.helpers.golden_weights import save_random_style_weights
  from vidjax.style.transfer import StyleJob, stylise_video

  os.makedirs(a.workdir, exist_ok=True)
  w = {k: os.path.join(a.workdir, k) for k in ("vgg19", "cyclegan")}
  if not all(os.path.isdir(p) for p in w.values()):
    w = save_random_style_weights(a.workdir)
  clip = write_clip(os.path.join(a.workdir, "clip 240p.avi"))
  style = os.path.join(a.workdir, "style.png")
  cv2.imwrite(style, cv2.resize(np.random.default_rng(1).integers(0, 255, (16, 16, 3), dtype=np.uint8), (256, 256),
                                interpolation=cv2.INTER_NEAREST))
  rows = []
  for method in a.methods.split(","):
    stamps: list[tuple[int, float]] = []  # (frames done, time): per frame (Gatys) or per batch (CycleGAN)
    job = StyleJob(content=clip, out=os.path.join(a.workdir, f"{method}.mp4"), method=method, style=style,
                   vgg=w["vgg19"], generator=w["cyclegan"])
    report = stylise_video(job, lambda done, total, s=stamps: s.append((done, time.perf_counter())))
    (done0, t0), (done1, t1) = stamps[0], stamps[-1]  # after the first frame / batch: compilation excluded
    steady = (t1 - t0) / (done1 - done0)
    rows.append((method, report, steady))
    print(f"{method}: {report['seconds']:.1f} s for {report['frames']} frames", flush=True)
  print(f"\nMachine: {cpu_model()}\n")
  print("| method | working size | frames | total (decode, flow, compile, write) | per frame, steady | frames/s, steady |"
        " warping error out / in |")
  print("|---|---|---|---|---|---|---|")
  for method, r, steady in rows:
    detail = f" ({r['steps']} steps, then {r['steps_next']})" if method == "gatys" else ""
    print(f"| {method}{detail} | {r['width']}x{r['height']} | {r['frames']} | {r['seconds']:.1f} s "
          f"({r['seconds'] / 60:.1f} min) | {steady:.2f} s | {1 / steady:.2f} | {r['warping_error']:.4f} / "
          f"{r['warping_error_input']:.4f} |")


if __name__ == "__main__":
  main()
