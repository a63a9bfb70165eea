"""A β sweep: train one run per (β, seed), score it, tabulate and plot.

The paper chooses β by the disentanglement metric, trading it against the
reconstruction error.  ``run_sweep`` trains each (β, seed) into
``<sweep_dir>/beta<β>_seed<seed>`` (in this process, one after another),
exports it, scores the export's ``serving_default`` with a metric of
``tf_betavae.metrics``, measures its held-out reconstruction error, and
writes ``<sweep_dir>/sweep.csv`` and ``<sweep_dir>/sweep.png``.

A run is finished when its ``train_summary.json`` has ``step == steps``
and its ``result.json`` holds a row for the same steps and metric
settings; a rerun skips finished runs (and, for a run trained but not yet
scored, only scores it).
"""

import csv
import dataclasses
import math
import os
import time

from absl import logging
import numpy as np

from tf_betavae import io_utils
from tf_betavae.visualize import image_utils

RESULT_FILE = "result.json"
CSV_FILE = "sweep.csv"
PLOT_FILE = "sweep.png"
EXPORT_SUBDIR = "exported"
EXPORT_NAME = "model"
CSV_COLUMNS = ("beta", "seed", "steps", "metric", "score", "reconstruction",
               "train_reconstruction", "kl", "active_latents",
               "wall_seconds", "run_dir", "export_path", "udr",
               "udr_spearman", "udr_picked")
UDR_FILE = "udr_beta{beta}.json"
UDR_METHODS = ("udr_lasso", "udr_spearman")
ACTIVE_THRESHOLD = 0.1  # nats


@dataclasses.dataclass
class MetricSettings:
  """How each run is scored.

  Attributes:
    metric: a name of tf_betavae.metrics.METRICS.
    protocol: protocol of the beta_vae metric.
    num_train, num_eval: sample-size overrides (None: the protocol's).
    seed: seeds the metric's RandomState.
    num_reconstruction_images: held-out images for the reconstruction error.
  """

  metric: str = "beta_vae"
  protocol: str = "disentanglement_lib"
  num_train: object = None
  num_eval: object = None
  seed: int = 0
  num_reconstruction_images: int = 512

  def key(self):
    return dataclasses.asdict(self)


def format_beta(beta):
  """β as it appears in directory names and the CSV: 4.0 -> '4'."""
  return f"{float(beta):g}"


def run_dir_name(beta, seed):
  """'beta<β>_seed<seed>', e.g. beta4_seed0."""
  return f"beta{format_beta(beta)}_seed{int(seed)}"


def _read_json(path):
  return io_utils.read_json(path) if os.path.exists(path) else None


def is_finished(run_dir, steps, settings):
  """Whether the run is trained to ``steps`` and scored with ``settings``."""
  from tf_betavae import training  # pylint: disable=g-import-not-at-top
  summary = _read_json(os.path.join(run_dir, training.SUMMARY_FILE))
  result = _read_json(os.path.join(run_dir, RESULT_FILE))
  return bool(summary and summary.get("step") == steps and result and
              result.get("steps") == steps and
              result.get("metric_settings") == settings.key())


def heldout_reconstruction(export_path, ground_truth, likelihood,
                           gaussian_stddev, num_images, seed):
  """Mean negative log-likelihood of held-out images under the export.

  Images are reconstructed from their posterior mean (the export's
  ``reconstruct`` signature) and scored with the run's pixel likelihood.

  Returns:
    float, nats per image.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tf_betavae.models import likelihoods  # pylint: disable=g-import-not-at-top
  _, images = ground_truth.sample(num_images, np.random.RandomState(seed))
  loaded = tf.saved_model.load(export_path)
  reconstruct = loaded.signatures["reconstruct"]
  kwargs = {"stddev": gaussian_stddev} if likelihood == "gaussian" else {}
  nll = likelihoods.get(likelihood, **kwargs).negative_log_likelihood
  total = 0.0
  for start in range(0, len(images), 256):
    batch = tf.constant(images[start:start + 256])
    mean = tf.clip_by_value(reconstruct(images=batch)["images"], 1e-6,
                            1.0 - 1e-6)
    logits = tf.math.log(mean) - tf.math.log1p(-mean)  # the sigmoid's inverse
    total += float(tf.reduce_sum(nll(batch, logits)))
  return total / len(images)


def train_and_score(config, run_dir, settings, ground_truth):
  """Trains (or resumes) one run, exports and scores it.

  Args:
    config: tf_betavae.training.TrainConfig of the run.
    run_dir: str, the run's model directory.
    settings: MetricSettings.
    ground_truth: the ground-truth object of config.dataset.

  Returns:
    dict, the run's CSV row (also written to <run_dir>/result.json with
    the metric's full result and settings).
  """
  from tf_betavae import metrics  # pylint: disable=g-import-not-at-top
  from tf_betavae import training  # pylint: disable=g-import-not-at-top
  start = time.time()
  summary = training.train(config, run_dir,
                           export_dir=os.path.join(run_dir, EXPORT_SUBDIR),
                           export_name=EXPORT_NAME)
  train_seconds = time.time() - start
  export_path = summary["export_path"]
  representation_fn = metrics.saved_model_representation(
      export_path, observation_shape=ground_truth.observation_shape)
  result = metrics.run_metric(
      settings.metric, ground_truth, representation_fn,
      np.random.RandomState(settings.seed), protocol=settings.protocol,
      num_train=settings.num_train, num_eval=settings.num_eval)
  reconstruction = heldout_reconstruction(
      export_path, ground_truth, config.likelihood, config.gaussian_stddev,
      settings.num_reconstruction_images, settings.seed + 1)
  values = summary["metrics"]
  kl_latents = [v for k, v in values.items() if k.startswith("kl_latent_")]
  row = {
      "beta": config.beta,
      "seed": config.seed,
      "steps": summary["step"],
      "metric": settings.metric,
      "score": float(result["score"]),
      "reconstruction": reconstruction,
      "train_reconstruction": float(values["reconstruction"]),
      "kl": float(values["kl"]),
      "active_latents": sum(1 for v in kl_latents if v > ACTIVE_THRESHOLD),
      "wall_seconds": round(time.time() - start, 2),
      "run_dir": run_dir,
      "export_path": export_path,
  }
  payload = {
      "steps": summary["step"], "metric_settings": settings.key(),
      "row": row, "train_seconds": train_seconds,
      "metric_result": _jsonable(result),
  }
  io_utils.write_json_atomic(os.path.join(run_dir, RESULT_FILE), payload)
  logging.info("beta %s seed %d: %s %.4f, reconstruction %.2f nats, kl %.2f "
               "nats, %.0f s", format_beta(config.beta), config.seed,
               settings.metric, row["score"], reconstruction, row["kl"],
               row["wall_seconds"])
  return row


def _jsonable(value):
  if isinstance(value, dict):
    return {str(k): _jsonable(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [_jsonable(v) for v in value]
  if isinstance(value, np.ndarray):
    return _jsonable(value.tolist())
  if isinstance(value, np.generic):
    return value.item()
  return value


def write_csv(rows, path):
  """Writes the rows (dicts with CSV_COLUMNS) as CSV; returns path."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  tmp = path + ".tmp"
  with open(tmp, "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
      writer.writerow(row)
  os.replace(tmp, path)
  return path


def read_csv(path):
  """Rows of a sweep CSV as dicts (numbers converted)."""
  with open(path, newline="") as f:
    rows = list(csv.DictReader(f))
  for row in rows:
    for key in ("beta", "score", "reconstruction", "train_reconstruction",
                "kl", "wall_seconds"):
      row[key] = float(row[key])
    for key in ("seed", "steps", "active_latents"):
      row[key] = int(row[key])
    for key in ("udr", "udr_spearman"):  # empty: one seed, no UDR
      row[key] = float(row[key]) if row.get(key) else None
    row["udr_picked"] = row.get("udr_picked") == "True"
  return rows


def add_udr(rows, sweep_dir, dataset, ground_truth, num_points, seed):
  """Ranks the seeds of every β with at least two seeds by UDR.

  Sets each row's ``udr`` (Lasso), ``udr_spearman`` and ``udr_picked``
  (the seed UDR would keep for its β); rows of a β with one seed get None
  and False.  Results are cached in ``<sweep_dir>/udr_beta<β>.json`` and
  reused while the exports, their steps and the sample are the same.

  Args:
    rows: the sweep's rows (changed in place).
    sweep_dir: str.
    dataset: str, the runs' dataset.
    ground_truth: its ground-truth object (or None).
    num_points: int, images of the shared sample.
    seed: int, seeds the sample.

  Returns:
    {β: the seed UDR picks} for every β with a UDR.
  """
  from tf_betavae import selection  # pylint: disable=g-import-not-at-top
  picks = {}
  for beta in sorted({r["beta"] for r in rows}):
    group = sorted((r for r in rows if r["beta"] == beta),
                   key=lambda r: r["seed"])
    for row in group:
      row.update(udr=None, udr_spearman=None, udr_picked=False)
    if len(group) < 2:
      continue
    key = {"exports": [[r["export_path"], r["steps"]] for r in group],
           "num_points": num_points, "sample_seed": seed, "dataset": dataset}
    path = os.path.join(sweep_dir, UDR_FILE.format(beta=format_beta(beta)))
    cached = _read_json(path)
    if cached and cached.get("key") == key:
      per_model = cached["per_model"]
    else:
      logging.info("UDR of beta %s over seeds %s", format_beta(beta),
                   [r["seed"] for r in group])
      per_model = selection.udr_of_exports(
          [r["export_path"] for r in group], dataset, num_points,
          np.random.RandomState(seed), ground_truth,
          UDR_METHODS)["per_model"]
      io_utils.write_json_atomic(path, {"key": key, "per_model": per_model})
    for row, entry in zip(group, per_model):
      row.update(udr=entry["udr_lasso"], udr_spearman=entry["udr_spearman"])
    best = max(group, key=lambda r: (r["udr"], -r["seed"]))
    best["udr_picked"] = True
    picks[beta] = best["seed"]
  return picks


def summarize(rows):
  """Per-β means over seeds.

  Returns:
    list of dicts sorted by β: beta, score (mean), score_std,
    reconstruction (mean, nats), num_seeds.
  """
  betas = sorted({r["beta"] for r in rows})
  out = []
  for beta in betas:
    group = [r for r in rows if r["beta"] == beta]
    scores = np.array([r["score"] for r in group], np.float64)
    out.append({
        "beta": beta,
        "score": float(scores.mean()),
        "score_std": float(scores.std()),
        "reconstruction": float(np.mean([r["reconstruction"]
                                         for r in group])),
        "num_seeds": len(group),
    })
  return out


def best_beta(rows):
  """The per-β summary with the highest mean score (smaller β on ties)."""
  summary = summarize(rows)
  if not summary:
    return None
  return max(summary, key=lambda s: (s["score"], -s["beta"]))


def sweep_plot(rows, metric_name="score", dpi=100):
  """Metric score and reconstruction error against β.

  Args:
    rows: the sweep's CSV rows (one per run).
    metric_name: label of the score axis.
    dpi: pixels per inch of a 7 x 4 inch figure.

  Returns:
    uint8 np.ndarray [400, 700, 3] at dpi 100.
  """
  from matplotlib import figure as figure_lib  # pylint: disable=g-import-not-at-top
  summary = summarize(rows)
  fig = figure_lib.Figure(figsize=(7, 4), dpi=dpi)
  ax = fig.add_subplot(1, 1, 1)
  betas = np.array([s["beta"] for s in summary])
  ax.plot(betas, [s["score"] for s in summary], "-o", color="tab:blue",
          label=f"{metric_name} (mean over seeds)")
  ax.scatter([r["beta"] for r in rows], [r["score"] for r in rows],
             color="tab:blue", alpha=0.35, s=14)
  ax.set_xlabel("β")
  ax.set_ylabel(f"{metric_name} score", color="tab:blue")
  right = ax.twinx()
  right.plot(betas, [s["reconstruction"] for s in summary], "-s",
             color="tab:red", label="reconstruction error")
  right.scatter([r["beta"] for r in rows], [r["reconstruction"] for r in rows],
                color="tab:red", alpha=0.35, s=14)
  right.set_ylabel("reconstruction error (nats / image, held out)",
                   color="tab:red")
  positive = betas[betas > 0]
  if len(positive) and positive.max() / positive.min() >= 4:
    if (betas <= 0).any():
      ax.set_xscale("symlog", linthresh=float(positive.min()))
    else:
      ax.set_xscale("log")
  ax.set_xticks(betas)
  ax.set_xticklabels([format_beta(b) for b in betas])
  ax.minorticks_off()
  best = best_beta(rows)
  if best is not None:
    ax.axvline(best["beta"], color="tab:green", linestyle=":", linewidth=1)
  ax.set_title("disentanglement / reconstruction trade-off"
               + (f" (best β = {format_beta(best['beta'])})" if best else ""),
               fontsize=10)
  lines = ax.get_legend_handles_labels()
  lines2 = right.get_legend_handles_labels()
  ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=8,
            loc="best")
  fig.tight_layout()
  return image_utils.figure_to_array(fig)


def run_sweep(base_config, betas, seeds, sweep_dir, settings,
              ground_truth, udr_num_points=10000):
  """Trains and scores every (β, seed), skipping finished runs.

  Args:
    base_config: TrainConfig; β and seed are replaced per run.
    betas: list of float.
    seeds: list of int.
    sweep_dir: str.
    settings: MetricSettings.
    ground_truth: ground-truth object of base_config.dataset.
    udr_num_points: images of the sample on which UDR compares the seeds
      of each β (see ``add_udr``).

  Returns:
    dict: rows (list of CSV rows, in β then seed order, with UDR columns),
    csv (path), plot (path), best (best_beta's dict), udr_picks ({β: the
    seed UDR picks}), trained (list of run dirs trained or scored in this
    call), skipped (run dirs already finished).
  """
  os.makedirs(sweep_dir, exist_ok=True)
  rows, trained, skipped = [], [], []
  csv_path = os.path.join(sweep_dir, CSV_FILE)
  plot_path = os.path.join(sweep_dir, PLOT_FILE)
  for beta in betas:
    for seed in seeds:
      config = dataclasses.replace(base_config, beta=float(beta),
                                   seed=int(seed))
      run_dir = os.path.join(sweep_dir, run_dir_name(beta, seed))
      if is_finished(run_dir, config.steps, settings):
        logging.info("%s is finished; skipping it", run_dir)
        rows.append(_read_json(os.path.join(run_dir, RESULT_FILE))["row"])
        skipped.append(run_dir)
        continue
      logging.info("training %s (beta %s, seed %d, %d steps)", run_dir,
                   format_beta(beta), seed, config.steps)
      rows.append(train_and_score(config, run_dir, settings, ground_truth))
      trained.append(run_dir)
      write_csv(rows, csv_path)  # progress is visible after every run
  picks = add_udr(rows, sweep_dir, base_config.dataset, ground_truth,
                  udr_num_points, settings.seed)
  write_csv(rows, csv_path)
  image_utils.write_png(sweep_plot(rows, settings.metric), plot_path)
  finite = [r for r in rows if math.isfinite(r["score"])]
  return {"rows": rows, "csv": csv_path, "plot": plot_path,
          "best": best_beta(finite), "udr_picks": picks, "trained": trained,
          "skipped": skipped}
