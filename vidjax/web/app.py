"""The page's routes (Flask; ARCHITECTURE.md says why) and the checks every upload passes before any work.

Routes: `/` the page, `/page.js` and `/page.css` its two files, `/api/status` what can be done, `POST /api/jobs` an
upload, `/api/jobs/<id>` a job's progress, `/api/jobs/<id>/video` (inline, for the preview) and `/download` (as an
attachment). Nothing else is served: no static folder, and files are found through the job, never from the URL.

Other websites the user visits cannot drive it: every request must name this server's own address in its Host
header (which defeats DNS rebinding: a page of another site reaching 127.0.0.1 under its own name), and every
upload must come from this page, as its Origin (or, without one, its Referer) shows.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
from collections.abc import Callable

import cv2
import flask
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.utils import secure_filename

from vidjax.web.jobs import Job, JobRunner

HERE = os.path.dirname(os.path.abspath(__file__))
VIDEO_TYPES = (".mp4", ".avi", ".mov", ".mpeg", ".mpg", ".m4v", ".mkv", ".webm")
IMAGE_TYPES = (".png", ".jpg", ".jpeg")


@dataclasses.dataclass(frozen=True)
class WebSettings:
  """Every flag of `python -m vidjax.web`."""

  workdir: str = ""  # a trained run to classify with
  checkpoint: str = "latest"
  vgg: str = "weights/vgg19"  # converted VGG-19 (Gatys)
  styles: str = "styles"  # style images (PNG/JPEG) for Gatys
  generators: str = "weights/cyclegan"  # converted CycleGAN generators, one folder each (or one generator)
  max_upload_mb: int = 200
  max_frames: int = 750  # longest video it stylises (30 s at 25 fps)
  temp_root: str | None = None  # where the job folder is made (default: the system's temporary folder)
  port: int = 0  # the port it serves on, which requests must name (0: any, for Flask's test client)


def _weights_arch(path: str) -> str:
  """The arch of converted weights in `path`, or "" when there are none (the page then says how to make them)."""
  from vidjax import weights

  try:
    return str(weights.read_meta(path).get("arch", ""))
  except (OSError, ValueError):
    return ""


def capabilities(s: WebSettings) -> dict:
  """What the page offers now, and for what it lacks, the one thing to do (re-read on every page load)."""
  out: dict = {"max_upload_mb": s.max_upload_mb, "max_frames": s.max_frames, "video_types": list(VIDEO_TYPES)}
  if not s.workdir:
    out["classify"] = {"ok": False, "why": "No trained run: start the page with --workdir=RUN (a folder main.py "
                                         "trained) to classify videos."}
  else:
    problem = _run_problem(s.workdir, s.checkpoint)
    out["classify"] = ({"ok": False, "why": problem} if problem
                       else {"ok": True, "run": os.path.basename(os.path.abspath(s.workdir))})
  styles = sorted(f for f in os.listdir(s.styles) if f.lower().endswith(IMAGE_TYPES)) if os.path.isdir(s.styles) else []
  if _weights_arch(s.vgg) != "vgg19":
    why = (f"VGG-19 weights are not converted yet ({s.vgg}): download torchvision's vgg19-dcbb9e9d.pth and run "
           f"python -m vidjax.weights --arch vgg19 --pth vgg19-dcbb9e9d.pth --out {s.vgg}")
    out["gatys"] = {"ok": False, "why": why, "styles": styles}
  elif not styles:
    out["gatys"] = {"ok": False, "why": f"No style images in {os.path.abspath(s.styles)}: put PNG or JPEG files there "
                                        "(or start the page with --styles=DIR).", "styles": []}
  else:
    out["gatys"] = {"ok": True, "styles": styles}
  generators = _generators(s.generators)
  if generators:
    out["cyclegan"] = {"ok": True, "generators": sorted(generators)}
  else:
    out["cyclegan"] = {"ok": False, "generators": [], "why": (
        f"No converted CycleGAN generator in {s.generators}: download an official one (e.g. style_ukiyoe.pth) and run "
        f"python -m vidjax.weights --arch cyclegan --pth style_ukiyoe.pth --out {s.generators}/ukiyoe")}
  return out


def _run_problem(workdir: str, checkpoint: str) -> str:
  """Why the run in `workdir` cannot classify (its config unreadable, no such checkpoint), or "" when it can."""
  from vidjax import config as config_lib

  name = os.path.basename(os.path.abspath(workdir))
  try:
    config_lib.read_run_config(workdir)
  except (OSError, ValueError):
    return (f"The run {name} cannot classify: its config.json is missing or unreadable. Start the page with "
            "--workdir= a folder main.py trained.")
  ckpt = os.path.join(workdir, "checkpoints")
  steps = sorted(int(d) for d in os.listdir(ckpt) if d.isdigit()) if os.path.isdir(ckpt) else []
  if not steps:
    return f"The run {name} has no checkpoint yet: train it (python main.py --workdir=...) before classifying."
  if checkpoint == "best" and not os.path.isfile(os.path.join(workdir, "best_checkpoint.json")):
    return f"The run {name} recorded no best checkpoint: start the page with --checkpoint=latest."
  if checkpoint.isdigit() and int(checkpoint) not in steps:
    return f"The run {name} has no checkpoint at step {checkpoint}; it has {steps}."
  return ""


def allowed_hosts(port: int) -> set[str]:
  """The Host headers that name this server: loopback, by address or as localhost, at its port (any port: 0)."""
  names = ("127.0.0.1", "localhost", "[::1]")
  return {f"{n}:{port}" for n in names} if port else set(names)


def _origin_of(url: str) -> str:
  """scheme://host[:port] of a URL, or "" for anything else."""
  scheme, sep, rest = url.partition("://")
  return f"{scheme.lower()}://{rest.split('/', 1)[0].lower()}" if sep and rest else ""


def _generators(path: str) -> dict[str, str]:
  """name -> folder of each converted generator: `path` itself, or its sub-folders."""
  if _weights_arch(path) == "cyclegan":
    return {os.path.basename(os.path.abspath(path)): path}
  if not os.path.isdir(path):
    return {}
  return {d: os.path.join(path, d) for d in os.listdir(path) if _weights_arch(os.path.join(path, d)) == "cyclegan"}


def _probe(path: str, name: str, max_frames: int, stylise: bool) -> None:
  """One decoded frame, or a ValueError the page shows; a header that counts too many frames is refused early."""
  cap = cv2.VideoCapture(path)
  try:
    ok = cap.isOpened() and cap.read()[0]
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
  finally:
    cap.release()
  if not ok:
    raise ValueError(f"{name} is not a video this page can read (no frame could be decoded). Upload an MP4, AVI, "
                     "MOV, MPEG, MKV or WebM file.")
  if stylise and count > max_frames:
    raise ValueError(f"{name} has {count} frames; the page stylises at most {max_frames}. Trim it first, or use "
                     "python -m vidjax.style, which has no limit.")


class _Work:
  """What the worker thread runs: the predict path (its Predictor loaded once) or vidjax.style."""

  def __init__(self, s: WebSettings):
    self.s, self._predictor = s, None

  def __call__(self, job: Job, report: Callable[[str], None]) -> dict:
    if job.kind == "classify":
      return self._classify(job, report)
    return self._stylise(job, report)

  def _classify(self, job: Job, report) -> dict:
    if self._predictor is None:
      report("Loading the trained run (first time only)")
      from vidjax import config as config_lib
      from vidjax import predict

      self._predictor = predict.Predictor(config_lib.read_run_config(self.s.workdir), self.s.workdir,
                                          self.s.checkpoint)
    report("Classifying")
    results, failures = self._predictor([job.input])
    if not results:
      reason = failures[0][1].replace(job.input, job.name) if failures else "unreadable"
      raise ValueError(f"{job.name} could not be read: {reason}")
    return {"top5": [[c, float(p)] for c, p in results[0]["top5"]], "run": os.path.basename(self.s.workdir.rstrip("/")),
            "step": self._predictor.step}

  def _stylise(self, job: Job, report) -> dict:
    from vidjax.style.transfer import StyleJob, stylise_video

    p = job.params
    job.output = job.input.rsplit(".", 1)[0] + "-out.mp4"
    style = StyleJob(content=job.input, out=job.output, method=p["method"], strength=p["strength"],
                     style=os.path.join(self.s.styles, p.get("style", "")), vgg=self.s.vgg,
                     generator=_generators(self.s.generators).get(p.get("generator", ""), ""),
                     max_frames=self.s.max_frames)
    first: list[tuple[int, float]] = []  # (frames, time) at the first report: compilation is behind it

    def progress(done: int, total: int) -> None:
      now = time.perf_counter()
      if not first:
        first.append((done, now))
      d0, t0 = first[0]
      left = f", about {(now - t0) / (done - d0) * (total - done):.0f} s left" if done > d0 else ""
      report(f"Stylising: frame {done} of {total}" + (left if done < total else ", writing the video"))

    report("Loading weights and decoding the video")
    r = stylise_video(style, progress)
    keys = ("method", "frames", "fps", "width", "height", "seconds", "warping_error", "warping_error_input")
    return {k: r[k] for k in keys}


def create_app(s: WebSettings) -> tuple[flask.Flask, JobRunner]:
  app = flask.Flask(__name__, static_folder=None)
  app.config["MAX_CONTENT_LENGTH"] = s.max_upload_mb * 2**20 + 2**20  # the form's other fields fit in the extra MiB
  shown = {os.path.abspath(p): os.path.basename(os.path.abspath(p)) for p in (s.workdir, s.vgg, s.styles, s.generators) if p}
  runner = JobRunner(_Work(s), root=s.temp_root, hidden=shown)
  hosts = allowed_hosts(s.port)

  def error(message: str, status: int = 400):
    return flask.jsonify({"error": message}), status

  @app.errorhandler(RequestEntityTooLarge)
  def too_large(_):
    return error(f"The file is larger than {s.max_upload_mb} MB, this page's limit.", 413)

  @app.errorhandler(HTTPException)
  def http_error(e):
    return error(e.description or e.name, e.code or 500)

  @app.before_request
  def this_page_only():
    """Refuses requests that do not name this server (Host) and uploads that another site's page sent (Origin)."""
    host = flask.request.host.lower()
    if (host if s.port else re.sub(r":\d+$", "", host)) not in hosts:
      return error(f"This page answers only at http://127.0.0.1:{s.port or 'PORT'}/ (the request named {host!r}).", 421)
    if flask.request.method not in ("GET", "HEAD", "OPTIONS"):
      origin = flask.request.headers.get("Origin") or _origin_of(flask.request.headers.get("Referer", ""))
      if origin.lower() != f"http://{host}":
        return error("Uploads are accepted only from this page itself (this one came from "
                     f"{origin or 'a page that did not say'}).", 403)
    return None

  @app.after_request
  def headers(response):
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'self'; media-src 'self'; object-src 'none'"
    response.headers["Referrer-Policy"] = "same-origin"  # other sites see no URL; the page's own requests say it
    return response

  @app.get("/")
  def page():
    return flask.send_file(os.path.join(HERE, "page.html"), mimetype="text/html", max_age=0)

  @app.get("/page.js")
  def page_js():
    return flask.send_file(os.path.join(HERE, "page.js"), mimetype="text/javascript", max_age=0)

  @app.get("/page.css")
  def page_css():
    return flask.send_file(os.path.join(HERE, "page.css"), mimetype="text/css", max_age=0)

  @app.get("/api/status")
  def status():
    return flask.jsonify(capabilities(s))

  @app.post("/api/jobs")
  def submit():
    upload = flask.request.files.get("video")
    if upload is None or not upload.filename:
      return error("Choose a video file first.")
    name = secure_filename(upload.filename) or "video"
    ext = os.path.splitext(upload.filename)[1].lower()
    if ext not in VIDEO_TYPES:
      return error(f"{name} is not one of the accepted types ({', '.join(t[1:].upper() for t in VIDEO_TYPES)}).")
    form = flask.request.form
    kind = form.get("task", "")
    caps = capabilities(s)
    if kind == "classify":
      if not caps["classify"]["ok"]:
        return error(caps["classify"]["why"])
      params: dict = {}
    elif kind == "stylise":
      method = form.get("method", "")
      if method not in ("gatys", "cyclegan"):
        return error("Choose a method: gatys or cyclegan.")
      if not caps[method]["ok"]:
        return error(caps[method]["why"])
      try:
        strength = float(form.get("strength", "1"))
      except ValueError:
        strength = -1.0
      if not 0.0 <= strength <= 1.0:
        return error("Strength must be a number from 0 to 1.")
      params = {"method": method, "strength": strength}
      if method == "gatys":
        if form.get("style") not in caps["gatys"]["styles"]:
          return error("Choose one of the listed style images.")
        params["style"] = form["style"]
      else:
        if form.get("generator") not in caps["cyclegan"]["generators"]:
          return error("Choose one of the listed generators.")
        params["generator"] = form["generator"]
    else:
      return error("Choose what to do: classify or stylise.")
    path = runner.new_path(ext)
    upload.save(path)
    try:
      if os.path.getsize(path) > s.max_upload_mb * 2**20:
        raise ValueError(f"The file is larger than {s.max_upload_mb} MB, this page's limit.")
      if os.path.getsize(path) == 0:
        raise ValueError(f"{name} is empty.")
      _probe(path, name, s.max_frames, kind == "stylise")
    except ValueError as e:
      os.remove(path)
      return error(str(e))
    job = runner.submit(kind, name, path, params)
    return flask.jsonify(job.public()), 202

  def _job(job_id: str) -> Job:
    job = runner.get(job_id)
    if job is None:
      flask.abort(404, "No such job (finished jobs are kept for an hour).")
    return job

  @app.get("/api/jobs/<job_id>")
  def job_status(job_id: str):
    return flask.jsonify(_job(job_id).public())

  def _output(job_id: str, attachment: bool):
    job = _job(job_id)
    if job.state != "done" or not job.output or not os.path.isfile(job.output):
      flask.abort(404, "This job has no video to send.")
    stem = os.path.splitext(job.name)[0] or "video"
    return flask.send_file(job.output, mimetype="video/mp4", as_attachment=attachment, conditional=True,
                           download_name=f"{stem}_{job.params.get('method', 'styled')}.mp4", max_age=0)

  @app.get("/api/jobs/<job_id>/video")
  def video(job_id: str):
    return _output(job_id, False)

  @app.get("/api/jobs/<job_id>/download")
  def download(job_id: str):
    return _output(job_id, True)

  return app, runner
