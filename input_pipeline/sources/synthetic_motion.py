"""A motion-only action dataset, generated on first use as real encoded videos.

Every video shows four objects, one per axis of motion: horizontal travel,
vertical travel, rotation and scale. Exactly one of them moves steadily one way
along its axis -- that axis and direction are the class (8 classes: MoveLeft,
MoveRight, MoveUp, MoveDown, RotateCW, RotateCCW, ZoomIn, ZoomOut). The other
three sweep back and forth along their own axes over the same kind of range (a
triangle wave, which spends equal time everywhere on its range, as a steady
sweep does). Speed profiles, ranges, a camera shake and the distractors are
drawn from one distribution for every class, so the temporal mean frame, and a
frame taken at a random time, have the same distribution whatever the class:
only the order of the frames tells classes apart.

Rotation and zoom directions are not visible in any pooled statistic of local
motion without knowing *where* it happens (a spinning tip moves left above the
centre and right below it), which is what makes this set a test of where a
model pools, not only of whether it sees time.

Files are written in the UCF101 layout with official-format split lists, so the
UCF101 parser reads them and the same loader serves real data.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil

import cv2
import numpy as np
from absl import logging

from input_pipeline.sources import ucf101
from input_pipeline.sources.listing import NotReadyError, VideoListing
from input_pipeline.workers import process_pool

# class -> (axis, direction). Axes: "x" travel (+1 right), "y" travel (+1 down, image rows grow
# downwards), "angle" (+1 clockwise on screen) and "scale" (+1 grows).
MOTIONS: dict[str, tuple[str, int]] = {
    "MoveDown": ("y", +1),
    "MoveLeft": ("x", -1),
    "MoveRight": ("x", +1),
    "MoveUp": ("y", -1),
    "RotateCCW": ("angle", -1),
    "RotateCW": ("angle", +1),
    "ZoomIn": ("scale", +1),
    "ZoomOut": ("scale", -1),
}
CLASSES = tuple(sorted(MOTIONS))
AXES = ("x", "y", "angle", "scale")
FORMAT_VERSION = 4
# Settings a config can ask for; an existing set is reused when these match.
CONFIGURED = ("seed", "num_groups", "clips_per_group", "version")


@dataclasses.dataclass(frozen=True)
class GenerationSpec:
  """Everything that determines the generated files; stored beside them."""

  seed: int = 0
  num_groups: int = 80  # scenes; splits hold out whole groups, as UCF101 does
  clips_per_group: int = 1  # per class and group
  big_class: str = "MoveRight"  # this class gets `big_factor` times more clips
  big_factor: int = 3
  sizes: tuple[tuple[int, int], ...] = ((160, 120), (128, 96), (144, 108), (112, 112), (96, 128))
  fps_choices: tuple[int, ...] = (15, 20, 24, 25, 30)
  min_frames: int = 24
  max_frames: int = 48
  fourcc: str = "XVID"
  version: int = FORMAT_VERSION


def _tri(u: np.ndarray) -> np.ndarray:
  """Triangle wave with period 1: 0 -> 1 -> 0."""
  return 1.0 - np.abs(2.0 * (u % 1.0) - 1.0)


def _group_style(seed: int, group: int) -> dict:
  rng = np.random.default_rng([seed, 7919, group])
  bg = rng.uniform(30, 225, size=3)
  luma = np.array([0.114, 0.587, 0.299])  # BGR weights of OpenCV's grey conversion
  style = {
      "bg": bg,
      "bg_gradient": rng.uniform(-25, 25, size=(2, 3)),
      "noise_seed": int(rng.integers(1 << 31)),
      "colors": [],
      "shapes": [],
  }
  for _ in AXES:
    while True:  # every object must stand out from the background, in colour and in grey
      c = rng.uniform(0, 255, size=3)
      if abs((c - bg) @ luma) > 70 and abs(c.mean() - bg.mean()) > 50:
        break
    style["colors"].append(c)
    n = int(rng.integers(3, 6))
    ang = (np.arange(n) + rng.uniform(-0.2, 0.2, n)) * (2 * np.pi / n)
    rad = rng.uniform(0.7, 1.0, n)
    rad[0] = 1.35  # a clear tip makes the spin visible whatever the shape
    style["shapes"].append(np.stack([rad * np.cos(ang), rad * np.sin(ang)], 1))
  return style


def _background(style: dict, w: int, h: int) -> np.ndarray:
  yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
  img = style["bg"][None, None] + (xx / w)[..., None] * style["bg_gradient"][0] + (yy / h)[..., None] * style["bg_gradient"][1]
  noise = np.random.default_rng(style["noise_seed"]).normal(0, 10, size=(h // 8 + 1, w // 8 + 1, 3))
  img = img + cv2.resize(noise.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
  return np.clip(img, 0, 255).astype(np.uint8)


def _ease(u: np.ndarray, a: float) -> np.ndarray:
  """A speed profile: blends a steady sweep with smoothstep (a > 0 eases in and out, a < 0 rushes the middle).

  Monotonic for a in [-2, 1] and point-symmetric about (0.5, 0.5), so both directions of an axis see the same one.
  """
  return (1.0 - a) * u + a * u * u * (3.0 - 2.0 * u)


def _shake(rng: np.random.Generator, t: np.ndarray, side: int) -> np.ndarray:
  """Camera shake in pixels, [T, 2]: two random sinusoids per axis, up to ~2 % of the frame."""
  amp = rng.uniform(0.0, 0.02) * side
  out = np.zeros((len(t), 2))
  for d in range(2):
    for _ in range(2):
      out[:, d] += amp / 2 * np.sin(2 * np.pi * (rng.uniform(0.5, 3.0) * t + rng.uniform(0, 1)))
  return out


@dataclasses.dataclass(frozen=True)
class Plan:
  """What one clip shows, before drawing: per object k (one per AXES entry) its path over T frames.

  Positions are fractions of the central square's side; angles in radians (+ is clockwise on screen);
  radius is the object's size as a fraction of the side.
  """

  size: tuple[int, int]  # (width, height)
  fps: int
  x: np.ndarray  # [4, T]
  y: np.ndarray
  angle: np.ndarray
  radius: np.ndarray
  order: np.ndarray  # drawing order of the objects
  shake: np.ndarray  # [T, 2] camera offset in pixels


def plan_video(seed: int, label: int, group: int, clip: int, spec: GenerationSpec) -> Plan:
  axis, direction = MOTIONS[CLASSES[label]]
  rng = np.random.default_rng([seed, label, group, clip])
  w, h = spec.sizes[int(rng.integers(len(spec.sizes)))]
  fps = int(spec.fps_choices[int(rng.integers(len(spec.fps_choices)))])
  num_frames = int(rng.integers(spec.min_frames, spec.max_frames + 1))
  t = np.linspace(0.0, 1.0, num_frames)
  quadrants = rng.permutation([(0.27, 0.27), (0.73, 0.27), (0.27, 0.73), (0.73, 0.73)])
  paths = {k: np.empty((len(AXES), num_frames)) for k in ("x", "y", "angle", "radius")}
  for k, ax in enumerate(AXES):
    cx, cy = quadrants[k] + rng.uniform(-0.03, 0.03, 2)
    # The actor sweeps its range once, one way; distractors go back and forth (a triangle wave with a
    # random phase). Both pass the same speed-profile family, so positions at a random time match.
    u = (t if direction > 0 else 1.0 - t) if ax == axis else _tri(t + rng.uniform(0, 1))
    p = _ease(u, rng.uniform(-0.6, 0.9)) - 0.5  # in [-0.5, 0.5]
    x, y = np.full_like(t, cx), np.full_like(t, cy)
    angle = np.full_like(t, rng.uniform(0, 2 * np.pi))
    radius = np.full_like(t, rng.uniform(0.11, 0.14))
    if ax == "x":
      x = x + p * rng.uniform(0.26, 0.34)
    elif ax == "y":
      y = y + p * rng.uniform(0.26, 0.34)
    elif ax == "angle":
      # 120-180 degrees a clip. Measured with configs/csn.py (one run each, 1,500 steps): 60-100 degrees
      # made the spin's direction harder to learn (93.0 % against 95.0 % top-1 on 80 scenes), although
      # larger turns per frame could alias a pentagon's 72-degree symmetry.
      angle = angle + p * np.deg2rad(rng.uniform(120, 180))
    else:
      radius = radius * np.exp(p * np.log(rng.uniform(1.8, 2.3)))
    for name, v in (("x", x), ("y", y), ("angle", angle), ("radius", radius)):
      paths[name][k] = v
  order = rng.permutation(len(AXES))
  return Plan((w, h), fps, order=order, shake=_shake(rng, t, min(w, h)), **paths)


def render_video(seed: int, label: int, group: int, clip: int, spec: GenerationSpec) -> tuple[np.ndarray, int]:
  """Returns (frames [T, H, W, 3] BGR uint8, fps) for one clip."""
  plan = plan_video(seed, label, group, clip, spec)
  style = _group_style(seed, group)
  w, h = plan.size
  side = min(w, h)  # objects live in the central square, so centre crops keep them
  ox, oy = (w - side) / 2, (h - side) / 2
  bg = _background(style, w, h)
  frames = np.empty((plan.x.shape[1], h, w, 3), np.uint8)
  scale = 16  # cv2 fixed-point: 4 fractional bits give sub-pixel motion
  for i in range(len(frames)):
    img = bg.copy()
    for k in plan.order:
      c, s = np.cos(plan.angle[k, i]), np.sin(plan.angle[k, i])  # +angle turns clockwise on screen (rows grow down)
      pts = style["shapes"][k] @ np.array([[c, s], [-s, c]]) * plan.radius[k, i] * side
      pts = (pts + [ox + plan.x[k, i] * side, oy + plan.y[k, i] * side]) * scale
      color = tuple(float(v) for v in style["colors"][k])
      cv2.fillPoly(img, [np.round(pts).astype(np.int32)], color, lineType=cv2.LINE_AA, shift=4)
    shift = np.float32([[1, 0, plan.shake[i, 0]], [0, 1, plan.shake[i, 1]]])
    frames[i] = cv2.warpAffine(img, shift, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
  return frames, plan.fps


def write_video(path: str, frames: np.ndarray, fps: float, fourcc: str = "XVID") -> None:
  h, w = frames.shape[1:3]
  writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*fourcc), float(fps), (w, h))
  if not writer.isOpened():
    raise OSError(f"OpenCV cannot write {fourcc} video to {path!r}")
  for f in frames:
    writer.write(f)
  writer.release()


def _clip_names(spec: GenerationSpec) -> list[tuple[int, int, int, str]]:
  items = []
  for label, cls in enumerate(CLASSES):
    n = spec.clips_per_group * (spec.big_factor if cls == spec.big_class else 1)
    for g in range(1, spec.num_groups + 1):
      for c in range(1, n + 1):
        items.append((label, g, c, f"{cls}/v_{cls}_g{g:02d}_c{c:02d}.avi"))
  return items


def _render_and_write(args: tuple) -> None:
  root, spec, label, group, clip, rel = args
  frames, fps = render_video(spec.seed, label, group, clip, spec)
  write_video(os.path.join(root, rel), frames, fps, spec.fourcc)


def test_groups(split: int, num_groups: int) -> range:
  block = max(1, num_groups // 4)
  return range((split - 1) * block + 1, split * block + 1)


def _write_split_lists(root: str, spec: GenerationSpec) -> None:
  lists = os.path.join(root, ucf101.SPLITS_DIR)
  os.makedirs(lists, exist_ok=True)
  with open(os.path.join(lists, "classInd.txt"), "w") as f:
    f.writelines(f"{i + 1} {c}\n" for i, c in enumerate(CLASSES))
  clips = _clip_names(spec)
  for split in (1, 2, 3):
    held_out = set(test_groups(split, spec.num_groups))
    with open(os.path.join(lists, f"trainlist0{split}.txt"), "w") as tr, open(
        os.path.join(lists, f"testlist0{split}.txt"), "w") as te:
      for label, g, _, rel in clips:
        if g in held_out:
          te.write(f"{rel}\n")
        else:
          tr.write(f"{rel} {label + 1}\n")


def generate(root: str, spec: GenerationSpec = GenerationSpec(), workers: int = 0) -> None:
  """Writes the dataset under `root` once; safe to interrupt and rerun."""
  marker = os.path.join(root, "SPEC.json")
  wanted = json.dumps(dataclasses.asdict(spec), sort_keys=True)
  if os.path.exists(marker):
    with open(marker) as f:
      found = json.load(f)
    clash = {k: (found.get(k), getattr(spec, k)) for k in CONFIGURED if found.get(k) != getattr(spec, k)}
    if clash:
      raise FileExistsError(
          f"{root!r} holds a synthetic_motion set generated with other settings {clash} (found, wanted); "
          f"see {marker}. Delete the folder or point config.dataset.data_dir elsewhere.")
    return
  tmp = root.rstrip("/") + ".partial"
  shutil.rmtree(tmp, ignore_errors=True)
  clips = _clip_names(spec)
  for cls in CLASSES:
    os.makedirs(os.path.join(tmp, cls), exist_ok=True)
  logging.info("Generating synthetic_motion (%d videos) into %s", len(clips), root)
  jobs = [(tmp, spec, label, g, c, rel) for label, g, c, rel in clips]
  workers = workers or min(8, os.cpu_count() or 1)
  from tqdm.auto import tqdm

  bar = tqdm(total=len(jobs), desc="synthetic_motion: writing videos", unit="video")
  if workers > 1:
    with process_pool(workers) as pool:
      for _ in pool.map(_render_and_write, jobs, chunksize=8):
        bar.update()
  else:
    for job in jobs:
      _render_and_write(job)
      bar.update()
  bar.close()
  _write_split_lists(tmp, spec)
  with open(os.path.join(tmp, "SPEC.json"), "w") as f:
    f.write(wanted)
  os.makedirs(os.path.dirname(os.path.abspath(root)), exist_ok=True)
  os.replace(tmp, root)


def list_synthetic_motion(root: str, split: int, spec: GenerationSpec = GenerationSpec(), workers: int = 0,
                          build: bool = True) -> VideoListing:
  """build=False (other processes of a multi-host job) never writes: NotReadyError until process 0 has."""
  if build:
    generate(root, spec, workers)
  elif not os.path.exists(os.path.join(root, "SPEC.json")):
    raise NotReadyError(f"synthetic_motion not generated yet at {root!r}")
  return ucf101.list_ucf101(root, split, name="synthetic_motion")
