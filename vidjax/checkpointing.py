"""Orbax checkpoints of the TrainState plus a small JSON of run facts (step, the run's identity, time spent).

Which checkpoints stay: the newest `max_to_keep`, plus the best one recorded while training (by
`config.select_metric`), which rotation never deletes. `--checkpoint=latest|best|STEP` resolves here.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import jax
import orbax.checkpoint as ocp
from absl import logging


def _drop_closed_loop_noise() -> None:
  """After a failed restore, orbax's pending async reads call back into an event loop it has already closed; each
  prints an 'Event loop is closed' traceback through sys.unraisablehook (about 150, 900 lines, for one damaged
  checkpoint). They carry nothing: the failure is reported in one line by `restore`. Exactly those are dropped;
  anything else goes to the hook that was there before."""
  previous = sys.unraisablehook
  if getattr(previous, "_vidjax", False):
    return

  def hook(unraisable):
    if isinstance(unraisable.exc_value, RuntimeError) and str(unraisable.exc_value) == "Event loop is closed":
      return
    previous(unraisable)
  hook._vidjax = True
  sys.unraisablehook = hook


_drop_closed_loop_noise()


class Checkpointer:
  """Saves every N steps and at the end, keeps the newest few and the best, restores any of them.

  Restores go through an abstract target carrying the current shardings, so a
  checkpoint written on 8 devices restores on 1 and the reverse.
  """

  def __init__(self, workdir: str, max_to_keep: int):
    workdir = os.path.abspath(workdir)
    self.directory = os.path.join(workdir, "checkpoints")
    self.best_path = os.path.join(workdir, "best_checkpoint.json")
    self.max_to_keep = max_to_keep
    # rotation is ours (see _rotate): orbax's max_to_keep would delete the best checkpoint too
    self._mngr = ocp.CheckpointManager(self.directory, options=ocp.CheckpointManagerOptions(create=True))
    self._best = None
    if os.path.isfile(self.best_path):
      with open(self.best_path) as f:
        self._best = json.load(f)

  def all_steps(self) -> list[int]:
    return sorted(self._mngr.all_steps())

  def latest_step(self) -> int | None:
    return self._mngr.latest_step()

  def best(self) -> dict | None:
    """{"step", "metric", "value", "split"} of the best evaluation made while training, or None."""
    return self._best

  def resolve(self, which: str | int = "latest") -> int:
    """'latest', 'best' or a step number -> a step that has a checkpoint; the error lists what there is."""
    steps = self.all_steps()
    if not steps:
      raise FileNotFoundError(f"No checkpoint in {self.directory}: train first with the same --workdir")
    which = str(which)
    if which == "latest":
      return steps[-1]
    if which == "best":
      best = self.best()
      if best is None:
        raise FileNotFoundError(f"No best checkpoint recorded in {self.best_path}: training records one at each "
                                "evaluation (config.eval_every_steps and the final one); use --checkpoint=latest")
      return int(best["step"])
    if not which.isdigit():
      raise ValueError(f"--checkpoint={which!r}: use latest, best or a step number ({steps})")
    if int(which) not in steps:
      raise FileNotFoundError(f"--checkpoint={which}: no checkpoint at step {which} in {self.directory}; "
                              f"there are {steps}")
    return int(which)

  def save(self, step: int, state: Any, meta: dict) -> None:
    if step in self._mngr.all_steps():
      return
    self._mngr.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)),
                    force=True)
    self._rotate()

  def record_evaluation(self, step: int, split: str, metric: str, value: float) -> bool:
    """Remembers step as the best if `value` beats the recorded best; True if it did. Process 0 writes."""
    best = self.best()
    if best is not None and best["metric"] == metric and best["value"] >= value:
      return False
    self._best = {"step": step, "metric": metric, "value": value, "split": split}
    if jax.process_index() == 0:  # every process holds the same metrics; one writes
      with open(self.best_path + ".tmp", "w") as f:
        json.dump(self._best, f)
      os.replace(self.best_path + ".tmp", self.best_path)
    self._rotate()
    return True

  def _rotate(self) -> None:
    steps = self.all_steps()
    best = self.best()
    keep = set(steps[-self.max_to_keep:]) | ({int(best["step"])} if best else set())
    old = [s for s in steps if s not in keep]
    if old:
      self._mngr.wait_until_finished()
      for s in old:
        self._mngr.delete(s)

  def read_meta(self, step: int) -> dict:
    """The run facts saved with a checkpoint, without touching its arrays; one-line ValueError if unreadable."""
    try:
      out = self._mngr.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))
      meta = dict(out["meta"])
    except Exception as e:  # orbax raises many types for a missing or damaged record
      raise ValueError(f"Checkpoint {self.directory}/{step}: its run record (meta) cannot be read "
                       f"({_one_line(e)}); the checkpoint is damaged") from e
    if not isinstance(meta.get("step"), int):
      raise ValueError(f"Checkpoint {self.directory}/{step}: its run record (meta) has no step; the checkpoint is damaged")
    return meta

  def newest_meta(self, which: str | int = "latest") -> tuple[int, dict]:
    """(step, meta) of `which`; for 'latest', the newest checkpoint whose record reads (each unreadable one is
    reported in one line and skipped, as `restore` does)."""
    if str(which) != "latest":
      step = self.resolve(which)
      return step, self.read_meta(step)
    steps = self.all_steps()[::-1] or [self.resolve("latest")]  # resolve raises: no checkpoint
    for s in steps:
      try:
        return s, self.read_meta(s)
      except ValueError as e:
        if s == steps[-1]:
          raise
        logging.warning("%s; trying the next older one", e)
    raise AssertionError("unreachable")

  def restore(self, target: Any, step: int | str | None = None, *, quarantine: bool = False) -> tuple[Any, dict]:
    """Restores `step` (latest, best or a number). For the latest, an unreadable checkpoint is reported in one
    line and the next older one is tried; quarantine=True (training) moves unreadable ones aside as
    `<step>.unreadable` so that the retrained step can be saved again."""
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
    candidates = [self.resolve(step)] if step not in (None, "latest") else self.all_steps()[::-1]
    if not candidates:
      self.resolve("latest")  # raises: no checkpoint
    failures = []
    for s in candidates:
      try:
        out = self._mngr.restore(s, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract),
                                                            meta=ocp.args.JsonRestore()))
        return out["state"], dict(out["meta"])
      except Exception as e:  # orbax and tensorstore raise many types for a damaged file
        reason = _one_line(e)
        failures.append((s, reason))
        logging.warning("Checkpoint %s/%d cannot be restored (%s)%s", self.directory, s, reason,
                        "; trying the next older one" if s != candidates[-1] else "")
        if quarantine and jax.process_index() == 0:
          os.replace(os.path.join(self.directory, str(s)), os.path.join(self.directory, f"{s}.unreadable"))
          self._mngr.reload()
    s, reason = failures[0]
    raise ValueError(f"No checkpoint in {self.directory} can be restored into this config's state (step {s}: "
                     f"{reason}). If the model or optimizer settings changed, use a new --workdir.")

  def wait_until_finished(self) -> None:
    self._mngr.wait_until_finished()

  def close(self) -> None:
    self._mngr.wait_until_finished()
    self._mngr.close()


def _one_line(e: BaseException) -> str:
  text = str(e).strip()
  return f"{type(e).__name__}: {text.splitlines()[0][:300]}" if text else type(e).__name__
