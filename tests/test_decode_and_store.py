"""Decoding real encoded files, skipping corrupt ones, and the decode-once store."""

import os
import shutil

import numpy as np
import pytest

from input_pipeline import decode, store
from input_pipeline.sources import synthetic_motion as sm
from input_pipeline.sources.listing import VideoListing, VideoRecord

ODD_NAME = "v_Kick #1 & (Ball)! ñandú 踢球.avi"  # HMDB51-style names: spaces, #&()! and unicode


def _write(path, n=20, w=40, h=30, fps=12.0, fourcc="XVID"):
  frames = np.zeros((n, h, w, 3), np.uint8)
  for i in range(n):
    frames[i, :, :, 0] = min(i * 10, 250)  # blue (BGR index 0) ramps with time: order is checkable
    frames[i, 5:15, i:i + 8] = 255
  sm.write_video(str(path), frames, fps, fourcc)
  return frames


@pytest.mark.parametrize("fourcc,ext", [("XVID", ".avi"), ("MJPG", ".avi"), ("mp4v", ".mp4"), ("FFV1", ".mkv")])
def test_read_video_codecs(tmp_path, fourcc, ext):
  path = tmp_path / f"clip{ext}"
  _write(path, fourcc=fourcc)
  v = decode.read_video(str(path))
  assert v.frames.shape == (20, 30, 40, 3) and v.frames.dtype == np.uint8
  assert v.source_frames == 20 and abs(v.source_fps - 12.0) < 1e-3 and (v.width, v.height) == (40, 30)
  # Frames come out RGB: the blue ramp is now the last channel.
  ramp = v.frames[:, 20:, :, 2].mean(axis=(1, 2))
  assert np.all(np.diff(ramp) > 0)


def test_resample_fps_resize_and_cap(tmp_path):
  path = tmp_path / "c.avi"
  _write(path, n=24, w=64, h=48, fps=24.0)
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
  _write(path, n=37, w=64, h=48, fps=24.0)
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
  _write(folder / ODD_NAME)
  assert decode.read_video(str(folder / ODD_NAME)).source_frames == 20


@pytest.mark.parametrize("kind", ["empty", "text", "truncated", "missing", "dangling link"])
def test_corrupt_files_raise_naming_the_file(tmp_path, kind):
  path = tmp_path / f"bad_{kind}.avi"
  if kind == "empty":
    path.write_bytes(b"")
  elif kind == "text":
    path.write_text("this is not a video\n" * 50)
  elif kind == "truncated":
    _write(tmp_path / "good.avi", n=40)
    data = (tmp_path / "good.avi").read_bytes()
    path.write_bytes(data[:400])  # header only: no decodable frame
  elif kind == "dangling link":
    path.symlink_to(tmp_path / "moved away.avi")
  with pytest.raises(decode.VideoDecodeError, match=str(path.name)):
    decode.read_video(str(path))


def test_store_skips_and_reports_corrupt_files(tmp_path):
  root = tmp_path / "videos"
  (root / "a").mkdir(parents=True)
  (root / "b").mkdir()
  good = []
  for i in range(3):
    for cls in ("a", "b"):
      p = root / cls / f"{i} {ODD_NAME}"
      _write(p, n=18 + i)
      good.append((str(p), 0 if cls == "a" else 1))
  (root / "a" / "zero.avi").write_bytes(b"")
  (root / "b" / "text.avi").write_text("not a video")
  _write(root / "b" / "short.avi", n=5)
  bad = [str(root / "a" / "zero.avi"), str(root / "b" / "text.avi"), str(root / "b" / "short.avi")]
  train = tuple(VideoRecord(p, lab) for p, lab in good[:4]) + tuple(VideoRecord(p, 1) for p in bad)
  test = tuple(VideoRecord(p, lab) for p, lab in good[4:])
  listing = VideoListing("folder", str(root), ("a", "b"), {"train": train, "test": test})
  spec = store.StoreSpec(short_side=16, min_frames=8, workers=1)

  data = store.open_store(listing, spec, str(tmp_path / "store"))
  assert len(data.sources["train"]) == 4 and len(data.sources["test"]) == 2
  assert sorted(s["path"] for s in data.skipped["train"]) == sorted(bad)
  assert any("fewer than the 8" in s["reason"] for s in data.skipped["train"])
  assert data.class_counts["train"] == [2, 2]
  rec = data.sources["train"][0]
  n = len(rec["offsets"]) - 1
  frame = decode.decode_jpeg(rec["jpeg"][rec["offsets"][0]:rec["offsets"][1]])
  assert frame.shape == (16, 21, 3) and n >= 18
  assert data.examples["train"][0]["path"].decode().endswith(ODD_NAME)
  # The loader's lean view of each record agrees with tfds's full parse.
  for split in ("train", "test"):
    for i in range(len(data.sources[split])):
      lean, full = data.sources[split][i], data.examples[split][i]
      assert bytes(lean["jpeg"]) == full["jpeg"] and lean["label"] == full["label"]
      np.testing.assert_array_equal(lean["offsets"], full["offsets"])

  # Reopening reuses the store: the source files are no longer needed.
  shutil.rmtree(root)
  again = store.open_store(listing, spec, str(tmp_path / "store"))
  assert len(again.sources["train"]) == 4 and again.path == data.path


def test_a_build_killed_midway_leaves_nothing_behind(tmp_path, caplog):
  """tfds builds into incomplete.XXXXXX_<version>/; a kill -9 leaves it. The next build removes it, under a lock."""
  root = tmp_path / "videos"
  for cls in ("a", "b"):
    (root / cls).mkdir(parents=True)
    for i in range(2):
      _write(root / cls / f"{i}.avi")
  recs = tuple(VideoRecord(str(root / c / f"{i}.avi"), j) for j, c in enumerate("ab") for i in range(2))
  listing = VideoListing("folder", str(root), ("a", "b"), {"train": recs})
  spec = store.StoreSpec(short_side=16, min_frames=8, workers=1)
  built = store.open_store(listing, spec, str(tmp_path / "store"))
  version_dir = built.path.rstrip("/")
  config_dir, version = os.path.split(version_dir)
  shutil.rmtree(version_dir)  # as if the first build had been killed before tfds renamed its folder into place
  stale = os.path.join(config_dir, f"incomplete.K1LLED_{version}")
  os.makedirs(os.path.join(stale, "junk"))
  again = store.open_store(listing, spec, str(tmp_path / "store"))
  assert len(again.sources["train"]) == 4
  assert not os.path.exists(stale) and "left by a store build that did not finish" in caplog.text
  assert sorted(e for e in os.listdir(config_dir) if not e.startswith(".")) == sorted(["build.lock", version])


def test_store_with_no_decodable_video_says_so(tmp_path):
  (tmp_path / "x.avi").write_bytes(b"")
  listing = VideoListing("broken", str(tmp_path), ("a",), {"train": (VideoRecord(str(tmp_path / "x.avi"), 0),)})
  with pytest.raises(ValueError, match="no video of the train split could be decoded"):
    store.open_store(listing, store.StoreSpec(workers=1), str(tmp_path / "store"))


def test_parallel_decoding_matches_serial(tiny_motion_root, tmp_path):
  from input_pipeline.sources import ucf101

  listing = ucf101.list_ucf101(tiny_motion_root, 1)
  small = VideoListing(listing.name, listing.root, listing.classes,
                       {"test": listing.splits["test"][:10]})
  a = store.open_store(small, store.StoreSpec(short_side=24, workers=1), str(tmp_path / "s1"))
  b = store.open_store(small, store.StoreSpec(short_side=24, workers=2), str(tmp_path / "s2"))
  for i in range(10):
    np.testing.assert_array_equal(a.sources["test"][i]["jpeg"], b.sources["test"][i]["jpeg"])


def test_jpeg_roundtrip_is_close():
  yy, xx = np.mgrid[0:32, 0:48]
  img = np.stack([xx * 5, yy * 7, (xx + yy) * 3], -1).astype(np.uint8)  # smooth, like video frames
  back = decode.decode_jpeg(np.frombuffer(decode.encode_jpeg(img, 95), np.uint8))
  assert np.abs(back.astype(int) - img).mean() < 3


def test_store_not_built_yet_is_not_ready(tmp_path):
  from input_pipeline.sources.listing import NotReadyError

  _write(tmp_path / "a.avi")
  listing = VideoListing("x", str(tmp_path), ("a",), {"train": (VideoRecord(str(tmp_path / "a.avi"), 0),)})
  with pytest.raises(NotReadyError, match="process 0 builds it"):
    store.open_store(listing, store.StoreSpec(workers=1, min_frames=4), str(tmp_path / "store"), build=False)


def _varint(v):
  out = bytearray()
  while True:
    out.append((v & 0x7F) | (0x80 if v > 0x7F else 0))
    v >>= 7
    if not out[-1] & 0x80:
      return bytes(out)


def _field(number, payload=None, *, varint=None):
  if varint is not None:
    return _varint(number << 3) + _varint(varint)
  return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _feature(key, value):
  return _field(1, _field(1, key) + _field(2, value))


def test_lean_record_parse_reads_both_int64_encodings_and_skips_the_rest():
  from input_pipeline import records

  offsets = [0, 300, 70_000, 2**40]
  unpacked = b"".join(_field(1, varint=v) for v in offsets)
  features = (_feature(b"path", _field(1, _field(1, b"/x/a b.avi")))
              + _feature(b"offsets", _field(3, unpacked))
              + _feature(b"fps", _field(2, _field(1, b"\x00\x00\xc8\x41")))  # float_list: not a loader field
              + _feature(b"label", _field(3, _field(1, _varint(2))))  # packed
              + _feature(b"jpeg", _field(1, _field(1, b"\xff\xd8jpeg")))
              + b"\x15\x01\x02\x03\x04")  # an unknown fixed32 field
  raw = _field(1, features)
  rec = records.ClipRecords([raw], "store S")[0]
  assert bytes(rec["jpeg"]) == b"\xff\xd8jpeg" and rec["label"] == 2
  np.testing.assert_array_equal(rec["offsets"], offsets)
  with pytest.raises(records.CorruptRecordError, match=r"store S: record 0 is corrupt .*rebuild"):
    records.ClipRecords([raw[:-3]], "store S")[0]
  assert records.parse_example(raw, (b"fps",))["fps"].tolist() == [25.0]  # packed float_list (what tfds writes)
  unpacked_floats = _field(1, _feature(b"fps", _field(2, b"\x0d\x00\x00\xc8\x41\x0d\x00\x00\x20\x41")))
  assert records.parse_example(unpacked_floats, (b"fps",))["fps"].tolist() == [25.0, 10.0]
  with pytest.raises(records.CorruptRecordError, match=r"\['jpeg'\] are missing"):
    records.ClipRecords([_field(1, _feature(b"label", _field(3, _field(1, b"\x01"))) + _feature(
        b"offsets", _field(3, _field(1, b"\x00\x05"))))], "store S")[0]


def test_decode_workers_die_with_their_parent(tmp_path, repo_root):
  """The store's and the generator's worker pool: a parent killed with SIGKILL takes its workers with it."""
  import os
  import signal
  import subprocess
  import sys
  import time

  script = ("import os, time\n"
            "from input_pipeline.workers import process_pool\n"
            "def pid(_):\n"
            "  time.sleep(0.2)\n"
            "  return os.getpid()\n"
            "if __name__ == '__main__':\n"
            "  pool = process_pool(2)\n"
            "  print(' '.join(map(str, sorted(set(pool.map(pid, range(8)))))), flush=True)\n"
            "  time.sleep(120)\n")
  (tmp_path / "parent.py").write_text(script)
  parent = subprocess.Popen([sys.executable, str(tmp_path / "parent.py")], cwd=repo_root, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(repo_root)})
  pids = [int(p) for p in parent.stdout.readline().split()]
  assert pids and all(os.path.exists(f"/proc/{p}") for p in pids)
  parent.send_signal(signal.SIGKILL)
  parent.wait()
  deadline = time.time() + 10
  while time.time() < deadline and any(os.path.exists(f"/proc/{p}") for p in pids):
    time.sleep(0.1)
  alive = [p for p in pids if os.path.exists(f"/proc/{p}") and "Z" not in open(f"/proc/{p}/stat").read().split()[2]]
  assert not alive, alive
