"""Videos per second of `--mode=predict` (decode + clips x crops + jit-compiled batches), against the same path
one video per call (batch 1, as per-video demo scripts run), in one run on the same files.

  .venv/bin/python main.py --config=configs/csn.py --workdir=runs/csn            # a trained run (README)
  .venv/bin/python benchmarks/predict_throughput.py --workdir=runs/csn \
    --videos="$HOME/.cache/vidjax/synthetic_motion" --limit=200

Each side loads the run once (vidjax.predict.Predictor) and runs `repeats` times after one warm-up
(compilation) pass over the same videos; medians are printed as JSON lines. Decoding is included.
"""

import json
import os
import statistics
import sys
import time

from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "A trained run.")
flags.DEFINE_string("videos", None, "A folder of videos (searched recursively).")
flags.DEFINE_integer("limit", 200, "Use at most this many videos (sorted).")
flags.DEFINE_integer("repeats", 3, "Timed repeats per side.")
flags.DEFINE_list("batch_sizes", ["32", "1"], "eval_batch_size values to compare (the first is the pipeline).")
flags.mark_flags_as_required(["workdir", "videos"])


def main(argv):
  del argv
  from vidjax import config as config_lib
  from vidjax import predict

  videos = predict.find_videos(FLAGS.videos)[:FLAGS.limit]
  results = {}
  for bs in (int(b) for b in FLAGS.batch_sizes):
    config = config_lib.read_run_config(FLAGS.workdir)
    config.eval_batch_size = bs
    predictor = predict.Predictor(config, FLAGS.workdir)
    times = []
    for r in range(FLAGS.repeats + 1):
      start = time.perf_counter()
      scored, _ = predictor(videos)
      assert len(scored) == len(videos)
      if r:  # the first pass compiles
        times.append(time.perf_counter() - start)
    results[bs] = len(videos) / statistics.median(times)
  first = results[int(FLAGS.batch_sizes[0])]
  for bs, rate in results.items():
    print(json.dumps({"eval_batch_size": bs, "videos": len(videos), "videos_per_s": round(rate, 1),
                      "ratio_vs_first": round(rate / first, 3)}), flush=True)


if __name__ == "__main__":
  app.run(main)
