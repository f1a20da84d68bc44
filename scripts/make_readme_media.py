"""Makes the README's style-transfer pictures by running the commands a user runs, with RANDOM weights
(tests/golden_weights.py; no real VGG-19 or CycleGAN weights can be downloaded here):

  docs/style/frames.png  one source frame of a synthetic_motion clip beside the same frame from
                         `python -m vidjax.style` (Gatys) and `python -m vidjax.style --method=cyclegan`
  docs/style/page.png    the web page (`python -m vidjax.web`) in headless Chromium after a CycleGAN job

  bash scripts/setup.sh --dev && .venv/bin/python scripts/make_readme_media.py [--workdir=runs/csn]

--workdir (a trained run) lets the page offer classification too. Needs Debian's chromium and chromium-driver.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def style_image(path: str) -> None:
  """A drawn stand-in for a painting: bands of colour and rings (no artwork ships with vidjax)."""
  y, x = np.mgrid[0:256, 0:256].astype(np.float32)
  r = np.hypot(x - 90, y - 150)
  img = np.stack([127 + 127 * np.sin(r / 9), 127 + 127 * np.sin(x / 17 + y / 31), 127 + 127 * np.cos(r / 23)], -1)
  cv2.imwrite(path, img.astype(np.uint8)[..., ::-1])


def run(*args: str) -> None:
  print("$ python " + " ".join(args), flush=True)
  subprocess.run([sys.executable, *args], cwd=ROOT, check=True, env={**os.environ, "PYTHONPATH": ROOT})


def frame(path: str, index: int) -> np.ndarray:
  cap = cv2.VideoCapture(path)
  cap.set(cv2.CAP_PROP_POS_FRAMES, index)
  ok, bgr = cap.read()
  cap.release()
  assert ok, path
  return bgr


def main() -> None:
  ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  ap.add_argument("--workdir", default="", help="a trained run for the page's classification")
  ap.add_argument("--out", default=os.path.join(ROOT, "docs", "style"))
  a = ap.parse_args()
  from input_pipeline.sources import synthetic_motion as sm
  from tests.helpers.golden_weights import save_random_style_weights
  from vidjax import video_writer

  os.makedirs(a.out, exist_ok=True)
  tmp = tempfile.mkdtemp(prefix="vidjax-media-")
  try:
    w = save_random_style_weights(tmp)
    spec = sm.GenerationSpec(sizes=((160, 120),), min_frames=32, max_frames=32)
    frames, fps = sm.render_video(0, sm.CLASSES.index("RotateCW"), 3, 0, spec)
    clip = video_writer.write_video(os.path.join(tmp, "rotate cw.mp4"), frames[..., ::-1], fps)  # BGR -> RGB
    styles = os.path.join(tmp, "styles")
    os.makedirs(styles)
    style_image(os.path.join(styles, "bands and rings.png"))
    gatys, cyclegan = os.path.join(tmp, "gatys.mp4"), os.path.join(tmp, "cyclegan.mp4")
    run("-m", "vidjax.style", f"--content={clip}", f"--style={styles}/bands and rings.png", f"--vgg={w['vgg19']}",
        f"--out={gatys}", "--size=120")
    run("-m", "vidjax.style", "--method=cyclegan", f"--generator={w['cyclegan']}", f"--content={clip}",
        f"--out={cyclegan}", "--size=120")
    t = 16
    tiles = [frame(clip, t), frame(gatys, t), frame(cyclegan, t)]
    tiles = [cv2.resize(f, (320, 240), interpolation=cv2.INTER_NEAREST) for f in tiles]
    labels = ["source (synthetic_motion)", "Gatys, random VGG-19", "CycleGAN, random generator"]
    for f, label in zip(tiles, labels, strict=True):
      cv2.rectangle(f, (0, 0), (320, 22), (255, 255, 255), -1)
      cv2.putText(f, label, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (20, 20, 20), 1, cv2.LINE_AA)
    cv2.imwrite(os.path.join(a.out, "frames.png"), np.concatenate(tiles, 1))

    gens = os.path.join(tmp, "generators")
    os.makedirs(gens)
    shutil.move(w["cyclegan"], os.path.join(gens, "random_test_generator"))
    with socket.socket() as s:
      s.bind(("127.0.0.1", 0))
      port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "vidjax.web", f"--port={port}", f"--generators={gens}", f"--vgg={w['vgg19']}",
           f"--styles={styles}"] + ([f"--workdir={a.workdir}"] if a.workdir else [])
    print("$ python " + " ".join(cmd[1:]), flush=True)
    server = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT}, stdout=subprocess.PIPE, text=True)
    from selenium import webdriver
    from selenium.webdriver.common.by import By

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--window-size=900,1220", "--hide-scrollbars"):
      options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(shutil.which("chromedriver")))
    try:
      server.stdout.readline()
      driver.get(f"http://127.0.0.1:{port}/")
      time.sleep(1)
      driver.find_element(By.ID, "video").send_keys(clip)
      driver.find_element(By.ID, "task-stylise").click()
      driver.find_element(By.ID, "go").click()
      end = time.time() + 300
      while not driver.find_element(By.ID, "styled").is_displayed() and time.time() < end:
        time.sleep(0.5)
      driver.execute_script("const v = document.getElementById('preview'); v.pause(); v.currentTime = 0.5;")
      time.sleep(1)
      driver.save_screenshot(os.path.join(a.out, "page.png"))
    finally:
      driver.quit()
      server.terminate()
      server.wait(timeout=20)
    print(f"Wrote {a.out}/frames.png and {a.out}/page.png", flush=True)
  finally:
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
  main()
