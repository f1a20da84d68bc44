"""Clips/s delivered by the input pipeline vs decoding each video with OpenCV on every access.

  .venv/bin/python benchmarks/loader_throughput.py [--config=configs/csn.py] [--batches=60] [--repeats=3]

Both sides read the same videos (the config's train split) and produce the same clips (num_frames evenly
spread, short-side square resized to frame_size, config channels). The peer is the studies' recipe:
cv2.VideoCapture, read every frame, keep the sampled ones, resize. Prints one JSON line per repeat and the
medians; BENCHMARKS.md records a run.
"""

import json
import statistics
import sys
import time

import cv2
import numpy as np
from absl import app, flags
from ml_collections import config_flags

sys.path.insert(0, ".")

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", "configs/csn.py", "Config whose dataset/input settings are used.")
flags.DEFINE_integer("batches", 60, "Batches per timed repeat for the pipeline.")
flags.DEFINE_integer("videos", 120, "Videos per timed repeat for the OpenCV peer.")
flags.DEFINE_integer("repeats", 3, "Timed repeats of each side.")


def _cv2_clip(path: str, num_frames: int, size: int, channels: int) -> np.ndarray:
  from input_pipeline import augment, sampling

  cap = cv2.VideoCapture(path)
  frames = []
  while True:
    ok, f = cap.read()
    if not ok:
      break
    frames.append(f)
  cap.release()
  idx = sampling.uniform(len(frames), num_frames)
  picked = [cv2.cvtColor(frames[i], cv2.COLOR_BGR2RGB) for i in idx]
  clip = augment.crop_resize(picked, augment.center_crop_box(*picked[0].shape[:2]), size)
  return augment.to_channels(clip, channels)


def main(argv):
  del argv
  import input_pipeline
  from input_pipeline import loader
  from input_pipeline.sources import list_videos

  c = FLAGS.config
  data = input_pipeline.open_dataset(c, splits=("train",))
  listing = list_videos(c.dataset)
  paths = [r.path for r in listing.splits["train"]]
  spec = input_pipeline.clip_spec(c)
  bs = c.train.batch_size
  ours, peer = [], []
  for r in range(FLAGS.repeats):
    it = loader.train_batches(data.sources["train"], spec, seed=r, global_batch=bs, threads=c.input.loader_threads)
    next(it)  # start the threads
    t = time.perf_counter()
    for _ in range(FLAGS.batches):
      next(it)
    ours.append(FLAGS.batches * bs / (time.perf_counter() - t))
    order = np.random.default_rng(r).permutation(len(paths))[:FLAGS.videos]
    t = time.perf_counter()
    for i in order:
      _cv2_clip(paths[i], c.input.num_frames, c.input.frame_size, c.input.channels)
    peer.append(FLAGS.videos / (time.perf_counter() - t))
    print(json.dumps({"repeat": r, "pipeline_clips_per_s": round(ours[-1], 1), "cv2_clips_per_s": round(peer[-1], 1)}))
  m_ours, m_peer = statistics.median(ours), statistics.median(peer)
  print(json.dumps({"median_pipeline_clips_per_s": round(m_ours, 1), "median_cv2_clips_per_s": round(m_peer, 1),
                    "ratio": round(m_ours / m_peer, 2), "clip": [c.input.num_frames, c.input.frame_size,
                                                                 c.input.frame_size, c.input.channels],
                    "threads": c.input.loader_threads, "batch": bs}))


if __name__ == "__main__":
  app.run(main)
