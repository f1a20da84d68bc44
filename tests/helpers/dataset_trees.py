"""Writers of small dataset trees in the official layouts, with real encoded videos."""

import os
import subprocess

import numpy as np

from input_pipeline.sources import synthetic_motion as sm


def write_clip(path: str, n: int = 20, w: int = 48, h: int = 36, fourcc: str = "XVID", seed: int = 0) -> None:
  """A square that moves right: real content, any size/codec/length."""
  rng = np.random.default_rng(seed)
  frames = np.empty((n, h, w, 3), np.uint8)
  frames[:] = rng.integers(40, 200, 3)
  for i in range(n):
    x = int(i * (w - 10) / max(n - 1, 1))
    frames[i, h // 3:h // 3 + 10, x:x + 10] = 255
  os.makedirs(os.path.dirname(path), exist_ok=True)
  sm.write_video(path, frames, 15.0, fourcc)


def write_camera_mp4(path: str, n: int = 30, w: int = 64, h: int = 48, fps: float = 30.0, seed: int = 0) -> None:
  """An H.264 .mp4 as phones write them (yuv420p, High profile with B-frames, an AAC audio track), through the
  ffmpeg binary imageio-ffmpeg ships: OpenCV here cannot encode H.264."""
  import imageio_ffmpeg

  rng = np.random.default_rng(seed)
  frames = np.empty((n, h, w, 3), np.uint8)
  frames[:] = rng.integers(40, 200, 3)
  for i in range(n):
    y = int(i * (h - 10) / max(n - 1, 1))
    frames[i, y:y + 10, w // 3:w // 3 + 10] = 255
  cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
         "-r", str(fps), "-i", "-", "-f", "lavfi", "-i", f"sine=frequency=440:duration={n / fps}",
         "-c:v", "libx264", "-profile:v", "high", "-bf", "2", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", path]
  subprocess.run(cmd, input=frames.tobytes(), check=True, capture_output=True, timeout=60)


UCF_CLASSES = ["ApplyEyeMakeup", "Archery", "HandstandPushups"]  # folder spelling of the last one


def write_ucf101(root: str) -> None:
  """3 classes x 3 groups x 2 clips; the lists say `HandStandPushups` as the real UCF101 lists do."""
  os.makedirs(os.path.join(root, "ucfTrainTestlist"))
  listed = ["ApplyEyeMakeup", "Archery", "HandStandPushups"]
  train, test = [], []
  for i, (folder, name) in enumerate(zip(UCF_CLASSES, listed, strict=True)):
    for g in (1, 2, 3):
      for c in (1, 2):
        rel = f"{name}/v_{name}_g{g:02d}_c{c:02d}.avi"
        write_clip(os.path.join(root, folder, f"v_{name}_g{g:02d}_c{c:02d}.avi"), seed=i * 10 + g)
        (test if g == 1 else train).append((rel, i + 1))
  lists = os.path.join(root, "ucfTrainTestlist")
  with open(os.path.join(lists, "classInd.txt"), "w") as f:
    f.writelines(f"{i + 1} {n}\n" for i, n in enumerate(listed))
  with open(os.path.join(lists, "trainlist01.txt"), "w") as f:
    f.writelines(f"{rel} {lab}\n" for rel, lab in train)
  with open(os.path.join(lists, "testlist01.txt"), "w") as f:
    f.writelines(f"{rel}\n" for rel, _ in test)


HMDB_NAMES = {
    "brush_hair": ["Brushing_Hair_#1_brush_hair_h_nm_np1_ba_goo_0.avi", "Aussie_(hair)!_brush_hair_u_cm_np1_fr_med_1.avi",
                   "ñandú_brush_hair_f_nm_np1_le_goo_2.avi", "x & y_brush_hair_h_nm_np1_ri_goo_3.avi"],
    "kick_ball": ["Kick_Ball_kick_ball_f_cm_np1_ba_bad_0.avi", "Fußball_kick_ball_f_cm_np1_fr_med_1.avi",
                  "Goal!!_kick_ball_f_nm_np1_le_goo_2.avi", "kick (slow)_kick_ball_f_nm_np1_ri_goo_3.avi"],
}
HMDB_TAGS = [1, 1, 2, 0]  # train, train, test, unused


def write_hmdb51(root: str) -> None:
  splits = os.path.join(root, "testTrainMulti_7030_splits")
  os.makedirs(splits)
  for i, (cls, names) in enumerate(HMDB_NAMES.items()):
    for j, name in enumerate(names):
      write_clip(os.path.join(root, cls, name), w=40, h=30, seed=i * 10 + j)
    for s in (1, 2, 3):
      with open(os.path.join(splits, f"{cls}_test_split{s}.txt"), "w", encoding="utf-8") as f:
        f.writelines(f"{name} {tag} \n" for name, tag in zip(names, HMDB_TAGS, strict=True))


def write_video_folder(root: str) -> dict[str, str]:
  """Two classes of mixed codecs/containers/sizes, plus broken files; returns {name: why broken}."""
  kinds = [("XVID", ".avi", 48, 36), ("mp4v", ".mp4", 37, 29), ("FFV1", ".mkv", 64, 48), ("MJPG", ".avi", 30, 40)]
  for c, cls in enumerate(("cats", "dogs")):
    for k, (fourcc, ext, w, h) in enumerate(kinds * 2):
      write_clip(os.path.join(root, cls, f"{cls} {k}{ext}"), w=w, h=h, fourcc=fourcc, seed=c * 10 + k)
  broken = {"cats/zero.avi": "empty file", "dogs/not a video.avi": "cannot open", "dogs/short.mp4": "fewer than"}
  open(os.path.join(root, "cats", "zero.avi"), "wb").close()
  with open(os.path.join(root, "dogs", "not a video.avi"), "w") as f:
    f.write("plain text, not a video\n" * 20)
  write_clip(os.path.join(root, "dogs", "short.mp4"), n=3, fourcc="mp4v")
  with open(os.path.join(root, "cats", "notes.txt"), "w") as f:
    f.write("ignored: not a video extension")
  return broken


ODD_NAME = "v_Kick #1 & (Ball)! ñandú 踢球.avi"  # HMDB51-style names: spaces, #&()! and unicode


def write_ramp(path, n=20, w=40, h=30, fps=12.0, fourcc="XVID"):
  """A video whose blue channel ramps with time (so order is checkable) and a bar moving right; returns its frames."""
  frames = np.zeros((n, h, w, 3), np.uint8)
  for i in range(n):
    frames[i, :, :, 0] = min(i * 10, 250)  # blue (BGR index 0)
    frames[i, 5:15, i:i + 8] = 255
  sm.write_video(str(path), frames, fps, fourcc)
  return frames


def jpeg_record(frames, label=3):
  """A frame store's record ({"jpeg", "offsets", "label"}) of these frames, as the store writes it."""
  from input_pipeline import decode

  blobs = [decode.encode_jpeg(f, 95) for f in frames]
  return {"jpeg": np.frombuffer(b"".join(blobs), np.uint8),
          "offsets": np.cumsum([0] + [len(b) for b in blobs]).astype(np.int64), "label": label}
