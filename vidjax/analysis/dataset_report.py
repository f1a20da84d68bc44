"""--mode=analyze: the studies' exploratory analysis and a health check of a dataset, as files in W/analysis/.

  python main.py --config=configs/csn.py --workdir=runs/eda --mode=analyze

Reads the frame store (building it if needed, as training would), so a video file is decoded once, ever:
class counts and the videos' recorded metadata need no frames at all, and colour and motion come from a
bounded sample of stored frames per video (config.analysis), measured in parallel worker processes.
Writes analysis.md (findings as numbers, images linked), analysis.json (the same, machine-readable) and PNGs.
"""

from __future__ import annotations

import json
import math
import os
import time

import ml_collections
import numpy as np
from absl import logging

from vidjax.analysis import figures, health, video_stats

PROPERTIES = ("duration_s", "frames", "fps", "width", "height")
QUANTILES = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)
MAX_HIST_PANELS = 20  # rgb_histograms.png: more classes are shown as this many, spread over the brightness range


def sampling_from_config(c: ml_collections.ConfigDict) -> video_stats.Sampling:
  a = c.analysis
  return video_stats.Sampling(frames=a.frames_per_video, flow_pairs=a.flow_pairs, flow_side=a.flow_side)


def _measure_split(source, sampling: video_stats.Sampling, workers: int, desc: str) -> list[dict]:
  from tqdm.auto import tqdm

  from input_pipeline import workers as workers_lib

  n = len(source)
  chunk = max(1, min(64, math.ceil(n / max(4 * workers, 1))))
  jobs = [(source, a, min(a + chunk, n), sampling) for a in range(0, n, chunk)]
  out: list[dict] = []
  bar = tqdm(total=n, desc=desc, unit="video")
  if workers > 1 and len(jobs) > 1:
    with workers_lib.process_pool(min(workers, len(jobs))) as pool:
      for part in pool.map(video_stats.measure_range, jobs):
        out.extend(part)
        bar.update(len(part))
  else:
    for job in jobs:
      part = video_stats.measure_range(job)
      out.extend(part)
      bar.update(len(part))
  bar.close()
  return out


def quantile_table(values: np.ndarray) -> dict[str, float]:
  if len(values) == 0:
    return {}
  qs = np.quantile(values, QUANTILES)
  out = {f"q{int(q * 100):02d}": float(v) for q, v in zip(QUANTILES, qs, strict=True)}
  out |= {"min": float(qs[0]), "median": float(qs[3]), "max": float(qs[-1]), "mean": float(np.mean(values))}
  return out


def imbalance(classes: list[str], counts: list[int]) -> dict:
  order = np.argsort(counts)[::-1]
  present = [int(i) for i in order if counts[i] > 0]
  largest = present[0] if present else 0
  second = present[1] if len(present) > 1 else largest
  smallest = present[-1] if present else 0
  c = counts
  return {
      "videos": int(sum(c)),
      "largest": {"class": classes[largest], "videos": int(c[largest])},
      "second": {"class": classes[second], "videos": int(c[second])},
      "smallest": {"class": classes[smallest], "videos": int(c[smallest])},
      "largest_over_smallest": float(c[largest] / max(c[smallest], 1)),
      "largest_over_second": float(c[largest] / max(c[second], 1)),
      "empty_classes": [classes[i] for i in range(len(c)) if c[i] == 0],
  }


def _flow_direction_test(vx: np.ndarray, vy: np.ndarray, labels: np.ndarray) -> dict:
  """One-way ANOVA of the per-video mean flow (x and y) across classes: does direction tell classes apart?"""
  from sklearn.feature_selection import f_classif

  if len(np.unique(labels)) < 2 or len(labels) <= len(np.unique(labels)):
    return {"F_x": None, "p_x": None, "F_y": None, "p_y": None, "separates": False}
  with np.errstate(divide="ignore", invalid="ignore"):
    f, p = f_classif(np.stack([vx, vy], 1), labels)
  f = np.nan_to_num(f)
  p = np.nan_to_num(p, nan=1.0)
  return {"F_x": float(f[0]), "p_x": float(p[0]), "F_y": float(f[1]), "p_y": float(p[1]),
          "separates": bool(min(p) < 0.01)}


def _fmt(v: float) -> str:
  if v == int(v) and abs(v) < 1e6:
    return f"{int(v)}"
  return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"


def analyze(config: ml_collections.ConfigDict, workdir: str) -> dict[str, str]:
  """Runs the analysis; returns {name: path} of what it wrote."""
  import input_pipeline
  from input_pipeline.sources import list_videos
  from vidjax import config as config_lib
  from vidjax import losses

  config_lib.validate(config)
  start = time.time()
  out_dir = os.path.join(workdir, "analysis")
  os.makedirs(out_dir, exist_ok=True)
  listing = list_videos(config.dataset)
  splits = tuple(listing.splits)
  ds = input_pipeline.open_dataset(config, splits=splits)
  classes = list(ds.classes)
  k = len(classes)
  sampling = sampling_from_config(config)
  workers = config.dataset.decode_workers or os.cpu_count() or 1

  measured: dict[str, list[dict]] = {}
  unreadable_records = []
  for split in splits:
    rows = _measure_split(ds.sources[split], sampling, workers, f"analyze {split}")
    unreadable_records += [r["error"] for r in rows if "error" in r]
    measured[split] = [r for r in rows if "error" not in r]
  all_rows = [r for s in splits for r in measured[s]]
  measure_s = time.time() - start

  # 1. classes
  listed = {s: [sum(1 for r in listing.splits[s] if r.label == i) for i in range(k)] for s in splits}
  stored = {s: list(ds.class_counts[s]) for s in splits}
  train_split = config.dataset.train_split if config.dataset.train_split in splits else splits[0]
  weights = losses.class_weights("balanced", stored[train_split])
  class_section = {
      "classes": classes,
      "listed": listed,
      "stored": stored,
      "imbalance": {s: imbalance(classes, stored[s]) for s in splits},
      "balanced_class_weights": {"split": train_split, "weights": dict(zip(classes, map(float, weights), strict=True))},
  }
  figures.class_distribution(classes, stored, os.path.join(out_dir, "class_distribution.png"),
                             f"{ds.name}: videos per class (stored)")

  # 2. properties, from the store's metadata
  props = {s: {p: np.array([r[p] for r in measured[s]], np.float64) for p in PROPERTIES} for s in splits}
  props["all"] = {p: np.concatenate([props[s][p] for s in splits]) for p in PROPERTIES}
  prop_section = {s: {p: quantile_table(v) for p, v in props[s].items()} for s in props}
  figures.properties(props, os.path.join(out_dir, "video_properties.png"))

  # 3. colour
  hists = np.zeros((k, 3, video_stats.HIST_BINS), np.int64)
  for r in all_rows:
    hists[r["label"]] += r["hist"]
  centres = (np.arange(video_stats.HIST_BINS) + 0.5) * 256 / video_stats.HIST_BINS
  with np.errstate(invalid="ignore", divide="ignore"):
    rgb_means = np.nan_to_num((hists * centres).sum(-1) / hists.sum(-1))
  brightness = rgb_means @ np.array([0.299, 0.587, 0.114])
  shown = np.arange(k)
  if k > MAX_HIST_PANELS:
    by_brightness = np.argsort(brightness)
    shown = np.sort(by_brightness[np.linspace(0, k - 1, MAX_HIST_PANELS).round().astype(int)])
  figures.rgb_histograms([classes[i] for i in shown], hists[shown], os.path.join(out_dir, "rgb_histograms.png"),
                         "RGB intensity per class (sampled stored frames)"
                         + ("" if len(shown) == k else f": {len(shown)} of {k} classes over the brightness range"))
  colour_section = {
      "frames_per_video": sampling.frames,
      "bins": video_stats.HIST_BINS,
      "per_class": {classes[i]: {"mean_rgb": [round(float(v), 2) for v in rgb_means[i]],
                                 "brightness": round(float(brightness[i]), 2),
                                 "histogram": hists[i].tolist()} for i in range(k)},
      "classes_in_figure": [classes[i] for i in shown],
  }

  # 4. motion
  labels = np.array([r["label"] for r in all_rows], np.int64)
  mag = np.array([r["flow_px"] for r in all_rows])
  per_s = np.array([r["flow_per_s"] for r in all_rows])
  vx = np.array([r["flow_vx"] for r in all_rows])
  vy = np.array([r["flow_vy"] for r in all_rows])
  side = int(np.median([r["flow_side_px"] for r in all_rows])) if all_rows else 0
  unit = f"px per stored frame, short side {side} px"
  per_class_mag = [mag[labels == i] for i in range(k)]
  figures.flow_magnitude(classes, per_class_mag, os.path.join(out_dir, "flow_magnitude.png"), unit)
  mean_vec = np.array([[vx[labels == i].mean() if np.any(labels == i) else 0.0,
                        vy[labels == i].mean() if np.any(labels == i) else 0.0] for i in range(k)])
  figures.flow_direction(classes, mean_vec, os.path.join(out_dir, "flow_direction.png"), "px per stored frame")
  motion_section = {
      "flow_pairs_per_video": sampling.flow_pairs,
      "unit": unit,
      "per_class": {classes[i]: {"median_px": float(np.median(per_class_mag[i])) if len(per_class_mag[i]) else None,
                                 "median_short_sides_per_s": float(np.median(per_s[labels == i]))
                                 if np.any(labels == i) else None,
                                 "mean_vx": float(mean_vec[i, 0]), "mean_vy": float(mean_vec[i, 1])}
                    for i in range(k)},
      "direction_anova": _flow_direction_test(vx, vy, labels),
  }

  # 5. health
  split_paths = {s: [r.path for r in listing.splits[s]] for s in splits}
  dup_start = time.time()
  duplicates = health.duplicate_files(split_paths)
  health_section = {
      "listed": {s: len(listing.splits[s]) for s in splits},
      "stored": {s: int(sum(stored[s])) for s in splits},
      "skipped": health.skipped_by_kind(ds.skipped),
      "unreadable_store_records": unreadable_records,
      "duplicates": duplicates,
      "duplicate_check_s": round(time.time() - dup_start, 2),
  }

  result = {
      "dataset": ds.name, "store": ds.path, "splits": list(splits),
      "classes": class_section, "properties": prop_section, "colour": colour_section, "motion": motion_section,
      "health": health_section,
      "cost": {"videos": len(all_rows), "seconds": round(time.time() - start, 2), "measure_seconds": round(measure_s, 2),
               "workers": workers},
  }
  paths = {name: os.path.join(out_dir, f"{name}.png") for name in
           ("class_distribution", "video_properties", "rgb_histograms", "flow_magnitude", "flow_direction")}
  paths["json"] = os.path.join(out_dir, "analysis.json")
  paths["md"] = os.path.join(out_dir, "analysis.md")
  with open(paths["json"], "w") as f:
    json.dump(result, f, indent=1)
  with open(paths["md"], "w") as f:
    f.write(markdown(result))
  logging.info("Analysis of %s (%d videos) written to %s in %.1f s", ds.name, len(all_rows), out_dir, time.time() - start)
  return paths


def _prop_line(name: str, unit: str, q: dict) -> str:
  return (f"- {name}: {_fmt(q['min'])}-{_fmt(q['max'])}{unit}, median {_fmt(q['median'])}{unit} "
          f"(5-95 %: {_fmt(q['q05'])}-{_fmt(q['q95'])})")


def markdown(r: dict) -> str:
  """analysis.json -> analysis.md: the findings as sentences with their numbers, then the tables and figures."""
  c, h, m = r["classes"], r["health"], r["motion"]
  per_split = ", ".join(f"{s}: {h['stored'][s]}" for s in r["splits"])
  lines = [f"# Analysis of {r['dataset']}", "",
           f"{r['cost']['videos']} stored videos ({per_split}); "
           f"store `{r['store']}`. Made by `main.py --mode=analyze` in {r['cost']['seconds']:.1f} s.", "",
           "## Findings", ""]
  for s in r["splits"]:
    im = c["imbalance"][s]
    lines.append(f"- {s}: largest class {im['largest']['class']}: {im['largest']['videos']} videos, "
                 f"{im['largest_over_second']:.2f}x the next ({im['second']['class']}: {im['second']['videos']}) "
                 f"and {im['largest_over_smallest']:.2f}x the smallest ({im['smallest']['class']}: "
                 f"{im['smallest']['videos']}).")
  allp = r["properties"]["all"]
  if allp.get("duration_s"):
    lines += [_prop_line("durations", " s", allp["duration_s"]), _prop_line("frame counts", "", allp["frames"]),
              _prop_line("frame rates", " fps", allp["fps"]), _prop_line("widths", " px", allp["width"]),
              _prop_line("heights", " px", allp["height"])]
  col = r["colour"]["per_class"]
  if col:
    order = sorted(col, key=lambda n: col[n]["brightness"])
    lines.append(f"- brightness (mean luma of sampled frames): darkest {order[0]} {col[order[0]]['brightness']:.1f}, "
                 f"brightest {order[-1]} {col[order[-1]]['brightness']:.1f} (of 255).")
  mags = {n: v["median_px"] for n, v in m["per_class"].items() if v["median_px"] is not None}
  if mags:
    slow, fast = min(mags, key=mags.get), max(mags, key=mags.get)
    lines.append(f"- motion (median per-video flow, {m['unit']}): slowest {slow} {mags[slow]:.3f}, fastest {fast} "
                 f"{mags[fast]:.3f} ({mags[fast] / max(mags[slow], 1e-9):.1f}x).")
  a = m["direction_anova"]
  if a["F_x"] is not None:
    verdict = "tells classes apart" if a["separates"] else "does not tell classes apart"
    lines.append(f"- mean flow direction {verdict} (one-way ANOVA across classes: horizontal F={a['F_x']:.1f}, "
                 f"p={a['p_x']:.2g}; vertical F={a['F_y']:.1f}, p={a['p_y']:.2g}).")
  n_skipped = sum(len(v) for v in h["skipped"].values())
  kinds = ", ".join(f"{len(v)} {kind}" for kind, v in h["skipped"].items())
  lines.append(f"- health: {n_skipped} of {sum(h['listed'].values())} listed files not usable"
               + (f" ({kinds})" if n_skipped else "") + f"; {len(h['duplicates'])} group(s) of duplicated files"
               + (f", {sum(g['across_splits'] for g in h['duplicates'])} across splits" if h["duplicates"] else "")
               + ".")
  lines += ["", "## Classes", "", "![class distribution](class_distribution.png)", "",
            "| class | " + " | ".join(r["splits"]) + " | balanced weight |",
            "|---|" + "---|" * len(r["splits"]) + "---|"]
  w = c["balanced_class_weights"]["weights"]
  for i, name in enumerate(c["classes"]):
    lines.append(f"| {name} | " + " | ".join(str(c["stored"][s][i]) for s in r["splits"]) + f" | {w[name]:.3f} |")
  lines += ["", f"Balanced weights (`config.train.class_weights='balanced'`) from the {c['balanced_class_weights']['split']} "
            "split: n / (classes x count), as scikit-learn's `compute_class_weight`.", "",
            "## Durations, frame counts, frame rates, sizes", "", "![video properties](video_properties.png)", "",
            "From the store's metadata (the source files' own values, before any resizing).", "",
            "| split | property | min | 5 % | 25 % | median | 75 % | 95 % | max |", "|---|---|---|---|---|---|---|---|---|"]
  for s, props in r["properties"].items():
    for p, q in props.items():
      if q:
        lines.append(f"| {s} | {p} | " + " | ".join(_fmt(q[k]) for k in ("q00", "q05", "q25", "q50", "q75", "q95", "q100"))
                     + " |")
  lines += ["", "## Colour", "", "![RGB histograms](rgb_histograms.png)", "",
            f"{r['colour']['frames_per_video']} evenly spaced stored frames per video, {r['colour']['bins']} bins per "
            "channel.", "", "| class | mean R | mean G | mean B | brightness |", "|---|---|---|---|---|"]
  for name, v in col.items():
    lines.append(f"| {name} | " + " | ".join(f"{x:.1f}" for x in v["mean_rgb"]) + f" | {v['brightness']:.1f} |")
  lines += ["", "## Motion", "", "![flow magnitude](flow_magnitude.png) ![flow direction](flow_direction.png)", "",
            f"OpenCV Farneback on {m['flow_pairs_per_video']} evenly spaced pairs of consecutive stored frames per "
            f"video; magnitude in {m['unit']}, and in short sides per second (comparable across frame rates).", "",
            "| class | median magnitude (px) | median (short sides / s) | mean vx | mean vy |", "|---|---|---|---|---|"]
  for name, v in m["per_class"].items():
    if v["median_px"] is not None:
      lines.append(f"| {name} | {v['median_px']:.3f} | {v['median_short_sides_per_s']:.3f} | {v['mean_vx']:+.3f} | "
                   f"{v['mean_vy']:+.3f} |")
  lines += ["", "## Health", ""]
  if not n_skipped:
    lines.append("Every listed file was stored.")
  for kind, items in h["skipped"].items():
    lines.append(f"**{kind}** ({len(items)}):")
    lines += [f"- {it['split']}: `{it['path']}`: {it['reason']}" for it in items]
  if h["unreadable_store_records"]:
    lines.append(f"**store records that could not be read** ({len(h['unreadable_store_records'])}):")
    lines += [f"- {e}" for e in h["unreadable_store_records"]]
  lines.append("")
  if h["duplicates"]:
    lines.append(f"**duplicated files** (same content), {len(h['duplicates'])} group(s):")
    for g in h["duplicates"]:
      where = " across splits" if g["across_splits"] else ""
      lines.append(f"- {g['bytes']:,} bytes{where}: " + ", ".join(f"`{f['path']}` ({f['split']})" for f in g["files"]))
  else:
    lines.append("No two listed files have the same content.")
  return "\n".join(lines) + "\n"
