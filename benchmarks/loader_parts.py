"""The per-clip costs behind the loader's design choices, each against the alternative it replaced.

  .venv/bin/python benchmarks/loader_parts.py

- grain's `index_shuffle` (what `MapDataset.shuffle()` calls per element) against n, the number of records;
- reading a 1.2 MB array_record record with glibc's default mmap threshold and with it raised (each in a
  fresh process, since the setting is process-wide), and from an uncompressed copy of the file;
- flipping a 16 x 112 x 112 x 3 clip with numpy's reversed-stride copy and with cv2.flip;
- resizing a 128 x 128 crop to 112 with INTER_AREA and with bilinear;
- brightness/contrast on a 16 x 112 x 112 x 3 clip through a 256-entry table (cv2.LUT) and as one affine
  pass (cv2.addWeighted);
- parsing one stored example (175 frames, ~1 MB of JPEG) with tfds's `deserialize_example_np` and with the
  loader's `records.parse_example` (three fields, blob not copied);
- decoding one stored frame (a camera-like 320 x 240 frame at short side 128, the store's JPEG quality),
  the largest part of a clip's cost (16 per clip).
Prints one JSON line per measurement (microseconds, median of 5 repeats).
"""

import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np

READ_CHILD = """
import sys, time
from array_record.python import array_record_data_source as ards
ds = ards.ArrayRecordDataSource([sys.argv[1]])
n = len(ds)
for i in range(n): ds[i]
t = time.perf_counter()
for k in range(20 * n): ds[(k * 7) % n]
print((time.perf_counter() - t) / (20 * n) * 1e6)
"""


def per_call_us(fn, calls: int) -> float:
  fn()
  times = []
  for _ in range(5):
    t = time.perf_counter()
    for _ in range(calls):
      fn()
    times.append((time.perf_counter() - t) / calls * 1e6)
  return statistics.median(times)


def main():
  from grain._src.python.experimental.index_shuffle.python import index_shuffle_module as shuffle

  for n in (48, 270, 1000, 9537):
    indices = itertools.cycle(range(n))  # the cost varies with the index: average over all of them
    us = per_call_us(lambda n=n, ix=indices: shuffle.index_shuffle(next(ix), max_index=n - 1, seed=3, rounds=4), 300)
    print(json.dumps({"part": "grain index_shuffle", "n": n, "us": round(us, 1)}))

  from array_record.python import array_record_module

  rng = np.random.default_rng(0)
  tmp = tempfile.mkdtemp(prefix="vidjax_parts_")
  paths = {}
  blobs = [rng.integers(0, 256, 1_200_000, dtype=np.uint8).tobytes() for _ in range(48)]  # incompressible, like JPEG
  for compression, options in (("zstd:3 (tfds's default)", "group_size:1"), ("none", "group_size:1,uncompressed")):
    paths[compression] = os.path.join(tmp, f"records_{len(paths)}.array_record")
    writer = array_record_module.ArrayRecordWriter(paths[compression], options)  # tfds writes "group_size:1"
    for blob in blobs:
      writer.write(blob)
    writer.close()
  heap = {"MALLOC_MMAP_THRESHOLD_": str(32 * 2**20), "MALLOC_TRIM_THRESHOLD_": str(256 * 2**20)}
  for label, env, compression in (("default", {}, "zstd:3 (tfds's default)"),
                                  ("mmap threshold 32 MB", heap, "zstd:3 (tfds's default)"),
                                  ("mmap threshold 32 MB", heap, "none")):
    out = subprocess.run([sys.executable, "-c", READ_CHILD, paths[compression]], env={**os.environ, **env},
                         check=True, capture_output=True, text=True).stdout
    print(json.dumps({"part": "read 1.2 MB record", "malloc": label, "compression": compression,
                      "us": round(float(out), 1)}))

  clip = rng.integers(0, 256, (16, 112, 112, 3), dtype=np.uint8)
  print(json.dumps({"part": "flip clip", "how": "numpy copy",
                    "us": round(per_call_us(lambda: np.ascontiguousarray(clip[:, :, ::-1]), 50), 1)}))
  print(json.dumps({"part": "flip clip", "how": "cv2.flip", "us": round(per_call_us(
      lambda: cv2.flip(clip.reshape(16 * 112, 112, 3), 1).reshape(clip.shape), 50), 1)}))

  frame = cv2.GaussianBlur(rng.integers(0, 256, (128, 171, 3), dtype=np.uint8), (0, 0), 2.0)
  crop = frame[:, 20:148]
  for name, interp in (("INTER_AREA", cv2.INTER_AREA), ("INTER_LINEAR", cv2.INTER_LINEAR)):
    us = per_call_us(lambda interp=interp: cv2.resize(crop, (112, 112), interpolation=interp), 500)
    print(json.dumps({"part": "resize 128 -> 112 frame", "how": name, "us": round(us, 1)}))

  lut = np.clip((np.arange(256, dtype=np.float32) - 120.0) * 1.1 + 120.0 + 9.0, 0, 255).astype(np.uint8)
  flat = clip.reshape(16 * 112, 112 * 3)
  for cv_threads in (1, cv2.getNumThreads()):  # OpenCV splits a LUT over its threads; loader threads fill the cores
    cv2.setNumThreads(cv_threads)
    for name, fn in (("cv2.LUT", lambda: cv2.LUT(flat, lut)),
                     ("cv2.addWeighted", lambda: cv2.addWeighted(flat, 1.1, flat, 0.0, -12.0 + 9.0))):
      print(json.dumps({"part": "brightness/contrast clip", "how": name, "opencv_threads": cv_threads,
                        "us": round(per_call_us(fn, 100), 1)}))

  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  from loader_throughput import camera_like_video

  from input_pipeline import decode, records, store

  frames = [decode.resize_short_side(f, 128) for f in camera_like_video(np.random.default_rng(0))[::10]]
  jpegs = [np.frombuffer(decode.encode_jpeg(f, store.StoreSpec().jpeg_quality), np.uint8) for f in frames]
  us = per_call_us(lambda: [decode.decode_jpeg(j) for j in jpegs], 20) / len(jpegs)
  print(json.dumps({"part": "decode one stored frame", "size": list(frames[0].shape[1::-1]),
                    "jpeg_quality": store.StoreSpec().jpeg_quality, "bytes": int(np.mean([len(j) for j in jpegs])),
                    "us": round(us, 1)}))

  features = store.example_features(("a", "b"))
  offsets = np.cumsum([0] + [6000] * 175).astype(np.int64)
  raw = features.serialize_example({
      "jpeg": rng.integers(0, 256, int(offsets[-1]), dtype=np.uint8).tobytes(), "offsets": offsets, "label": 1,
      "path": "/data/UCF101/v_Kick_g01_c01.avi", "stored_fps": 25.0, "source_fps": 25.0, "source_frames": 175,
      "width": 320, "height": 240, "duration_s": 7.0})
  for name, fn in (("tfds deserialize_example_np", lambda: features.deserialize_example_np(raw)),
                   ("records.parse_example", lambda: records.parse_example(raw, records.LOADER_FIELDS))):
    print(json.dumps({"part": "parse a stored example", "how": name, "us": round(per_call_us(fn, 200), 1)}))


if __name__ == "__main__":
  main()
