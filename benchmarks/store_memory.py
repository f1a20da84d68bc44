"""Peak memory of storing one long high-resolution video (what `encode_example`, one store worker, holds).

  .venv/bin/python benchmarks/store_memory.py                       # this tree, a 5-minute 1080p video
  .venv/bin/python benchmarks/store_memory.py --tree=/tmp/old --minutes=0.5 --limit_gb=16

Writes the video once (1920x1080, 25 fps, XVID, a textured scene panning with noise, cached in --cache),
then runs `input_pipeline.store.encode_example` with the default StoreSpec (short side 128, source fps, JPEG
90) in a fresh child process whose imports come from --tree (a checkout of any commit, to measure before and
after a change), under an address-space limit of --limit_gb so a decoder that holds the whole video fails
instead of taking the machine down. Prints one JSON line: the child's peak RSS (from wait4), its RSS after
imports, seconds, frames stored, or the error it died with.
"""

import json
import os
import subprocess
import sys
import time

import cv2
import numpy as np
from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_float("minutes", 5.0, "Length of the video.")
flags.DEFINE_string("tree", os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Source tree to import.")
flags.DEFINE_float("limit_gb", 16.0, "Address-space limit of the child (RLIMIT_AS).")
flags.DEFINE_string("cache", "/tmp/vidjax_store_memory", "Where the generated video is kept between runs.")

_CHILD = """
import json, resource, sys, time
limit = int(float(sys.argv[3]) * 2**30)
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
sys.path.insert(0, sys.argv[1])
from input_pipeline import store
after_imports = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
start = time.perf_counter()
try:
  path, example, why = store.encode_example((sys.argv[2], 0, store.StoreSpec()))
  result = {"stored_frames": len(example["offsets"]) - 1 if example else 0, "skipped": why or None,
            "stored_mb": round(len(example["jpeg"]) / 2**20, 1) if example else 0}
except BaseException as e:
  result = {"error": f"{type(e).__name__}: {str(e)[:200]}"}
result.update(rss_after_imports_mb=after_imports, seconds=round(time.perf_counter() - start, 1))
print(json.dumps(result), flush=True)
"""


def writer_ok(path: str) -> bool:
  return os.path.exists(path) and os.path.getsize(path) > 0


def write_video(path: str, minutes: float, fps: float = 25.0) -> None:
  """A 1080p scene panning across a textured background, with per-frame noise (cheap to write, real to decode)."""
  rng = np.random.default_rng(0)
  scene = cv2.resize(rng.integers(0, 255, (270, 960 + 480, 3), np.uint8), (2 * (1920 + 960), 1080),
                     interpolation=cv2.INTER_LINEAR)
  partial = path[:-4] + ".part.avi"  # the writer picks the container from the extension
  writer = cv2.VideoWriter(partial, cv2.VideoWriter_fourcc(*"XVID"), fps, (1920, 1080))
  for i in range(int(minutes * 60 * fps)):
    x = (4 * i) % (scene.shape[1] - 1920)
    frame = scene[:, x:x + 1920].copy()
    frame[::7, ::5] ^= np.uint8(rng.integers(0, 16))
    writer.write(frame)
  writer.release()
  if not writer_ok(partial):
    raise RuntimeError(f"OpenCV could not write {partial} with XVID")
  os.replace(partial, path)


def main(argv):
  del argv
  os.makedirs(FLAGS.cache, exist_ok=True)
  video = os.path.join(FLAGS.cache, f"1080p_{FLAGS.minutes:g}min.avi")
  if not os.path.exists(video):
    start = time.perf_counter()
    write_video(video, FLAGS.minutes)
    print(f"wrote {video} ({os.path.getsize(video) / 1e6:.0f} MB) in {time.perf_counter() - start:.0f} s", file=sys.stderr)
  p = subprocess.Popen([sys.executable, "-c", _CHILD, FLAGS.tree, video, str(FLAGS.limit_gb)], stdout=subprocess.PIPE,
                       text=True)
  _, status, usage = os.wait4(p.pid, 0)
  out = p.stdout.read().strip()
  result = json.loads(out) if out else {"error": f"child died (wait status {status})"}
  result.update(tree=FLAGS.tree, video_minutes=FLAGS.minutes, peak_rss_mb=usage.ru_maxrss // 1024,
                limit_gb=FLAGS.limit_gb)
  print(json.dumps(result))


if __name__ == "__main__":
  app.run(main)
