"""A video in, its stylised version out: decode (input_pipeline.decode), stylise every frame (Gatys or CycleGAN),
write H.264 at the source's fps and frame count (vidjax.video_writer), and measure temporal stability.

Frames are processed at a working size (`size`: the short side, rounded so the networks accept it); the output
has that size. The report holds the warping error of the output and, as its floor, of the input.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable

import cv2
import jax
import jax.numpy as jnp
import numpy as np

from input_pipeline import decode
from vidjax import video_writer, weights
from vidjax.models import build_arch
from vidjax.style import flow as flow_lib
from vidjax.style.gatys import Gatys, GatysSettings

Progress = Callable[[int, int], None]  # (frames done, frames in all)
METHODS = ("gatys", "cyclegan")
DEFAULT_SIZE = {"gatys": 128, "cyclegan": 256}  # short side; BENCHMARKS.md has the seconds per frame


@dataclasses.dataclass(frozen=True)
class StyleJob:
  """What to do to one video; every field is a flag of `python -m vidjax.style`."""

  content: str
  out: str
  method: str = "gatys"
  style: str = ""  # gatys: the style image
  vgg: str = "weights/vgg19"  # gatys: converted VGG-19 (python -m vidjax.weights --arch vgg19)
  generator: str = ""  # cyclegan: converted generator (python -m vidjax.weights --arch cyclegan)
  size: int = 0  # short side of the working frames; 0: DEFAULT_SIZE[method], or the source's if smaller
  strength: float = 1.0  # the output is strength * stylised + (1 - strength) * source
  temporal: bool = True  # gatys: start each frame from the previous result warped by optical flow
  gatys: GatysSettings = dataclasses.field(default_factory=GatysSettings)
  batch_size: int = 8  # cyclegan: frames per jit-compiled call
  max_frames: int = 0  # refuse longer videos (the web page's bound); 0: no bound


def load_weights(path: str, arch: str, flag: str) -> dict:
  """Converted weights of `arch`, or one line saying which official file to convert and how."""
  how = {"vgg19": "torchvision's vgg19-dcbb9e9d.pth: python -m vidjax.weights --arch vgg19 --pth FILE --out DIR",
         "cyclegan": "an official CycleGAN latest_net_G.pth (e.g. style_ukiyoe.pth): "
                     "python -m vidjax.weights --arch cyclegan --pth FILE --out DIR"}[arch]
  if not path or not os.path.isfile(os.path.join(path, "weights.json")):
    raise FileNotFoundError(f"{flag}={path!r}: no converted {arch} weights there; convert {how}")
  meta = weights.read_meta(path)
  if meta.get("arch") != arch:
    raise ValueError(f"{flag}={path!r} holds {meta.get('arch')!r} weights, not {arch}")
  return weights.load(path), meta


def read_image(path: str) -> np.ndarray:
  """An RGB uint8 image; np.fromfile + imdecode so any path (unicode, spaces) works."""
  if not os.path.isfile(path):
    raise FileNotFoundError(f"--style={path!r}: no such image")
  data = np.fromfile(path, np.uint8)
  image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
  if image is None:
    raise ValueError(f"--style={path!r}: not an image OpenCV can read (use PNG or JPEG)")
  return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _working_size(width: int, height: int, short: int, multiple: int) -> tuple[int, int]:
  scale = short / min(width, height)
  return (max(multiple, round(width * scale / multiple) * multiple),
          max(multiple, round(height * scale / multiple) * multiple))


def source_short_side(path: str) -> int:
  """The video's short side from its header (0 when unknown): small sources are not enlarged by default."""
  cap = cv2.VideoCapture(path)
  try:
    return int(min(cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT))) if cap.isOpened() else 0
  finally:
    cap.release()


def read_frames(path: str, size: int, multiple: int, max_frames: int = 0) -> tuple[list[np.ndarray], float]:
  """Every frame of the video at the working size (both sides multiples of `multiple`), and its fps."""
  try:
    video = decode.read_video(path, short_side=size)
  except decode.VideoDecodeError as e:
    raise ValueError(f"cannot read the video: {e}") from e
  if max_frames and len(video.frames) > max_frames:
    raise ValueError(f"{os.path.basename(path)}: {len(video.frames)} frames; this page stylises at most {max_frames} "
                     f"(about {max_frames / video.source_fps:.0f} s at its {video.source_fps:.3g} fps): trim it first")
  h, w = video.frames[0].shape[:2]
  wh = _working_size(w, h, size, multiple)
  frames = [f if (w, h) == wh else cv2.resize(f, wh, interpolation=cv2.INTER_AREA) for f in video.frames]
  return frames, video.source_fps


def stylise_gatys(frames: list[np.ndarray], style_image: np.ndarray, gatys: Gatys, *, temporal: bool = True,
                  flows: list | None = None, progress: Progress | None = None) -> tuple[list[np.ndarray], list]:
  """(stylised RGB uint8 frames, per-frame loss curves). `flows`: flow_lib.video_flows(frames) when temporal."""
  h, w = frames[0].shape[:2]
  short = min(h, w)
  sh, sw = style_image.shape[:2]
  scale = short / min(sh, sw)
  style = cv2.resize(style_image, (max(1, round(sw * scale)), max(1, round(sh * scale))), interpolation=cv2.INTER_AREA)
  styles = gatys.style_targets(style)
  s = gatys.settings
  out, curves, prev = [], [], None
  for t, frame in enumerate(frames):
    content = frame.astype(np.float32) / 255.0
    if temporal and prev is not None:
      fwd, bwd = flows[t - 1]  # (t-1 -> t, t -> t-1)
      warped = flow_lib.warp(prev, bwd)  # the previous result moved to where its pixels are in frame t
      keep = flow_lib.consistent(bwd, fwd)[..., None]
      init, steps = np.where(keep, warped, content), s.steps_next
    else:
      init, steps = content, s.steps
    prev, losses = gatys.optimise(init, gatys.content_target(frame), styles, steps)
    out.append(np.clip(prev * 255.0 + 0.5, 0, 255).astype(np.uint8))
    curves.append(losses)
    if progress:
      progress(t + 1, len(frames))
  return out, curves


def stylise_cyclegan(frames: list[np.ndarray], variables: dict, meta: dict, *, batch_size: int = 8,
                     progress: Progress | None = None) -> list[np.ndarray]:
  """Frames through the generator, `batch_size` at a time in one jit-compiled call (the last batch padded)."""
  net, _ = build_arch("cyclegan", ngf=int(meta["ngf"]), blocks=int(meta["blocks"]))
  params = {"params": variables["params"]}

  @jax.jit
  def run(p, x):
    y = net.apply(p, x.astype(jnp.float32) / 127.5 - 1.0)
    return jnp.clip((y + 1.0) * 127.5 + 0.5, 0, 255).astype(jnp.uint8)

  out: list[np.ndarray] = []
  for start in range(0, len(frames), batch_size):
    chunk = np.stack(frames[start:start + batch_size])
    n = len(chunk)
    if n < batch_size:
      chunk = np.concatenate([chunk, np.repeat(chunk[-1:], batch_size - n, 0)])
    out.extend(np.asarray(run(params, chunk))[:n])
    if progress:
      progress(len(out), len(frames))
  return out


def stylise_video(job: StyleJob, progress: Progress | None = None) -> dict:
  """Runs a StyleJob; returns the report (frames, fps, size, seconds, warping errors, ...)."""
  if job.method not in METHODS:
    raise ValueError(f"--method={job.method!r}: choose one of {METHODS}")
  if not 0.0 <= job.strength <= 1.0:
    raise ValueError(f"--strength={job.strength}: must be within [0, 1]")
  size = job.size or min(DEFAULT_SIZE[job.method], source_short_side(job.content) or DEFAULT_SIZE[job.method])
  start = time.perf_counter()
  if job.method == "gatys":  # weights and style image first: fail before the decode
    variables, _ = load_weights(job.vgg, "vgg19", "--vgg")
    style_image = read_image(job.style) if job.style else None
    if style_image is None:
      raise ValueError("--method=gatys needs --style=IMAGE")
    frames, fps = read_frames(job.content, size, 2, job.max_frames)
    flows = flow_lib.video_flows(frames)
    gatys = Gatys(variables, job.gatys)
    styled, curves = stylise_gatys(frames, style_image, gatys, temporal=job.temporal, flows=flows, progress=progress)
    extra = {"temporal": job.temporal, "loss_first_frame": [float(curves[0][0]), float(curves[0][-1])],
             "steps": job.gatys.steps, "steps_next": job.gatys.steps_next if job.temporal else job.gatys.steps}
  else:
    variables, meta = load_weights(job.generator, "cyclegan", "--generator")
    frames, fps = read_frames(job.content, size, 4, job.max_frames)
    flows = flow_lib.video_flows(frames)
    styled = stylise_cyclegan(frames, variables, meta, batch_size=job.batch_size, progress=progress)
    extra = {"generator": os.path.abspath(job.generator)}
  if job.strength < 1.0:
    styled = [cv2.addWeighted(s, job.strength, f, 1.0 - job.strength, 0.0) for s, f in zip(styled, frames, strict=True)]
  video_writer.write_video(job.out, styled, fps)
  seconds = time.perf_counter() - start  # weights, decode, flow, compilation, stylising and writing
  h, w = styled[0].shape[:2]
  return {"method": job.method, "out": os.path.abspath(job.out), "frames": len(styled), "fps": fps,
          "width": w, "height": h, "seconds": seconds, "seconds_per_frame": seconds / len(styled),
          "warping_error": flow_lib.warping_error(styled, flows),
          "warping_error_input": flow_lib.warping_error(frames, flows), "strength": job.strength, **extra}
