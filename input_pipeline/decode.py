"""Decoding encoded video files with OpenCV: the only place that touches codecs."""

from __future__ import annotations

import dataclasses
import os

import cv2
import numpy as np


class VideoDecodeError(Exception):
  """A file that cannot be used; the message names it and says why."""


@dataclasses.dataclass(frozen=True)
class DecodedVideo:
  frames: np.ndarray  # [T, H, W, 3] uint8 RGB, after resampling/resizing
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


def read_video(path: str, *, short_side: int = 0, fps: float = 0.0, max_frames: int = 0) -> DecodedVideo:
  """Decodes every frame sequentially (faster than seeking for short clips).

  `fps` > 0 keeps frames at that rate (by nearest timestamp), `short_side` > 0
  resizes, `max_frames` > 0 caps the stored length by even subsampling.
  """
  if not os.path.isfile(path):
    raise VideoDecodeError(f"{path}: no such file")
  if os.path.getsize(path) == 0:
    raise VideoDecodeError(f"{path}: empty file (0 bytes)")
  cap = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
  try:
    if not cap.isOpened():
      raise VideoDecodeError(f"{path}: OpenCV/FFmpeg cannot open it (not a video, or an unsupported codec)")
    src_fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    if not np.isfinite(src_fps) or src_fps <= 0 or src_fps > 1000:
      src_fps = 25.0  # broken headers happen; 25 is the commonest rate in these datasets
    frames = []
    while True:
      ok, frame = cap.read()
      if not ok:
        break
      frames.append(frame)
  finally:
    cap.release()
  if not frames:
    raise VideoDecodeError(f"{path}: no frame could be decoded (corrupt or truncated file)")
  height, width = frames[0].shape[:2]
  keep = np.arange(len(frames))
  if fps > 0 and abs(fps - src_fps) > 1e-3:
    n_out = max(1, int(round(len(frames) * fps / src_fps)))
    keep = np.minimum(np.round(np.arange(n_out) * src_fps / fps).astype(int), len(frames) - 1)
  if max_frames > 0 and len(keep) > max_frames:
    keep = keep[np.linspace(0, len(keep) - 1, max_frames).round().astype(int)]
  out = np.stack([cv2.cvtColor(resize_short_side(frames[i], short_side), cv2.COLOR_BGR2RGB) for i in keep])
  return DecodedVideo(frames=out, source_fps=src_fps, source_frames=len(frames), width=width, height=height)


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
