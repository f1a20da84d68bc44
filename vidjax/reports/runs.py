"""`--mode=report`: one table and a few figures over a run or a folder of runs (a sweep), from what they recorded.

Reads only files the runs wrote: config.json, eval/*_metrics.json, TensorBoard event files (through TensorBoard's
own EventAccumulator) and the newest checkpoint's metadata (parameters, size, GFLOPs, training time). Writes into
the folder:

  report.md, report.csv            a row per run: top-1, top-5, mean class accuracy, macro-F1, parameters, MB,
                                   GFLOPs per clip, training time, train clips/s, steps
  report_train_loss.png            training loss against step, one labelled line per run
  report_eval_accuracy.png         the evaluation split's top-1 against step (every evaluation made in training)
  report_per_class_f1.png          per-class F1 of the runs side by side
"""

from __future__ import annotations

import csv
import json
import logging
import os

import numpy as np

from vidjax.reports import eval_files, plots

COLUMNS = ("run", "model", "top1", "top5", "balanced_accuracy", "macro_f1", "parameters", "size_mb", "gflops_per_clip",
           "train_minutes", "train_clips_per_sec", "steps", "eval")


def find_runs(directory: str) -> list[str]:
  """The directory itself if it is a run, else every run below it (a sweep's points in their order first)."""
  directory = os.path.abspath(directory)
  if os.path.isfile(os.path.join(directory, "config.json")):
    return [directory]
  found = sorted(root for root, _, files in os.walk(directory) if "config.json" in files)
  order_file = os.path.join(directory, "sweep.json")
  if os.path.isfile(order_file):
    with open(order_file) as f:
      order = [os.path.join(directory, n) for n in json.load(f)]
    found = [r for r in order if r in found] + [r for r in found if r not in order]
  if not found:
    raise FileNotFoundError(f"--workdir {directory!r} holds no vidjax run (no config.json in it or below it)")
  return found


def scalars(workdir: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
  """Every scalar series in a run's TensorBoard event files: tag -> (steps, values); a resumed step keeps its last."""
  from tensorboard.backend.event_processing import event_accumulator
  from tensorboard.util import tensor_util

  logging.getLogger("tensorboard").setLevel(logging.WARNING)  # its directory watcher logs every file it reads
  acc = event_accumulator.EventAccumulator(workdir, size_guidance={event_accumulator.SCALARS: 0,
                                                                   event_accumulator.TENSORS: 0})
  acc.Reload()
  tags = acc.Tags()
  series: dict[str, dict[int, float]] = {}
  for tag in tags.get("scalars", []):
    for e in acc.Scalars(tag):
      series.setdefault(tag, {})[e.step] = float(e.value)
  for tag in tags.get("tensors", []):  # TF2-style summaries store scalars as 0-d tensors
    for e in acc.Tensors(tag):
      value = tensor_util.make_ndarray(e.tensor_proto)
      if value.ndim == 0 and np.issubdtype(value.dtype, np.number):
        series.setdefault(tag, {})[e.step] = float(value)
  return {tag: (np.array(sorted(v)), np.array([v[s] for s in sorted(v)])) for tag, v in series.items()}


def _model_name(model: dict) -> str:
  detail = [str(model[k]) for k in ("arch", "variant", "backbone", "head") if model.get(k)]
  return "/".join([model.get("name", "?"), *detail])


def read_run(workdir: str, name: str) -> dict:
  """One row of the report, plus what the figures need."""
  from vidjax import checkpointing

  with open(os.path.join(workdir, "config.json")) as f:
    config = json.load(f)
  row: dict = {"run": name, "model": _model_name(config.get("model", {}))}
  split = config.get("dataset", {}).get("eval_split", "test")
  views = (config.get("input", {}).get("eval_clips", 1), config.get("input", {}).get("eval_crops", 1))
  evals = [e for e in eval_files.find(workdir) if e["split"] == split]
  report = None
  if evals:
    last = max(e["step"] for e in evals)
    chosen = sorted((e for e in evals if e["step"] == last), key=lambda e: (e["clips"], e["crops"]) != views)[0]
    with open(chosen["path"]) as f:
      report = json.load(f)
    row.update(top1=report["accuracy"], top5=report.get("top5"), balanced_accuracy=report["balanced_accuracy"],
               macro_f1=report["macro_f1"], eval=os.path.relpath(chosen["path"], workdir))
  if os.path.isdir(os.path.join(workdir, "checkpoints")):
    ckpt = checkpointing.Checkpointer(workdir, 1 << 30)
    step = ckpt.latest_step()
    if step is not None:
      meta = ckpt.read_meta(step)
      info = meta.get("model_info", {})
      row.update(parameters=info.get("parameters"), size_mb=info.get("size_mb"),
                 gflops_per_clip=info.get("gflops_per_clip"), steps=int(meta["step"]),
                 train_minutes=meta["train_seconds"] / 60 if "train_seconds" in meta else None)
    ckpt.close()
  series = scalars(workdir)
  rates = series.get("clips_per_sec", (np.array([]), np.array([])))[1]
  if len(rates):
    row["train_clips_per_sec"] = float(np.median(rates[1:] if len(rates) > 1 else rates))  # the first log holds compile
  return {"row": row, "series": series, "split": split, "report": report}


def _fmt(key: str, value) -> str:
  if value is None or (isinstance(value, float) and not np.isfinite(value)):
    return ""
  if key in ("top1", "top5", "balanced_accuracy"):
    return f"{100 * value:.1f}"
  if key == "macro_f1":
    return f"{value:.3f}"
  if key == "parameters":
    return f"{value:,}"
  if key in ("size_mb", "train_minutes", "train_clips_per_sec"):
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"
  if key == "gflops_per_clip":
    return f"{value:.3f}"
  return str(value)


HEADERS = {"run": "run", "model": "model", "top1": "top-1 %", "top5": "top-5 %", "balanced_accuracy": "mean class acc. %",
           "macro_f1": "macro-F1", "parameters": "parameters", "size_mb": "MB", "gflops_per_clip": "GFLOPs/clip",
           "train_minutes": "train min", "train_clips_per_sec": "train clips/s", "steps": "steps", "eval": "from"}


MAX_RECALL_COLUMNS = 12  # beyond this a run x class table stops being readable; per_class.csv has every class


def _recall_table(runs: list[dict]) -> list[str]:
  """Markdown lines: per-class recall of every run (rows) on a shared class list, when it is short enough to read."""
  if not runs:
    return []
  classes = runs[0]["report"]["classes"]
  same = [r for r in runs if r["report"]["classes"] == classes]
  if len(classes) > MAX_RECALL_COLUMNS:
    return ["", f"Per-class recall: {len(classes)} classes, see each run's per_class.csv."]
  lines = ["", "Per-class recall (%) of the same evaluation:", "", "| run | " + " | ".join(classes) + " |",
           "|" + "---|" * (len(classes) + 1)]
  for r in same:
    per = r["report"]["per_class"]
    lines.append(f"| {r['row']['run']} | " + " | ".join(
        f"{100 * per[c]['recall']:.0f}" if c in per else "" for c in classes) + " |")
  return lines


def _failed_points(directory: str) -> list[str]:
  """The report's section on the sweep points that failed (sweep.json), so a table never hides one."""
  path = os.path.join(directory, "sweep.json")
  if not os.path.isfile(path):
    return []
  try:
    with open(path) as f:
      status = json.load(f)
    failed = {n: s.get("error", "") for n, s in status.items() if s.get("status") == "failed"}
  except (OSError, ValueError, AttributeError):
    return ["", "(sweep.json is unreadable: which points failed is not known)"]
  if not failed:
    return []
  return ["", f"## Failed points ({len(failed)} of {len(status)})", "", "| point | error |", "|---|---|",
          *(f"| {n} | {e.replace('|', '/')} |" for n, e in failed.items())]


def write_report(directory: str) -> dict[str, str]:
  """Writes report.md, report.csv and the figures into `directory`; returns their paths."""
  directory = os.path.abspath(directory)
  run_dirs = find_runs(directory)
  runs = [read_run(d, os.path.relpath(d, directory) if d != directory else os.path.basename(d)) for d in run_dirs]
  files = {"markdown": os.path.join(directory, "report.md"), "csv": os.path.join(directory, "report.csv"),
           "train_loss": os.path.join(directory, "report_train_loss.png"),
           "eval_accuracy": os.path.join(directory, "report_eval_accuracy.png"),
           "per_class_f1": os.path.join(directory, "report_per_class_f1.png")}
  with open(files["csv"], "w", newline="") as f:
    w = csv.DictWriter(f, COLUMNS)
    w.writeheader()
    for r in runs:
      w.writerow({k: r["row"].get(k, "") for k in COLUMNS})

  plots.curves({r["row"]["run"]: r["series"]["train_loss"] for r in runs if "train_loss" in r["series"]},
               files["train_loss"], "training loss (class-weighted)", "loss")
  acc, splits = {}, sorted({r["split"] for r in runs})
  for r in runs:
    tag = f"{r['split']}_accuracy"
    if tag in r["series"]:
      acc[r["row"]["run"]] = r["series"][tag]
  plots.curves(acc, files["eval_accuracy"],
               f"top-1 on the {'/'.join(splits)} split during training", "top-1 accuracy")
  with_report = [r for r in runs if r["report"]]
  if with_report:
    classes = with_report[0]["report"]["classes"]
    f1 = {r["row"]["run"]: [r["report"]["per_class"].get(c, {}).get("f1", 0.0) for c in classes] for r in with_report
          if r["report"]["classes"] == classes}
    plots.per_class_bars(classes, f1, files["per_class_f1"], "per-class F1 (latest evaluation)")
  else:
    files.pop("per_class_f1")

  keys = [k for k in COLUMNS if k != "eval"]
  lines = [f"# Report: {os.path.basename(directory)}", "",
           f"{len(runs)} run(s). Numbers are read from each run's files: top-1/top-5/mean class accuracy/macro-F1 "
           "from the latest evaluation of its eval split (file in the last column), parameters, MB, GFLOPs and "
           "training time from its newest checkpoint, train clips/s (median of the logged rates, first log left out) "
           "from its TensorBoard events.", "",
           "| " + " | ".join(HEADERS[k] for k in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
  for r in runs:
    lines.append("| " + " | ".join(_fmt(k, r["row"].get(k)) for k in keys) + f" | {r['row'].get('eval', '')} |")
  lines += ["", f"![training loss]({os.path.basename(files['train_loss'])})",
            f"![evaluation accuracy]({os.path.basename(files['eval_accuracy'])})"]
  if "per_class_f1" in files:
    lines.append(f"![per-class F1]({os.path.basename(files['per_class_f1'])})")
  lines += _recall_table(with_report)
  lines += _failed_points(directory)
  with open(files["markdown"], "w") as f:
    f.write("\n".join(lines) + "\n")
  return files
