"""Orbax checkpoints of the TrainState plus a small JSON of run facts."""

from __future__ import annotations

import os
from typing import Any

import jax
import orbax.checkpoint as ocp


class Checkpointer:
  """Saves every N steps and at the end, keeps the last few, restores the latest.

  Restores go through an abstract target carrying the current shardings, so a
  checkpoint written on 8 devices restores on 1 and the reverse.
  """

  def __init__(self, workdir: str, max_to_keep: int):
    self.directory = os.path.join(os.path.abspath(workdir), "checkpoints")
    self._mngr = ocp.CheckpointManager(
        self.directory, options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True))

  def latest_step(self) -> int | None:
    return self._mngr.latest_step()

  def save(self, step: int, state: Any, meta: dict) -> None:
    self._mngr.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)),
                    force=True)

  def restore(self, target: Any, step: int | None = None) -> tuple[Any, dict]:
    step = self.latest_step() if step is None else step
    if step is None:
      raise FileNotFoundError(f"No checkpoint in {self.directory}: train first with the same --workdir")
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
    out = self._mngr.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract),
                                                           meta=ocp.args.JsonRestore()))
    return out["state"], dict(out["meta"])

  def close(self) -> None:
    self._mngr.wait_until_finished()
    self._mngr.close()
