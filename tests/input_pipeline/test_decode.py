"""input_pipeline.decode: real encoded files (written here with OpenCV) -> frames, streamed; bad files named."""



import numpy as np
import pytest

from input_pipeline import decode
from input_pipeline.sources import synthetic_motion as sm
from tests.helpers.dataset_trees import ODD_NAME, write_ramp


@pytest.mark.parametrize("fourcc,ext", [("XVID", ".avi"), ("MJPG", ".avi"), ("mp4v", ".mp4"), ("FFV1", ".mkv")])
def test_read_video_codecs(tmp_path, fourcc, ext):
  path = tmp_path / f"clip{ext}"
  write_ramp(path, fourcc=fourcc)
  v = decode.read_video(str(path))
  assert v.frames.shape == (20, 30, 40, 3) and v.frames.dtype == np.uint8
  assert v.source_frames == 20 and abs(v.source_fps - 12.0) < 1e-3 and (v.width, v.height) == (40, 30)
  # Frames come out RGB: the blue ramp is now the last channel.
  ramp = v.frames[:, 20:, :, 2].mean(axis=(1, 2))
  assert np.all(np.diff(ramp) > 0)


def test_resample_fps_resize_and_cap(tmp_path):
  path = tmp_path / "c.avi"
  write_ramp(path, n=24, w=64, h=48, fps=24.0)
  v = decode.read_video(str(path), short_side=24, fps=12.0)
  assert v.frames.shape == (12, 24, 32, 3)
  v = decode.read_video(str(path), max_frames=5)
  assert len(v.frames) == 5


def _decode_everything(path, short_side, fps, max_frames):
  """The reference: every frame decoded and kept, then chosen (what read_video did before it streamed)."""
  import cv2
  cap = cv2.VideoCapture(str(path))
  frames = []
  while (r := cap.read())[0]:
    frames.append(r[1])
  src = cap.get(cv2.CAP_PROP_FPS)
  keep = np.arange(len(frames))
  if fps > 0 and abs(fps - src) > 1e-3:
    keep = np.minimum(np.round(np.arange(max(1, round(len(frames) * fps / src))) * src / fps).astype(int), len(frames) - 1)
  if max_frames > 0 and len(keep) > max_frames:
    keep = keep[np.linspace(0, len(keep) - 1, max_frames).round().astype(int)]
  return np.stack([cv2.cvtColor(decode.resize_short_side(frames[i], short_side), cv2.COLOR_BGR2RGB) for i in keep])


@pytest.mark.parametrize("short_side,fps,max_frames", [(0, 0, 0), (24, 12.0, 0), (0, 0, 7), (24, 30.0, 16), (16, 5.0, 3)])
def test_streaming_decode_keeps_exactly_the_frames_of_decoding_everything(tmp_path, short_side, fps, max_frames):
  path = tmp_path / "c.avi"
  write_ramp(path, n=37, w=64, h=48, fps=24.0)
  got = decode.read_video(str(path), short_side=short_side, fps=fps, max_frames=max_frames)
  np.testing.assert_array_equal(got.frames, _decode_everything(path, short_side, fps, max_frames))
  assert got.source_frames == 37 and (got.width, got.height) == (64, 48)
  # A file cut short still claims 37 frames in its header: the plan is redone from the frames really there.
  cut = tmp_path / "cut.avi"
  cut.write_bytes(path.read_bytes()[: len(path.read_bytes()) * 2 // 3])
  got = decode.read_video(str(cut), short_side=short_side, fps=fps, max_frames=max_frames)
  want = _decode_everything(cut, short_side, fps, max_frames)
  assert got.source_frames < 37
  np.testing.assert_array_equal(got.frames, want)


def test_decoding_a_long_high_resolution_video_holds_only_the_output(tmp_path):
  """150 frames of 1080p are 930 MB raw; the store's decode keeps one source frame and the small JPEGs."""
  import subprocess
  import sys
  path = tmp_path / "long 1080p.avi"
  frame = np.random.default_rng(0).integers(0, 255, (1080 // 8, 1920 // 8, 3), np.uint8).repeat(8, 0).repeat(8, 1)
  frames = np.broadcast_to(frame, (150, 1080, 1920, 3))
  sm.write_video(str(path), frames, 30.0, "MJPG")
  probe = (
      "import resource, sys; from input_pipeline import store\n"
      "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
      "path, ex, why = store.encode_example((sys.argv[1], 0, store.StoreSpec()))\n"
      "assert ex is not None, why\n"
      "print(len(ex['offsets']) - 1, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)\n")
  out = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True, check=True)
  stored, grew_mb = map(int, out.stdout.split())
  assert stored == 150
  assert grew_mb < 250, f"decoding grew the process by {grew_mb} MB"


def test_odd_path_names(tmp_path):
  folder = tmp_path / "dir with spaces #&()!" / "ñ"
  folder.mkdir(parents=True)
  write_ramp(folder / ODD_NAME)
  assert decode.read_video(str(folder / ODD_NAME)).source_frames == 20


@pytest.mark.parametrize("kind", ["empty", "text", "truncated", "missing", "dangling link"])
def test_corrupt_files_raise_naming_the_file(tmp_path, kind):
  path = tmp_path / f"bad_{kind}.avi"
  if kind == "empty":
    path.write_bytes(b"")
  elif kind == "text":
    path.write_text("this is not a video\n" * 50)
  elif kind == "truncated":
    write_ramp(tmp_path / "good.avi", n=40)
    data = (tmp_path / "good.avi").read_bytes()
    path.write_bytes(data[:400])  # header only: no decodable frame
  elif kind == "dangling link":
    path.symlink_to(tmp_path / "moved away.avi")
  with pytest.raises(decode.VideoDecodeError, match=str(path.name)):
    decode.read_video(str(path))


def test_jpeg_roundtrip_is_close():
  yy, xx = np.mgrid[0:32, 0:48]
  img = np.stack([xx * 5, yy * 7, (xx + yy) * 3], -1).astype(np.uint8)  # smooth, like video frames
  back = decode.decode_jpeg(np.frombuffer(decode.encode_jpeg(img, 95), np.uint8))
  assert np.abs(back.astype(int) - img).mean() < 3

