"""Stylise a video.

    python -m vidjax.style --content=clip.mp4 --style=starry_night.jpg --out=out.mp4           # Gatys (VGG-19)
    python -m vidjax.style --method=cyclegan --generator=weights/cyclegan/ukiyoe --content=clip.mp4 --out=out.mp4

Writes H.264 MP4 (or .webm) at the source's fps and frame count, at the working size (--size, short side), and
prints the warping error of the output and of the input (its floor).
"""

from __future__ import annotations

import argparse
import json
import sys

from tqdm import tqdm

from vidjax import host_memory
from vidjax.style.gatys import GatysSettings
from vidjax.style.transfer import DEFAULT_SIZE, METHODS, StyleJob, stylise_video


def parse(argv: list[str] | None) -> tuple[StyleJob, str]:
  d, g = StyleJob("", ""), GatysSettings()
  ap = argparse.ArgumentParser(prog="python -m vidjax.style", description=__doc__.split("\n\n")[0],
                               formatter_class=argparse.ArgumentDefaultsHelpFormatter)
  ap.add_argument("--content", required=True, help="the video to stylise")
  ap.add_argument("--out", required=True, help="output video (.mp4: H.264, or .webm: VP9)")
  ap.add_argument("--method", choices=METHODS, default=d.method)
  ap.add_argument("--style", default="", help="gatys: the style image (PNG/JPEG)")
  ap.add_argument("--vgg", default=d.vgg, help="gatys: converted VGG-19 weights")
  ap.add_argument("--generator", default="", help="cyclegan: converted generator weights")
  ap.add_argument("--size", type=int, default=0,
                  help=f"short side of the working frames; 0: {DEFAULT_SIZE}, or the source's if smaller")
  ap.add_argument("--strength", type=float, default=d.strength, help="blend: 1 = fully stylised, 0 = the source")
  ap.add_argument("--no_temporal", action="store_true",
                  help="gatys: optimise every frame from itself, not from the previous result warped by optical flow")
  ap.add_argument("--steps", type=int, default=g.steps, help="gatys: Adam steps of the first frame")
  ap.add_argument("--steps_next", type=int, default=g.steps_next, help="gatys: steps of frames started from their "
                  "warped predecessor")
  ap.add_argument("--learning_rate", type=float, default=g.learning_rate, help="gatys: Adam's, on pixels in [0, 1]")
  ap.add_argument("--content_weight", type=float, default=g.content_weight)
  ap.add_argument("--style_weight", type=float, default=g.style_weight)
  ap.add_argument("--tv_weight", type=float, default=g.tv_weight)
  ap.add_argument("--pool", choices=("avg", "max"), default=g.pool, help="gatys: VGG's pooling")
  ap.add_argument("--batch_size", type=int, default=d.batch_size, help="cyclegan: frames per compiled call")
  ap.add_argument("--json", default="", help="also write the report to this file")
  a = ap.parse_args(argv)
  for name in ("steps", "steps_next", "batch_size"):
    if getattr(a, name) < 1:
      ap.error(f"--{name} must be at least 1")
  if a.size < 0:
    ap.error("--size must be >= 0")
  settings = GatysSettings(steps=a.steps, steps_next=a.steps_next, learning_rate=a.learning_rate,
                           content_weight=a.content_weight, style_weight=a.style_weight, tv_weight=a.tv_weight,
                           pool=a.pool)
  job = StyleJob(content=a.content, out=a.out, method=a.method, style=a.style, vgg=a.vgg, generator=a.generator,
                 size=a.size, strength=a.strength, temporal=not a.no_temporal, gatys=settings, batch_size=a.batch_size)
  return job, a.json


def main(argv: list[str] | None = None) -> None:
  job, json_path = parse(argv)
  host_memory.keep_freed_memory()  # before JAX's CPU backend starts
  bar = tqdm(unit="frame", desc=job.method, dynamic_ncols=True)

  def progress(done: int, total: int) -> None:
    bar.total = total
    bar.update(done - bar.n)

  try:
    report = stylise_video(job, progress)
  except (ValueError, FileNotFoundError) as e:
    bar.close()
    sys.exit(f"vidjax.style: {' '.join(str(e).split())}")
  bar.close()
  print(f"Wrote {report['out']}: {report['frames']} frames at {report['fps']:.3f} fps, {report['width']}x"
        f"{report['height']}, in {report['seconds']:.1f} s ({report['seconds_per_frame']:.2f} s/frame).\n"
        f"Warping error (Lai et al. 2018, lower is steadier): output {report['warping_error']:.5f}, "
        f"input {report['warping_error_input']:.5f}.", flush=True)
  if json_path:
    with open(json_path, "w") as f:
      json.dump(report, f, indent=1)


if __name__ == "__main__":
  main()
