"""Writing videos that browsers play: H.264 MP4 (or VP9 WebM) through the ffmpeg binary imageio-ffmpeg ships.

OpenCV's own writer here has no H.264 encoder and writes MPEG-4 Part 2 or MJPG, which browsers do not play.
Frames are RGB uint8 [H, W, 3] with even H and W (4:2:0 chroma halves both); every frame written is one frame
of the output at the given fps, so the frame count and rate are the caller's.
"""

from __future__ import annotations

import os
import warnings

import imageio_ffmpeg
import numpy as np

CODECS = {".mp4": ("libx264", ["-preset", "veryfast", "-crf", "18", "-movflags", "+faststart"]),
          ".webm": ("libvpx-vp9", ["-b:v", "0", "-crf", "32", "-row-mt", "1"])}


class VideoWriter:
  """`with VideoWriter(path, fps, (width, height)) as w: w.write(frame)`; a failed write leaves no partial file."""

  def __init__(self, path: str, fps: float, size: tuple[int, int]):
    ext = os.path.splitext(path)[1].lower()
    if ext not in CODECS:
      raise ValueError(f"{path!r}: write .mp4 (H.264) or .webm (VP9), the formats browsers play")
    width, height = size
    if width % 2 or height % 2 or width < 2 or height < 2:
      raise ValueError(f"{path!r}: frame size {width}x{height} must be even (4:2:0 video)")
    if not 0 < fps <= 1000:
      raise ValueError(f"{path!r}: fps {fps} out of range")
    codec, params = CODECS[ext]
    self.path, self.size, self.count = path, (width, height), 0
    os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
    self._tmp = path + ".partial" + ext
    # -r before the input keeps the rate exact (rationals such as 30000/1001 are passed as a float)
    self._gen = imageio_ffmpeg.write_frames(self._tmp, size, fps=fps, codec=codec, pix_fmt_in="rgb24",
                                            pix_fmt_out="yuv420p", macro_block_size=2, quality=None,
                                            output_params=params, ffmpeg_log_level="error")
    with warnings.catch_warnings():  # JAX warns of any fork; this one execs ffmpeg at once, which is safe
      warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called")
      self._gen.send(None)

  def write(self, frame: np.ndarray) -> None:
    frame = np.asarray(frame)
    if frame.shape != (self.size[1], self.size[0], 3) or frame.dtype != np.uint8:
      raise ValueError(f"frame {self.count} is {frame.shape} {frame.dtype}, the video needs "
                       f"({self.size[1]}, {self.size[0]}, 3) uint8")
    self._gen.send(np.ascontiguousarray(frame))
    self.count += 1

  def __enter__(self) -> VideoWriter:
    return self

  def __exit__(self, exc_type, exc, tb) -> None:
    self._gen.close()
    if exc_type is None and self.count:
      os.replace(self._tmp, self.path)
    elif os.path.exists(self._tmp):
      os.remove(self._tmp)


def write_video(path: str, frames, fps: float) -> str:
  """All frames at once ([T, H, W, 3] uint8 or a list of them)."""
  frames = list(frames)
  if not frames:
    raise ValueError(f"{path!r}: no frames to write")
  h, w = frames[0].shape[:2]
  with VideoWriter(path, fps, (w, h)) as writer:
    for f in frames:
      writer.write(f)
  return path
