"""Video style transfer (vidjax.style): Gatys and CycleGAN on test-written videos with converted random weights.

The networks' numerics against PyTorch are in test_golden_torch.py; here: the optimisation lowers its loss, the
output plays with the source's frame count and fps, temporal initialisation steadies the video (lower warping
error), CycleGAN batches frames without changing them, and bad input gets one line naming what to fix.
"""

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from input_pipeline import decode
from tests.helpers.dataset_trees import write_camera_mp4
from tests.helpers.golden_weights import cyclegan_shapes, make_weights, save_random_style_weights, vgg19_features_shapes
from vidjax.style import flow as flow_lib


@pytest.fixture(scope="module")
def style_weights(tmp_path_factory) -> dict[str, str]:
  return save_random_style_weights(str(tmp_path_factory.mktemp("weights")))


def _moving_texture(path: str, n: int = 10, w: int = 64, h: int = 48, fps: float = 12.0) -> str:
  """A panning random texture with a disc crossing it: optical flow has something to follow."""
  rng = np.random.default_rng(3)
  texture = cv2.resize(rng.integers(0, 255, (h // 4, (w + 3 * n) // 4, 3), dtype=np.uint8), (w + 3 * n, h),
                       interpolation=cv2.INTER_CUBIC)
  writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
  for t in range(n):
    frame = texture[:, 3 * t:3 * t + w].copy()
    cv2.circle(frame, (8 + 4 * t, h // 2), 8, (30, 30, 230), -1)
    writer.write(frame)
  writer.release()
  return path


def _style_image(path: str) -> str:
  rng = np.random.default_rng(1)
  cv2.imwrite(path, cv2.resize(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8), (64, 64), interpolation=cv2.INTER_NEAREST))
  return path


def _run(module: str, *args, cwd):
  env = {**os.environ, "PYTHONPATH": str(cwd)}
  return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, env=env, capture_output=True, text=True,
                        timeout=300)


def _read_back(path: str) -> tuple[int, float, str]:
  cap = cv2.VideoCapture(path)
  fps, fourcc = cap.get(cv2.CAP_PROP_FPS), int(cap.get(cv2.CAP_PROP_FOURCC))
  cap.release()
  frames = decode.read_video(path).frames  # every frame decodes
  return len(frames), fps, fourcc.to_bytes(4, "little").decode("ascii", "replace")


def test_gatys_command_lowers_the_loss_and_writes_h264_with_the_source_frames_and_fps(style_weights, tmp_path,
                                                                                        repo_root):
  """A phone-style H.264 .mp4 (B-frames, audio) at 30 fps in a folder with an odd name, through the command."""
  odd = tmp_path / "clips #&()! ü"
  odd.mkdir()
  src = str(odd / "my clip.mp4")
  write_camera_mp4(src, n=12, w=64, h=48, fps=30.0)
  out, report = str(odd / "out put.mp4"), str(tmp_path / "report.json")
  p = _run("vidjax.style", f"--content={src}", f"--style={_style_image(str(odd / 'style ü.png'))}",
           f"--vgg={style_weights['vgg19']}", f"--out={out}", "--size=48", "--steps=25", "--steps_next=5",
           f"--json={report}", cwd=repo_root)
  assert p.returncode == 0, p.stderr[-2000:]
  assert "Warping error" in p.stdout
  r = json.load(open(report))
  first, last = r["loss_first_frame"]
  assert last < 0.5 * first, r  # 25 Adam steps at least halve the first frame's loss
  assert (r["frames"], r["fps"], r["height"], r["width"]) == (12, 30.0, 48, 64)
  frames, fps, fourcc = _read_back(out)
  assert (frames, round(fps, 3)) == (12, 30.0)
  assert fourcc.lower() in ("avc1", "h264"), fourcc  # what browsers play


@pytest.mark.slow
def test_temporal_initialisation_lowers_the_warping_error(style_weights, tmp_path):
  """Same frames, same steps for the first frame: starting each frame from its warped predecessor gives a
  steadier video (Lai et al.'s warping error) than optimising every frame from itself."""
  from vidjax import weights
  from vidjax.style.gatys import Gatys, GatysSettings
  from vidjax.style.transfer import read_frames, read_image, stylise_gatys

  frames, _ = read_frames(_moving_texture(str(tmp_path / "pan.avi")), 48, 2)
  flows = flow_lib.video_flows(frames)
  gatys = Gatys(weights.load(style_weights["vgg19"]), GatysSettings(steps=30, steps_next=10))
  style = read_image(_style_image(str(tmp_path / "style.png")))
  steady, _ = stylise_gatys(frames, style, gatys, temporal=True, flows=flows)
  independent, _ = stylise_gatys(frames, style, gatys, temporal=False, flows=flows)
  e_steady, e_independent = flow_lib.warping_error(steady, flows), flow_lib.warping_error(independent, flows)
  e_input = flow_lib.warping_error(frames, flows)
  print(f"warping error: temporal {e_steady:.5f}, independent {e_independent:.5f}, input {e_input:.5f}")
  assert e_steady < 0.8 * e_independent, (e_steady, e_independent, e_input)
  assert np.abs(steady[0].astype(int) - independent[0].astype(int)).max() == 0  # the first frames are the same


def test_warping_error_is_zero_for_a_still_video_and_counts_only_consistent_pixels():
  rng = np.random.default_rng(0)
  frame = cv2.GaussianBlur(rng.integers(0, 255, (40, 56, 3), dtype=np.uint8), (5, 5), 0)
  still = [frame] * 3
  flows = flow_lib.video_flows(still)
  assert flow_lib.warping_error(still, flows) < 1e-6
  # a flow that the backward flow does not undo marks the pixels occluded
  f = np.zeros((40, 56, 2), np.float32)
  b = np.zeros_like(f)
  b[:, :28, 0] = 5.0
  mask = flow_lib.consistent(f, b)
  assert mask[:, 30:].all() and not mask[:, :20].any()


def test_cyclegan_batches_give_the_frames_one_at_a_time(style_weights, tmp_path, repo_root):
  """9 frames in batches of 4 (the last padded) equal the generator on each frame alone; the command writes them."""
  import jax

  from vidjax import weights
  from vidjax.models.cyclegan import ResnetGenerator
  from vidjax.style.transfer import read_frames, stylise_cyclegan

  src = _moving_texture(str(tmp_path / "pan clip.avi"), n=9, w=60, h=44)
  frames, fps = read_frames(src, 44, 4)
  assert frames[0].shape == (44, 60, 3) and fps == 12.0
  variables = weights.load(style_weights["cyclegan"])
  meta = weights.read_meta(style_weights["cyclegan"])
  out = stylise_cyclegan(frames, variables, meta, batch_size=4)
  single = ResnetGenerator().apply({"params": variables["params"]}, frames[8][None].astype(np.float32) / 127.5 - 1)
  want = np.clip((np.asarray(single[0]) + 1) * 127.5 + 0.5, 0, 255).astype(np.uint8)
  assert len(out) == 9 and np.abs(out[8].astype(int) - want.astype(int)).max() <= 1
  del jax
  dst = str(tmp_path / "styled.mp4")
  p = _run("vidjax.style", "--method=cyclegan", f"--generator={style_weights['cyclegan']}", f"--content={src}",
           f"--out={dst}", "--size=44", "--batch_size=4", "--strength=0.7", cwd=repo_root)
  assert p.returncode == 0, p.stderr[-2000:]
  assert _read_back(dst)[:2] == (9, 12.0)


def test_weight_import_of_style_networks_and_its_errors(tmp_path, repo_root):
  """`python -m vidjax.weights` converts VGG-19 (classifier dropped) and a CycleGAN generator; a state dict of
  the wrong network is one line."""
  vgg = dict(make_weights(vgg19_features_shapes()))
  vgg["classifier.0.weight"] = np.zeros((4, 8), np.float32)
  np.savez(tmp_path / "vgg19.npz", **vgg)
  np.savez(tmp_path / "gen.npz", **make_weights(cyclegan_shapes(ngf=8, blocks=2)))
  p = _run("vidjax.weights", "--arch=vgg19", f"--pth={tmp_path / 'vgg19.npz'}", f"--out={tmp_path / 'v'}", cwd=repo_root)
  assert p.returncode == 0 and "python -m vidjax.style --vgg=" in p.stdout, p.stderr[-1500:]
  p = _run("vidjax.weights", "--arch=cyclegan", f"--pth={tmp_path / 'gen.npz'}", f"--out={tmp_path / 'g'}", cwd=repo_root)
  assert p.returncode == 0, p.stderr[-1500:]
  assert json.load(open(tmp_path / "g" / "weights.json"))["blocks"] == 2
  p = _run("vidjax.weights", "--arch=cyclegan", f"--pth={tmp_path / 'vgg19.npz'}", f"--out={tmp_path / 'x'}",
           cwd=repo_root)
  assert p.returncode == 1 and "not an official CycleGAN ResnetGenerator state dict" in p.stderr
  assert len(p.stderr.strip().splitlines()) == 1


def test_style_command_errors_are_one_line(style_weights, tmp_path, repo_root):
  src = _moving_texture(str(tmp_path / "clip.avi"), n=4)
  text = tmp_path / "notes.mp4"
  text.write_text("not a video")
  style = _style_image(str(tmp_path / "s.png"))
  cases = [
      ([f"--content={src}", f"--style={style}", f"--vgg={tmp_path / 'nowhere'}"], "no converted vgg19 weights there"),
      ([f"--content={src}", f"--style={style}", f"--vgg={style_weights['cyclegan']}"], "holds 'cyclegan' weights"),
      ([f"--content={src}", f"--style={text}", f"--vgg={style_weights['vgg19']}"], "not an image OpenCV can read"),
      ([f"--content={text}", f"--style={style}", f"--vgg={style_weights['vgg19']}"], "cannot read the video"),
      (["--method=cyclegan", f"--content={src}"], "--generator=''"),
      ([f"--content={src}", f"--style={style}", f"--vgg={style_weights['vgg19']}", "--strength=2"], "--strength=2"),
  ]
  for args, expected in cases:
    p = _run("vidjax.style", *args, f"--out={tmp_path / 'o.mp4'}", cwd=repo_root)
    last = p.stderr.strip().splitlines()[-1]
    assert p.returncode == 1 and expected in last and last.startswith("vidjax.style: "), (args, p.stderr[-800:])
  assert not (tmp_path / "o.mp4").exists()
