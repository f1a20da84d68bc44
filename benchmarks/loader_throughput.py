"""Clips/s from the input pipeline vs decoding each video with OpenCV on every access (the studies' recipe).

  .venv/bin/python benchmarks/loader_throughput.py            # writes UCF101-sized videos to a temp dir first
  .venv/bin/python benchmarks/loader_throughput.py --videos=48 --repeats=5 --threads=1,4

Both sides read the same files and return the same clip shape (16 x 112 x 112 x 3 by default):
- pipeline: the store (built once, not timed; short side 128, JPEG per frame) -> grain loader with training
  augmentation (segment sampling, random resized crop, colour jitter) -> batches of 16;
- peer: cv2.VideoCapture, read every frame, keep 16 evenly spaced ones, centre crop, resize.
Videos are 320x240, 25 fps, 150-200 frames, XVID -- the shape of UCF101 clips (mean ~7 s) -- with
camera-like content (a panning textured scene, moving objects, sensor noise), because decode cost depends on
content: flat synthetic frames compress to almost nothing and decode far faster than real footage.
Prints one JSON line per measurement and a summary line with medians and ratios, both per wall-clock second
and per CPU-second (getrusage over all threads), since the two sides use different numbers of cores. Each
repeat times every pipeline setting and then the peer; a ratio is taken within a repeat (same machine
conditions on both sides) and the median over repeats is reported.
"""

import gc
import json
import os
import resource
import statistics
import sys
import tempfile
import time

import cv2
import numpy as np
from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FLAGS = flags.FLAGS
flags.DEFINE_integer("videos", 48, "Number of videos written and read.")
flags.DEFINE_integer("batches", 30, "Batches of 16 per timed pipeline repeat.")
flags.DEFINE_integer("repeats", 5, "Timed repeats of each measurement.")
flags.DEFINE_list("threads", ["1", "2", "4"], "Loader thread counts to measure.")
flags.DEFINE_integer("num_frames", 16, "Frames per clip.")
flags.DEFINE_integer("frame_size", 112, "Clip height and width.")


def cpu_seconds() -> float:
  """User + system time of every thread of this process (FFmpeg's and the loader's included)."""
  r = resource.getrusage(resource.RUSAGE_SELF)
  return r.ru_utime + r.ru_stime


def settle() -> None:
  """Waits until the last loader's threads have finished their in-flight batches (they run on for ~0.1 s
  after the iterator is dropped), so that no measurement shares the CPU with the one before."""
  gc.collect()
  while True:
    c = cpu_seconds()
    time.sleep(0.1)
    if cpu_seconds() - c < 0.005:
      return


def camera_like_video(rng: np.random.Generator, w: int = 320, h: int = 240) -> np.ndarray:
  """A slow pan over a textured scene, two moving blocks and per-frame sensor noise (BGR)."""
  n = int(rng.integers(150, 201))
  scene = cv2.GaussianBlur(rng.integers(0, 256, (h + 64, w + 200, 3), dtype=np.uint8), (0, 0), 2.0)
  scene = cv2.addWeighted(scene, 1.0, cv2.GaussianBlur(scene, (0, 0), 12.0), 0.0, 0)
  frames = np.empty((n, h, w, 3), np.uint8)
  for i in range(n):
    x = int(i * 200 / n)
    f = scene[32:32 + h, x:x + w].copy()
    for k in range(2):
      cx = int((0.2 + 0.6 * ((i / n + k * 0.5) % 1.0)) * w)
      f[60 + 80 * k:100 + 80 * k, cx - 20:cx + 20] = (40 + 150 * k, 200 - 100 * k, 90)
    noise = rng.normal(0, 4, f.shape).astype(np.int16)
    frames[i] = np.clip(f.astype(np.int16) + noise, 0, 255).astype(np.uint8)
  return frames


def peer_clip(path: str, num_frames: int, size: int) -> np.ndarray:
  from input_pipeline import augment, sampling

  cap = cv2.VideoCapture(path)
  frames = []
  while True:
    ok, f = cap.read()
    if not ok:
      break
    frames.append(f)
  cap.release()
  picked = [cv2.cvtColor(frames[i], cv2.COLOR_BGR2RGB) for i in sampling.uniform(len(frames), num_frames)]
  return augment.crop_resize(picked, augment.center_crop_box(*picked[0].shape[:2]), size)


def main(argv):
  del argv
  from input_pipeline import loader, store
  from input_pipeline.sources import synthetic_motion as sm
  from input_pipeline.sources.listing import VideoListing, VideoRecord

  tmp = tempfile.mkdtemp(prefix="vidjax_bench_")
  root = os.path.join(tmp, "videos")
  os.makedirs(root)
  t = time.perf_counter()
  paths = []
  for i in range(FLAGS.videos):
    paths.append(os.path.join(root, f"v_{i:03d}.avi"))
    sm.write_video(paths[-1], camera_like_video(np.random.default_rng(i)), 25.0)
  print(json.dumps({"wrote_videos": len(paths), "seconds": round(time.perf_counter() - t, 1)}))
  listing = VideoListing("bench", root, ("x",), {"train": tuple(VideoRecord(p, 0) for p in paths)})
  t = time.perf_counter()
  data = store.open_store(listing, store.StoreSpec(short_side=128, min_frames=FLAGS.num_frames), os.path.join(tmp, "store"))
  print(json.dumps({"store_build_seconds": round(time.perf_counter() - t, 1),
                    "store_mb": round(sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(data.path)
                                          for f in fs) / 2**20, 1),
                    "videos_mb": round(sum(os.path.getsize(p) for p in paths) / 2**20, 1)}))
  clip = loader.ClipSpec(num_frames=FLAGS.num_frames, frame_size=FLAGS.frame_size, channels=3,
                         train_sampling="segment", crop_scale=(0.4, 1.0), flip=True, brightness=0.1, contrast=0.1)
  # Each repeat measures every pipeline setting and then the peer, so that both sides of a ratio see the
  # same machine conditions; ratios are taken within a repeat and their median is reported.
  rates: dict[str, list[float]] = {}
  cpu_rates: dict[str, list[float]] = {}
  for r in range(FLAGS.repeats):
    for threads in map(int, FLAGS.threads):
      it = loader.train_batches(data.sources["train"], clip, seed=r, global_batch=16, threads=threads)
      next(it)
      t, c = time.perf_counter(), cpu_seconds()
      for _ in range(FLAGS.batches):
        next(it)
      rate, cpu_rate = FLAGS.batches * 16 / (time.perf_counter() - t), FLAGS.batches * 16 / (cpu_seconds() - c)
      rates.setdefault(f"pipeline_{threads}_threads", []).append(rate)
      cpu_rates.setdefault(f"pipeline_{threads}_threads", []).append(cpu_rate)
      print(json.dumps({"side": "pipeline", "threads": threads, "repeat": r, "clips_per_s": round(rate, 1),
                        "clips_per_cpu_s": round(cpu_rate, 1)}))
      del it
      settle()
    order = np.random.default_rng(r).permutation(len(paths))[:24]
    t, c = time.perf_counter(), cpu_seconds()
    for i in order:
      peer_clip(paths[i], FLAGS.num_frames, FLAGS.frame_size)
    rate, cpu_rate = len(order) / (time.perf_counter() - t), len(order) / (cpu_seconds() - c)
    rates.setdefault("cv2_per_access", []).append(rate)
    cpu_rates.setdefault("cv2_per_access", []).append(cpu_rate)
    print(json.dumps({"side": "cv2_per_access", "repeat": r, "clips_per_s": round(rate, 1),
                      "clips_per_cpu_s": round(cpu_rate, 1)}))
  median = statistics.median
  summary = {k: round(median(v), 1) for k, v in rates.items()}
  for k in rates:
    if k.startswith("pipeline"):
      summary[f"ratio_{k}_vs_cv2"] = round(median(a / b for a, b in zip(rates[k], rates["cv2_per_access"], strict=True)), 1)
      summary[f"per_cpu_second_ratio_{k}_vs_cv2"] = round(
          median(a / b for a, b in zip(cpu_rates[k], cpu_rates["cv2_per_access"], strict=True)), 1)
  summary["clips_per_cpu_second"] = {k: round(median(v), 1) for k, v in cpu_rates.items()}
  summary["repeats"] = FLAGS.repeats
  summary["cpu_count"] = os.cpu_count()
  print(json.dumps(summary))


if __name__ == "__main__":
  app.run(main)
