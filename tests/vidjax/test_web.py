"""The web page (vidjax.web): its checks through Flask's test client, and the whole page in a real headless
Chromium (Debian's chromium + chromium-driver, driven by Selenium): upload, classify, stylise, preview, download,
and the message for a file that is not a video."""

import io
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.helpers.dataset_trees import write_camera_mp4
from tests.helpers.golden_weights import save_random_style_weights
from tests.helpers.runs import free_port
from vidjax.web.app import WebSettings, create_app


@pytest.fixture
def client(tmp_path):
  app, runner = create_app(WebSettings(workdir="", vgg=str(tmp_path / "no-vgg"), styles=str(tmp_path / "no-styles"),
                                       generators=str(tmp_path / "no-gen"), max_upload_mb=1,
                                       temp_root=str(tmp_path)))
  yield app.test_client(), runner
  runner.close()
  assert not os.path.exists(runner.root)  # closing removes every upload and output


def _post(client, name: str, data: bytes, headers: dict | None = None, **form):
  """An upload as the page itself sends it (Flask's test client names the server http://localhost)."""
  return client.post("/api/jobs", data={"video": (io.BytesIO(data), name), **form}, content_type="multipart/form-data",
                     headers={"Origin": "http://localhost", **(headers or {})})


def test_status_says_what_is_missing_and_how_to_make_it(client):
  c, _ = client
  caps = c.get("/api/status").get_json()
  assert not caps["classify"]["ok"] and "--workdir=RUN" in caps["classify"]["why"]
  assert "python -m vidjax.weights --arch vgg19" in caps["gatys"]["why"]
  assert "python -m vidjax.weights --arch cyclegan" in caps["cyclegan"]["why"]
  assert caps["max_upload_mb"] == 1 and ".mp4" in caps["video_types"]


def test_uploads_are_checked_before_any_work(client, tmp_path):
  c, runner = client
  r = _post(c, "notes.txt", b"hello", task="classify")
  assert r.status_code == 400 and "not one of the accepted types" in r.get_json()["error"]
  r = _post(c, "clip.mp4", b"x" * (3 * 2**20), task="classify")  # over the 1 MB limit
  assert r.status_code == 413 and "larger than 1 MB" in r.get_json()["error"]
  r = _post(c, "clip.mp4", b"not a video", task="classify")
  assert r.status_code == 400 and "--workdir" in r.get_json()["error"]  # nothing to classify with: said first
  r = _post(c, "clip.mp4", b"not a video", task="stylise", method="cyclegan")
  assert r.status_code == 400 and "No converted CycleGAN generator" in r.get_json()["error"]
  assert os.listdir(runner.root) == []  # nothing refused stays on disk


def test_only_the_page_and_job_files_are_served(client, tmp_path):
  c, _ = client
  secret = tmp_path / "secret.txt"
  secret.write_text("private")
  assert c.get("/").status_code == 200 and b"vidjax" in c.get("/").data
  assert c.get("/page.js").status_code == 200 and c.get("/page.css").status_code == 200
  for url in ("/static/page.js", f"/{secret}", "/api/jobs/../../etc/passwd", "/api/jobs/%2e%2e%2fsecret.txt/video",
              "/api/jobs/0123456789abcdef/download", "/vidjax/web/app.py", "/page.html"):
    r = c.get(url)
    # f"/{secret}" starts "//": a URL naming another host, refused as such (421)
    assert r.status_code == (421 if url.startswith("//") else 404) and b"private" not in r.data, url
  assert c.get("/").headers["X-Content-Type-Options"] == "nosniff"


def test_other_sites_cannot_drive_or_read_the_page(client):
  """A page on another site posts to the server (cross-site request), or reaches 127.0.0.1 under its own name
  (DNS rebinding) to read the status and results: refused, and nothing is stored."""
  c, runner = client
  cross_site = [{"Origin": "http://evil.example"}, {"Origin": "null"}, {"Origin": "http://localhost.evil.example"},
                {"Origin": "", "Referer": "http://evil.example/page"}, {"Origin": ""}]
  for headers in cross_site:
    r = _post(c, "clip.mp4", b"not a video", headers=headers, task="classify")
    assert r.status_code == 403 and "only from this page itself" in r.get_json()["error"], headers
  r = _post(c, "clip.mp4", b"not a video", headers={"Origin": "http://evil.example", "Host": "evil.example"},
            task="classify")
  assert r.status_code == 421 and "answers only at http://127.0.0.1" in r.get_json()["error"]
  for url in ("/api/status", "/", "/api/jobs/0123456789abcdef"):
    r = c.get(url, headers={"Host": "evil.example"})
    assert r.status_code == 421 and b"classify" not in r.data, url
  # the page's own request, by Origin or (without one) by Referer, reaches the upload checks
  assert _post(c, "clip.mp4", b"x", headers={"Origin": "", "Referer": "http://localhost/"},
               task="classify").status_code == 400
  assert os.listdir(runner.root) == []


def test_a_served_port_must_be_named(tmp_path):
  app, runner = create_app(WebSettings(port=8765, temp_root=str(tmp_path)))
  try:
    c = app.test_client()
    assert c.get("/api/status", headers={"Host": "127.0.0.1:8765"}).status_code == 200
    assert c.get("/api/status", headers={"Host": "localhost:8765"}).status_code == 200
    assert c.get("/api/status", headers={"Host": "127.0.0.1:9999"}).status_code == 421
    assert c.get("/api/status", headers={"Host": "127.0.0.1"}).status_code == 421
    r = c.post("/api/jobs", headers={"Host": "127.0.0.1:8765", "Origin": "http://127.0.0.1:9999"})
    assert r.status_code == 403
  finally:
    runner.close()


@pytest.mark.parametrize("damage,why", [
    ("no checkpoints", "has no checkpoint yet"),
    ("broken config.json", "its config.json is missing or unreadable"),
    ("best never recorded", "recorded no best checkpoint"),
])
def test_a_run_that_cannot_classify_is_not_offered(tmp_path, damage, why):
  run = tmp_path / "my run"
  (run / "checkpoints" / "6").mkdir(parents=True)
  (run / "config.json").write_text('{"model": {"name": "csn"}}')
  checkpoint = "latest"
  if damage == "no checkpoints":
    shutil.rmtree(run / "checkpoints")
  elif damage == "broken config.json":
    (run / "config.json").write_text('{"model": ')
  else:
    checkpoint = "best"
  app, runner = create_app(WebSettings(workdir=str(run), checkpoint=checkpoint, temp_root=str(tmp_path)))
  try:
    c = app.test_client()
    caps = c.get("/api/status").get_json()["classify"]
    assert not caps["ok"] and why in caps["why"] and str(tmp_path) not in caps["why"], caps
    write_camera_mp4(str(tmp_path / "c.mp4"))
    r = _post(c, "clip.mp4", (tmp_path / "c.mp4").read_bytes(), task="classify")
    assert r.status_code == 400 and why in r.get_json()["error"]  # refused before the upload is kept
    assert os.listdir(runner.root) == []
  finally:
    runner.close()


def test_job_errors_show_no_server_path(tmp_path):
  """Whatever a job's error says, the page shows the upload's name and no absolute path of the server."""
  from vidjax.web.jobs import JobRunner

  workdir = str(tmp_path / "runs" / "csn")

  def fail(job, report):
    raise FileNotFoundError(f"{job.input} and {workdir}/checkpoints/6 and /etc/vidjax/secret.json: gone")

  runner = JobRunner(fail, root=str(tmp_path), hidden={workdir: "csn"})
  try:
    job = runner.submit("classify", "holiday clip.mp4", runner.new_path(".mp4"), {})
    _wait_for(lambda: job.state == "error", 10, "the job to fail")
    assert job.message == "holiday clip.mp4 and csn/checkpoints/6 and secret.json: gone", job.message
    assert str(tmp_path) not in job.public()["message"]
  finally:
    runner.close()


def _wait_for(check, timeout: float, what: str):
  end = time.time() + timeout
  while time.time() < end:
    value = check()
    if value:
      return value
    time.sleep(0.2)
  raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_page_in_a_real_browser_classifies_stylises_downloads_and_refuses_a_text_file(tiny_config, tmp_path,
                                                                                       repo_root):
  if not (shutil.which("chromium") and shutil.which("chromedriver")):
    pytest.fail("Chromium is missing: the test command (scripts/test.sh) installs Debian's chromium and "
                "chromium-driver")
  from selenium import webdriver
  from selenium.webdriver.common.by import By
  from selenium.webdriver.support.ui import Select

  from vidjax import train

  workdir = tmp_path / "run"
  train.train_and_evaluate(tiny_config, str(workdir))
  w = save_random_style_weights(str(tmp_path / "weights"))
  generators = tmp_path / "generators"
  generators.mkdir()
  shutil.move(w["cyclegan"], generators / "random_ukiyoe")
  uploads = tmp_path / "upload dir #&()! ü"
  uploads.mkdir()
  video = uploads / "my phone clip.mp4"
  write_camera_mp4(str(video), n=16, w=64, h=48, fps=24.0)
  fake = uploads / "notes.mp4"
  fake.write_text("this is text, not a video")
  downloads = tmp_path / "downloads"
  downloads.mkdir()
  temp_root = tmp_path / "server tmp"
  temp_root.mkdir()

  port = free_port()
  env = {**os.environ, "PYTHONPATH": str(repo_root), "TMPDIR": str(temp_root)}
  server = subprocess.Popen([sys.executable, "-m", "vidjax.web", f"--port={port}", f"--workdir={workdir}",
                             f"--generators={generators}", f"--vgg={w['vgg19']}", f"--styles={tmp_path / 'none'}"],
                            cwd=repo_root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
  options = webdriver.ChromeOptions()
  options.binary_location = shutil.which("chromium")
  for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1000,1200"):
    options.add_argument(arg)
  options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                            "download.prompt_for_download": False})
  driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(shutil.which("chromedriver")))
  try:
    assert server.stdout.readline().startswith(f"Serving vidjax on http://127.0.0.1:{port}")
    driver.get(f"http://127.0.0.1:{port}/")
    find = lambda i: driver.find_element(By.ID, i)
    _wait_for(lambda: "200 MB" in find("limits").text, 20, "the limits")
    assert "run" in find("classify-detail").text

    # classify: top-5 from the trained run
    find("video").send_keys(str(video))
    find("go").click()
    _wait_for(lambda: find("top5").is_displayed(), 240, "the top-5 table")
    rows = driver.find_elements(By.CSS_SELECTOR, "#top5 tbody tr")
    probs = [float(r.find_elements(By.TAG_NAME, "td")[2].text) for r in rows]
    assert len(rows) == 5 and probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0001

    # stylise with the CycleGAN generator: progress, a preview that plays, a download
    find("task-stylise").click()
    assert find("missing").text == ""
    Select(find("method")).select_by_value("gatys")
    assert "No style images" in find("missing").text and not find("go").is_enabled()  # Gatys says what it lacks
    Select(find("method")).select_by_value("cyclegan")
    Select(find("generator")).select_by_value("random_ukiyoe")
    assert find("generator-row").is_displayed() and not find("style-row").is_displayed()
    find("go").click()
    _wait_for(lambda: find("styled").is_displayed(), 240, "the stylised result")
    assert "16 frames at 24.00 fps" in find("styled-facts").text
    playing = _wait_for(lambda: driver.execute_script(
        "const v = document.getElementById('preview'); return v.readyState >= 2 && v.videoWidth > 0 ? "
        "[v.videoWidth, v.videoHeight, v.duration] : null"), 30, "the preview to load")
    assert playing[0] > 0 and abs(playing[2] - 16 / 24) < 0.1, playing
    find("download").click()
    path = _wait_for(lambda: [p for p in downloads.iterdir() if p.suffix == ".mp4"], 30, "the download")[0]
    assert path.name == "my_phone_clip_cyclegan.mp4"
    from input_pipeline import decode
    assert len(decode.read_video(str(path)).frames) == 16

    # a text file named .mp4: a message on the page, and the page still works
    find("task-classify").click()
    find("video").send_keys(str(fake))
    find("go").click()
    message = _wait_for(lambda: find("message").is_displayed() and find("message").text, 30, "the error message")
    assert "notes.mp4 is not a video this page can read" in message
    job_dir = [d for d in temp_root.iterdir() if d.name.startswith("vidjax-web-")]
    assert len(job_dir) == 1
    leftovers = sorted(p.name for p in job_dir[0].iterdir())
    assert len(leftovers) == 1 and leftovers[0].endswith("-out.mp4")  # uploads gone; the output kept for download
    assert np.all([" " not in n and "phone" not in n for n in leftovers])  # names the server made up
  finally:
    driver.quit()
    server.terminate()
    server.wait(timeout=20)
  assert server.returncode is not None
  assert not any(d.name.startswith("vidjax-web-") for d in temp_root.iterdir())  # removed on shutdown
