"""TensorBoard event files without TensorFlow, behind clu's `MetricWriter` method names.

clu's writers import TensorFlow (≈1.4 GB, 6-7 s to import, and on a GPU machine a second claimant of device
memory and CUDA libraries) only to write protocol buffers that TensorBoard itself can write. This writer uses
TensorBoard's own event-file writer and summary protos: scalars, images and hparams land in the same v2
summary format `tf.summary` writes, so TensorBoard, its `EventAccumulator` and `vidjax.reports` read them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np
from absl import logging
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.hparams import summary_v2 as hparams_summary
from tensorboard.plugins.image import metadata as image_metadata
from tensorboard.plugins.scalar import metadata as scalar_metadata
from tensorboard.plugins.text import metadata as text_metadata
from tensorboard.summary.writer.event_file_writer import EventFileWriter
from tensorboard.util import tensor_util


class SummaryWriter:
  """Writes one event file in `logdir` (the methods and arguments of clu's MetricWriter)."""

  def __init__(self, logdir: str):
    self._events = EventFileWriter(logdir)

  def _write(self, step: int | None, values: list[summary_pb2.Summary.Value]) -> None:
    event = event_pb2.Event(wall_time=time.time(), summary=summary_pb2.Summary(value=values))
    if step is not None:
      event.step = int(step)
    self._events.add_event(event)

  def write_scalars(self, step: int, scalars: Mapping[str, Any]) -> None:
    meta = scalar_metadata.create_summary_metadata(display_name=None, description=None)
    self._write(step, [summary_pb2.Summary.Value(
        tag=k, metadata=meta, tensor=tensor_util.make_tensor_proto(np.float32(v))) for k, v in scalars.items()])

  def write_images(self, step: int, images: Mapping[str, np.ndarray]) -> None:
    """Each value [H, W, C] or [N, H, W, C], uint8 (or float in [0, 1]); C is 1, 3 or 4 (RGB order)."""
    values = []
    for tag, image in images.items():
      image = np.asarray(image)
      if image.dtype != np.uint8:
        image = (np.clip(image, 0, 1) * 255).round().astype(np.uint8)
      batch = image if image.ndim == 4 else image[None]
      h, w = batch.shape[1:3]
      pngs = [_png(frame) for frame in batch]
      meta = image_metadata.create_summary_metadata(display_name=None, description=None)
      tensor = tensor_util.make_tensor_proto([str(w).encode(), str(h).encode(), *pngs], dtype=np.object_)
      values.append(summary_pb2.Summary.Value(tag=tag, metadata=meta, tensor=tensor))
    self._write(step, values)

  def write_texts(self, step: int, texts: Mapping[str, str]) -> None:
    meta = text_metadata.create_summary_metadata(display_name=None, description=None)
    self._write(step, [summary_pb2.Summary.Value(
        tag=k, metadata=meta, tensor=tensor_util.make_tensor_proto(v.encode(), dtype=np.object_))
        for k, v in texts.items()])

  def write_hparams(self, hparams: Mapping[str, Any]) -> None:
    summary = hparams_summary.hparams_pb({k: _hparam_value(v) for k, v in hparams.items()})
    self._write(0, list(summary.value))

  def flush(self) -> None:
    self._events.flush()

  def close(self) -> None:
    self._events.close()


class LoggingWriter:
  """What processes other than 0 use: scalars to the log, nothing to disk (the chief writes the files)."""

  def write_scalars(self, step: int, scalars: Mapping[str, Any]) -> None:
    logging.info("[%d] %s", step, ", ".join(f"{k}={float(v):.6g}" for k, v in scalars.items()))

  def write_images(self, step: int, images: Mapping[str, np.ndarray]) -> None:
    del step, images

  def write_texts(self, step: int, texts: Mapping[str, str]) -> None:
    del step, texts

  def write_hparams(self, hparams: Mapping[str, Any]) -> None:
    del hparams

  def flush(self) -> None:
    pass

  def close(self) -> None:
    pass


def create_default_writer(logdir: str, *, just_logging: bool = False) -> SummaryWriter | LoggingWriter:
  return LoggingWriter() if just_logging else SummaryWriter(logdir)


def _png(image: np.ndarray) -> bytes:
  if image.shape[-1] == 3:
    image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
  elif image.shape[-1] == 4:
    image = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA)
  ok, buf = cv2.imencode(".png", image)
  if not ok:
    raise ValueError(f"cannot PNG-encode an image of shape {image.shape}")
  return buf.tobytes()


def _hparam_value(v: Any) -> bool | int | float | str:
  return v if isinstance(v, (bool, int, float, str)) else str(v)
