"""What one stored video tells about its dataset: its recorded metadata, colour and motion, from a bounded sample.

Runs in worker processes over the frame store, so nothing is decoded from the video files a second time:
metadata (duration, frame count, fps, size) is what the store recorded at build time, and colour and motion
come from a fixed number of stored JPEG frames per video, whatever its length.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from input_pipeline import decode, records

HIST_BINS = 32  # per RGB channel, 8 intensity levels each
META_FIELDS = (b"path", b"label", b"source_fps", b"source_frames", b"width", b"height", b"duration_s",
               b"stored_fps", b"offsets", b"jpeg")


@dataclasses.dataclass(frozen=True)
class Sampling:
  frames: int = 8  # evenly spaced frames per video for the colour histograms
  flow_pairs: int = 4  # evenly spaced pairs of consecutive stored frames per video for optical flow
  flow_side: int = 112  # frames are shrunk to at most this short side before Farneback (bounds the cost)


def evenly_spaced(n: int, k: int) -> np.ndarray:
  """k indices spread over range(n), centred in k equal segments (fewer when n < k)."""
  k = min(k, n)
  return np.unique(((np.arange(k) + 0.5) * n / max(k, 1)).astype(np.int64).clip(0, n - 1)) if k else np.zeros(0, int)


def _frame(fields: dict, i: int) -> np.ndarray:
  offsets = fields["offsets"]
  a, b = int(offsets[i]), int(offsets[i + 1])
  return decode.decode_jpeg(fields["jpeg"][a:b])


def _grey(rgb: np.ndarray, side: int) -> np.ndarray:
  g = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
  short = min(g.shape)
  if short > side:
    scale = side / short
    g = cv2.resize(g, (max(1, round(g.shape[1] * scale)), max(1, round(g.shape[0] * scale))),
                   interpolation=cv2.INTER_AREA)
  return g


def measure(raw: bytes, sampling: Sampling) -> dict:
  """One stored record -> its metadata, RGB histogram counts [3, HIST_BINS] and optical-flow summary.

  Flow is OpenCV's Farneback between consecutive stored frames, in pixels per stored frame at the analysed size
  (short side min(store's, flow_side)); `flow_per_s` rescales it to short sides per second, comparable across
  datasets whatever their resolution and frame rate.
  """
  fields = records.parse_example(raw, META_FIELDS)
  offsets = fields["offsets"]
  n = len(offsets) - 1
  if n < 1 or int(offsets[-1]) > len(fields["jpeg"]) or np.any(np.diff(offsets) < 0):
    raise records.CorruptRecordError("frame offsets do not fit the stored frames")
  hist = np.zeros((3, HIST_BINS), np.int64)
  for i in evenly_spaced(n, sampling.frames):
    img = _frame(fields, int(i))
    for ch in range(3):
      hist[ch] += np.bincount((img[..., ch] >> 3).ravel(), minlength=HIST_BINS)
  mags, vx, vy = [], [], []
  side = 0
  for i in evenly_spaced(n - 1, sampling.flow_pairs):
    a, b = _grey(_frame(fields, int(i)), sampling.flow_side), _grey(_frame(fields, int(i) + 1), sampling.flow_side)
    side = min(a.shape)
    flow = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)
    mags.append(float(np.linalg.norm(flow, axis=-1).mean()))
    vx.append(float(flow[..., 0].mean()))
    vy.append(float(flow[..., 1].mean()))
  stored_fps = float(fields["stored_fps"][0])
  mag = float(np.mean(mags)) if mags else 0.0
  return {
      "path": bytes(fields["path"]).decode("utf-8", "surrogateescape"),
      "label": int(fields["label"][0]),
      "duration_s": float(fields["duration_s"][0]),
      "frames": int(fields["source_frames"][0]),
      "fps": float(fields["source_fps"][0]),
      "width": int(fields["width"][0]),
      "height": int(fields["height"][0]),
      "stored_frames": n,
      "hist": hist,
      "flow_px": mag,  # pixels per stored frame at `flow_side_px`
      "flow_side_px": side,
      "flow_per_s": mag * stored_fps / side if side else 0.0,  # short sides per second
      "flow_vx": float(np.mean(vx)) if vx else 0.0,
      "flow_vy": float(np.mean(vy)) if vy else 0.0,
  }


def measure_range(args: tuple) -> list[dict]:
  """Worker: records [start, stop) of one opened split (`records.ClipRecords`, which pickles) -> their measures."""
  source, start, stop, sampling = args
  out = []
  for i in range(start, stop):
    try:
      out.append(measure(source.raw_record(i), sampling) | {"index": i})
    except (records.CorruptRecordError, decode.VideoDecodeError) as e:
      out.append({"index": i, "error": f"{source.where}: record {i}: {e}"})
  return out
