"""Decoding real encoded files, skipping corrupt ones, and the decode-once store."""

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


def test_odd_path_names(tmp_path):
  folder = tmp_path / "dir with spaces #&()!" / "ñ"
  folder.mkdir(parents=True)
  _write(folder / ODD_NAME)
  assert decode.read_video(str(folder / ODD_NAME)).source_frames == 20


@pytest.mark.parametrize("kind", ["empty", "text", "truncated", "missing"])
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
              + _feature(b"fps", _field(2, _field(1, b"\x00\x00\xc8\x41")))  # float_list: skipped
              + _feature(b"label", _field(3, _field(1, _varint(2))))  # packed
              + _feature(b"jpeg", _field(1, _field(1, b"\xff\xd8jpeg")))
              + b"\x15\x01\x02\x03\x04")  # an unknown fixed32 field
  raw = _field(1, features)
  rec = records.ClipRecords([raw], "store S")[0]
  assert bytes(rec["jpeg"]) == b"\xff\xd8jpeg" and rec["label"] == 2
  np.testing.assert_array_equal(rec["offsets"], offsets)
  with pytest.raises(records.CorruptRecordError, match=r"store S: record 0 is corrupt .*rebuild"):
    records.ClipRecords([raw[:-3]], "store S")[0]
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
