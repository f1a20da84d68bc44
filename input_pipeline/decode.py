"""Decoding encoded video files with OpenCV: the only place that touches codecs."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np


class VideoDecodeError(Exception):
  """A file that cannot be used; the message names it and says why."""


_MAX_FRAME_COUNT_HINT = 1_000_000  # a header claiming more (~9 h at 30 fps) is not trusted to plan with


@dataclasses.dataclass(frozen=True)
class DecodedVideo:
  frames: Any  # [T, H, W, 3] uint8 RGB after resampling/resizing, or a list of `encode(frame)` results
  source_fps: float
  source_frames: int  # frames actually decoded from the file
  width: int  # source size
  height: int

  @property
  def duration_s(self) -> float:
    return self.source_frames / self.source_fps if self.source_fps > 0 else 0.0


def resize_short_side(frame: np.ndarray, short_side: int) -> np.ndarray:
  h, w = frame.shape[:2]
  if short_side <= 0 or min(h, w) == short_side:
    return frame
  s = short_side / min(h, w)
  size = (max(1, round(w * s)), max(1, round(h * s)))
  interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
  return cv2.resize(frame, size, interpolation=interp)


def plan_frames(num_frames: int, source_fps: float, fps: float = 0.0, max_frames: int = 0) -> np.ndarray:
  """Which source frames to store, in order (repeats allowed when `fps` is above the source rate).

  `fps` > 0 resamples to that rate by nearest timestamp; `max_frames` > 0 then caps the length by even
  subsampling. Computed without materialising one entry per source frame.
  """
  resample = fps > 0 and abs(fps - source_fps) > 1e-3
  n_out = max(1, int(round(num_frames * fps / source_fps))) if resample else num_frames
  if max_frames > 0 and n_out > max_frames:
    out = np.linspace(0, n_out - 1, max_frames).round().astype(np.int64)
  else:
    out = np.arange(n_out, dtype=np.int64)
  if resample:
    out = np.minimum(np.round(out * source_fps / fps).astype(np.int64), num_frames - 1)
  return out


def _open(path: str) -> cv2.VideoCapture:
  cap = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
  if not cap.isOpened():
    cap.release()
    raise VideoDecodeError(f"{path}: OpenCV/FFmpeg cannot open it (not a video, or an unsupported codec)")
  return cap


def _stream(path: str, wanted: set[int] | None, convert: Callable[[np.ndarray], Any]) -> tuple[dict, int, tuple]:
  """One sequential pass: converts (and keeps) only the wanted frames, so memory holds the output, not the source.

  Returns ({index: converted frame}, frames decoded, (width, height)).
  """
  cap = _open(path)
  kept, size, i = {}, (0, 0), 0
  try:
    while cap.grab():  # demux + decode; skipped frames are never colour-converted or kept
      if i == 0 or wanted is None or i in wanted:
        ok, frame = cap.retrieve()
        if not ok:
          break
        if i == 0:
          size = (frame.shape[1], frame.shape[0])
        if wanted is None or i in wanted:
          kept[i] = convert(frame)
      i += 1
  finally:
    cap.release()
  return kept, i, size


def read_video(path: str, *, short_side: int = 0, fps: float = 0.0, max_frames: int = 0,
               encode: Callable[[np.ndarray], Any] | None = None) -> DecodedVideo:
  """Decodes sequentially (faster than seeking for short clips), resizing each kept frame as it is read.

  `fps` > 0 keeps frames at that rate (by nearest timestamp), `short_side` > 0 resizes, `max_frames` > 0
  caps the stored length by even subsampling (see `plan_frames`). Which frames to keep is planned from the
  header's frame count and checked against the frames really decoded; a wrong header costs a second pass.
  `encode` (e.g. JPEG) is applied to each kept RGB frame as it arrives; `frames` is then a list of its results.
  Peak memory is the kept output plus one source frame, whatever the source's length and resolution.
  """
  if not os.path.isfile(path):
    raise VideoDecodeError(f"{path}: no such file")
  if os.path.getsize(path) == 0:
    raise VideoDecodeError(f"{path}: empty file (0 bytes)")
  cap = _open(path)
  src_fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
  hint = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
  cap.release()
  if not np.isfinite(src_fps) or src_fps <= 0 or src_fps > 1000:
    src_fps = 25.0  # broken headers happen; 25 is the commonest rate in these datasets

  def convert(bgr: np.ndarray):
    rgb = cv2.cvtColor(resize_short_side(bgr, short_side), cv2.COLOR_BGR2RGB)
    return encode(rgb) if encode is not None else rgb

  subsample = max_frames > 0 or (fps > 0 and abs(fps - src_fps) > 1e-3)
  wanted = None  # keep every frame
  if subsample:
    if not 0 < hint <= _MAX_FRAME_COUNT_HINT:  # no usable count in the header: count first
      _, hint, _ = _stream(path, set(), convert)
    wanted = set(plan_frames(max(hint, 1), src_fps, fps, max_frames).tolist())
  kept, n, (width, height) = _stream(path, wanted, convert)
  if n == 0:
    raise VideoDecodeError(f"{path}: no frame could be decoded (corrupt or truncated file)")
  plan = plan_frames(n, src_fps, fps, max_frames) if subsample else np.arange(n)
  if not set(plan.tolist()) <= kept.keys():  # the header's count was wrong: plan again from the real one
    kept, n, (width, height) = _stream(path, set(plan.tolist()), convert)
    plan = plan_frames(n, src_fps, fps, max_frames)
    if n == 0 or not set(plan.tolist()) <= kept.keys():
      raise VideoDecodeError(f"{path}: decodes to a different number of frames on each pass (damaged file)")
  frames = [kept[i] for i in plan.tolist()]
  return DecodedVideo(frames=frames if encode is not None else np.stack(frames), source_fps=src_fps,
                      source_frames=n, width=width, height=height)


def encode_jpeg(frame_rgb: np.ndarray, quality: int) -> bytes:
  ok, buf = cv2.imencode(".jpg", cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
  if not ok:
    raise VideoDecodeError("JPEG encoding failed")
  return buf.tobytes()


def decode_jpeg(data: np.ndarray | bytes) -> np.ndarray:
  img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR_RGB)
  if img is None:
    raise VideoDecodeError("stored JPEG frame is corrupt; delete the store folder and rebuild it")
  return img
