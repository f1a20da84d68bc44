"""Jobs of the web page: one worker thread runs them in turn (one model on the device at a time), reports progress,
and owns their files, which live in one temporary folder under names it makes up and are removed when done.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable

JOB_ID_HEX = 16
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/(?:[^\s'\"/,;:()]+/)+([^\s'\"/,;:()]*)")


def public_message(message: str, job: Job, hidden: dict[str, str]) -> str:
  """An error as the page may show it: one line, no path of the server's. The upload's own path becomes its name,
  each of `hidden` (a server path -> what to say instead) its stand-in, and any other absolute path its last
  part."""
  message = " ".join(message.split())
  for path, shown in ((job.input, job.name), *sorted(hidden.items(), key=lambda kv: -len(kv[0]))):
    if path:
      message = message.replace(path, shown)
  return _ABSOLUTE_PATH.sub(lambda m: m.group(1) or "a folder on the server", message)


@dataclasses.dataclass
class Job:
  id: str
  kind: str  # "classify" | "stylise"
  name: str  # the upload's sanitised name, for messages and the download's name
  input: str  # the uploaded file (removed when the job ends)
  params: dict
  state: str = "queued"  # queued | running | done | error
  message: str = "Waiting for the previous job"
  result: dict = dataclasses.field(default_factory=dict)
  output: str = ""  # the stylised video, served until the job expires
  created: float = dataclasses.field(default_factory=time.time)
  finished: float = 0.0

  def public(self) -> dict:
    return {"id": self.id, "kind": self.kind, "name": self.name, "state": self.state, "message": self.message,
            "result": self.result}


class JobRunner:
  """Queue + worker thread. `work(job, report)` does a job's work; report(message) updates what the page shows."""

  def __init__(self, work: Callable[[Job, Callable[[str], None]], dict], root: str | None = None,
               keep_seconds: float = 3600.0, keep_jobs: int = 50, hidden: dict[str, str] | None = None):
    self.root = tempfile.mkdtemp(prefix="vidjax-web-", dir=root)
    self._work, self._keep_seconds, self._keep_jobs = work, keep_seconds, keep_jobs
    self._hidden = {**(hidden or {}), self.root: "the upload folder"}  # server paths errors must not show
    self._jobs: dict[str, Job] = {}
    self._lock = threading.Lock()
    self._queue: queue.Queue[Job | None] = queue.Queue()
    self._thread = threading.Thread(target=self._loop, name="vidjax-web-jobs", daemon=True)
    self._thread.start()

  def new_path(self, suffix: str) -> str:
    """A fresh file name in the job folder; nothing of the user's file name is in it."""
    return os.path.join(self.root, secrets.token_hex(JOB_ID_HEX // 2) + suffix)

  def submit(self, kind: str, name: str, path: str, params: dict) -> Job:
    self._expire()
    job = Job(id=secrets.token_hex(JOB_ID_HEX // 2), kind=kind, name=name, input=path, params=params)
    with self._lock:
      self._jobs[job.id] = job
    self._queue.put(job)
    return job

  def get(self, job_id: str) -> Job | None:
    if len(job_id) != JOB_ID_HEX or any(c not in "0123456789abcdef" for c in job_id):
      return None
    with self._lock:
      return self._jobs.get(job_id)

  def _loop(self) -> None:
    while (job := self._queue.get()) is not None:
      job.state, job.message = "running", "Starting"

      def report(message: str, job: Job = job) -> None:
        job.message = message

      try:
        job.result = self._work(job, report)
        job.state, job.message = "done", "Done"
      except Exception as e:  # the page shows one line; the server keeps serving
        job.state, job.message = "error", public_message(str(e), job, self._hidden) or type(e).__name__
        if job.output and os.path.exists(job.output):
          os.remove(job.output)
        job.output = ""
      finally:
        job.finished = time.time()
        if os.path.exists(job.input):
          os.remove(job.input)

  def _expire(self) -> None:
    """Drops finished jobs older than keep_seconds (or beyond the newest keep_jobs) and their files."""
    now = time.time()
    with self._lock:
      done = sorted((j for j in self._jobs.values() if j.finished), key=lambda j: j.finished, reverse=True)
      for i, job in enumerate(done):
        if i >= self._keep_jobs or now - job.finished > self._keep_seconds:
          if job.output and os.path.exists(job.output):
            os.remove(job.output)
          del self._jobs[job.id]

  def close(self) -> None:
    """Stops the worker after the current job and removes the folder with everything in it."""
    self._queue.put(None)
    self._thread.join(timeout=5)
    shutil.rmtree(self.root, ignore_errors=True)
