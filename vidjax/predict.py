"""`--mode=predict`: top-5 classes for video files, from a trained workdir alone (no dataset, no store).

Each video goes through the store's own decode path (frames resized to the run's short side, JPEG-encoded as
stored) and the evaluation's clips x crops, so a video scores exactly as it would inside an evaluation.
Videos are decoded by a thread pool and scored in jit-compiled batches of config.eval_batch_size.
"""

from __future__ import annotations

import concurrent.futures
import os
import time
from collections.abc import Iterator

import jax
import ml_collections
import numpy as np
from absl import logging

import input_pipeline
from input_pipeline import clips, store
from vidjax import evaluate, metrics
from vidjax import run as run_lib
from vidjax.reports import eval_files

VIDEO_EXTENSIONS = (".avi", ".mp4", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp", ".ogv")


class NothingReadError(RuntimeError):
  """No video given to predict could be read."""


def find_videos(path: str) -> list[str]:
  """A file as given (any container OpenCV reads), or every video file under a folder, recursively, sorted."""
  if os.path.isfile(path):
    return [path]
  if not os.path.isdir(path):
    raise FileNotFoundError(f"--video={path!r}: no such file or folder")
  found = []
  for root, dirs, files in os.walk(path):
    dirs.sort()
    found += [os.path.join(root, f) for f in sorted(files)
              if f.lower().endswith(VIDEO_EXTENSIONS) and not f.startswith(".")]
  if not found:
    raise FileNotFoundError(f"--video={path!r}: no video files ({', '.join(VIDEO_EXTENSIONS)}) in this folder")
  return found


def _batches(paths: list[str], config: ml_collections.ConfigDict, failures: list[tuple[str, str]],
             read: list[str]) -> Iterator[dict]:
  """Padded, masked batches of eval views; unreadable files go to `failures`, readable ones to `read`."""
  spec, views = input_pipeline.store_spec(config), input_pipeline.clip_spec(config)
  size = config.eval_batch_size
  pending: list[dict] = []
  with concurrent.futures.ThreadPoolExecutor(max(1, config.input.loader_threads)) as pool:
    for path, example, reason in pool.map(store.encode_example, [(p, 0, spec) for p in paths]):
      if example is None:
        logging.warning("Cannot read %s", reason)
        failures.append((path, reason))
        continue
      read.append(path)
      pending.append({"video": clips.eval_views(example, views), "label": np.int32(0), "mask": np.bool_(True)})
      if len(pending) == size:
        yield _stack(pending, size)
        pending = []
  if pending:
    yield _stack(pending, size)


def _stack(items: list[dict], size: int) -> dict:
  pad = [{**items[0], "mask": np.bool_(False)}] * (size - len(items))
  return {k: np.stack([it[k] for it in items + pad]) for k in ("video", "label", "mask")}


class Predictor:
  """A trained run loaded once (checkpoint restored, identity read, eval step compiled on first use), then
  called on lists of video files: the web page and benchmarks reuse one across calls."""

  def __init__(self, config: ml_collections.ConfigDict, workdir: str, checkpoint: str = "latest"):
    if jax.process_count() > 1:
      raise ValueError("--mode=predict runs in one process; drop --distributed")
    run = run_lib.setup(config, workdir, with_data=False, train=False)
    self.state, meta = run.checkpointer.restore(run.state, checkpoint)  # latest falls back past an unreadable one
    self.step = int(meta["step"])
    identity = run_lib.identity_of(meta, run.checkpointer)
    if run_lib.identity_input(identity)["reads"] != "frames":
      run.checkpointer.close()
      raise ValueError(f"--workdir {workdir!r} is a head over stored features: it scores feature stores "
                       "(--mode=eval), not video files; extract a video's features with --mode=extract first")
    self.classes = tuple(identity["classes"])
    self.config = run_lib.with_clip_of(config, identity)  # decode and sample exactly as the model was trained
    run.checkpointer.close()
    self.workdir, self.mesh = run.workdir, run.mesh
    self.eval_fn = evaluate.make_eval_step(self.config, run.mesh)

  def __call__(self, paths: list[str]) -> tuple[list[dict], list[tuple[str, str]]]:
    """({"video", "top5", "probs"} per readable video, [(path, reason)] per unreadable one)."""
    failures: list[tuple[str, str]] = []
    read: list[str] = []
    view_probs, _ = evaluate.gather_predictions(self.eval_fn, self.state, _batches(paths, self.config, failures, read),
                                                self.mesh)
    probs = view_probs.mean(1)
    return ([{"video": p, "top5": metrics.top_classes(probs[i], self.classes), "probs": probs[i]}
             for i, p in enumerate(read)], failures)


def predict_videos(config: ml_collections.ConfigDict, workdir: str, video: str, *, checkpoint: str = "latest",
                   output: str = "") -> list[dict]:
  """Top-5 per readable video, printed and (with output=.json/.csv) written. Raises NothingReadError if none."""
  paths = find_videos(video)
  predictor = Predictor(config, workdir, checkpoint)
  start = time.perf_counter()
  results, failures = predictor(paths)
  seconds = time.perf_counter() - start
  if not results:
    raise NothingReadError(f"none of the {len(paths)} video(s) under {video!r} could be read "
                           f"(first: {failures[0][1] if failures else 'none'})")
  views = f"{predictor.config.input.eval_clips} clip(s) x {predictor.config.input.eval_crops} crop(s)"
  for r in results:
    print(r["video"] + "\n" + "\n".join(f"  {j}. {c:<28} {p:.4f}" for j, (c, p) in enumerate(r["top5"], 1)),
          flush=True)
  print(f"{len(results)} video(s) scored over {views} with checkpoint step {predictor.step} of {predictor.workdir} in "
        f"{seconds:.1f} s ({len(results) / max(seconds, 1e-9):.1f} videos/s, decoding and compilation included)"
        + (f"; {len(failures)} could not be read" if failures else ""), flush=True)
  if output:
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    eval_files.write_predictions(output, [r["video"] for r in results], np.stack([r["probs"] for r in results]),
                                 list(predictor.classes))
    print(f"Written: {output}", flush=True)
  return results
