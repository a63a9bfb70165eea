"""A β sweep: train one run per (β, seed), score it, tabulate and plot.

The paper chooses β by the disentanglement metric, trading it against the
reconstruction error.  ``run_sweep`` trains each (β, seed) into
``<sweep_dir>/beta<β>_seed<seed>`` (in this process, one after another;
experiments.runs), exports it, scores the export's ``serving_default``
with a metric of ``tf_betavae.metrics``, measures its held-out
reconstruction error, ranks each β's seeds by UDR, and writes
``<sweep_dir>/sweep.csv`` and ``<sweep_dir>/sweep.png``.

A run is finished when its ``train_summary.json`` has ``step == steps``
and its ``result.json`` holds a row for the same steps and metric
settings; a rerun skips finished runs (and, for a run trained but not yet
scored, only scores it).  One sweep at a time writes a sweep directory:
``run_sweep`` holds its lock (``tf_betavae.locking``) throughout, so a
second sweep on the same directory is refused before it writes anything.
"""

import csv
import dataclasses
import io
import math
import os
import time

from absl import logging
import numpy as np
import tensorflow as tf

from tf_betavae import data as data_lib
from tf_betavae import io_utils
from tf_betavae import locking
from tf_betavae import metrics
from tf_betavae import training
from tf_betavae.experiments import cache
from tf_betavae.experiments import evaluations
from tf_betavae import progress
from tf_betavae.experiments import runs
from tf_betavae.experiments import selection
from tf_betavae.experiments import settings as settings_lib
from tf_betavae.models import latent_stats
from tf_betavae.models import likelihoods
from tf_betavae.visualize import image_utils
from tf_betavae.visualize import sweep_plot

RESULT_FILE = "result.json"
CSV_FILE = "sweep.csv"
PLOT_FILE = "sweep.png"
CSV_COLUMNS = ("beta", "seed", "steps", "metric", "score", "reconstruction",
               "train_reconstruction", "kl", "active_latents",
               "wall_seconds", "run_dir", "export_path", "udr",
               "udr_spearman", "udr_picked")
UDR_FILE = "udr_beta{beta}.json"
UDR_METHODS = ("udr_lasso", "udr_spearman")

UsageError = settings_lib.UsageError


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


def prepare(steps, betas, dataset, data_dir=None, **train_settings):
  """The sweep's base TrainConfig and ground truth, checked for every β.

  Args:
    steps: training steps of every run; log and checkpoint intervals are
      capped at it.
    betas: the β values (each run's settings are checked before any
      training starts).
    dataset, data_dir: the dataset with ground-truth factors.
    **train_settings: TrainConfig fields (None: TrainConfig's default).

  Returns:
    (base TrainConfig with objective H, ground-truth object).

  Raises:
    UsageError: a bad setting, an unknown or unavailable dataset.
  """
  values = training.TrainConfig().to_dict()
  values.update({k: v for k, v in train_settings.items() if v is not None})
  values.update(dataset=dataset, objective="H", steps=steps)
  if data_dir is not None:
    values["data_dir"] = data_dir
  for name in ("log_every", "checkpoint_every"):
    values[name] = max(1, min(values[name], steps))
  base = training.TrainConfig(**values)
  try:
    for beta in betas:
      training.TrainConfig(**dict(base.to_dict(), beta=beta)).validate()
    if data_dir is None:
      ground_truth = data_lib.ground_truth(dataset)
    else:
      ground_truth = data_lib.ground_truth(dataset, data_dir=data_dir)
  except (training.ConfigError, data_lib.UnknownDatasetError,
          data_lib.DatasetUnavailableError) as e:
    raise UsageError(str(e)) from None
  return base, ground_truth


def is_finished(run_dir, steps, settings):
  """Whether the run is trained to ``steps`` and scored with ``settings``."""
  summary = io_utils.read_json_if_present(
      os.path.join(run_dir, training.SUMMARY_FILE))
  result = io_utils.read_json_if_present(os.path.join(run_dir, RESULT_FILE))
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


def _row(config, summary, settings, score, reconstruction, run_dir, start):
  values = summary["metrics"]
  kl_latents = [v for k, v in values.items() if k.startswith("kl_latent_")]
  return {
      "beta": config.beta,
      "seed": config.seed,
      "steps": summary["step"],
      "metric": settings.metric,
      "score": score,
      "reconstruction": reconstruction,
      "train_reconstruction": float(values["reconstruction"]),
      "kl": float(values["kl"]),
      "active_latents": len(latent_stats.active_latents(kl_latents)),
      "wall_seconds": round(time.time() - start, 2),
      "run_dir": run_dir,
      "export_path": summary["export_path"],
  }


def train_and_score(config, run_dir, settings, ground_truth):
  """Trains (or resumes, or reuses) one run, exports and scores it.

  Args:
    config: tf_betavae.training.TrainConfig of the run.
    run_dir: str, the run's model directory.
    settings: MetricSettings.
    ground_truth: the ground-truth object of config.dataset.

  Returns:
    dict, the run's CSV row (also written to <run_dir>/result.json with
    the metric's full result and settings).
  """
  start = time.time()
  summary, _ = runs.train_or_reuse(config, run_dir, record_seconds=False)
  train_seconds = time.time() - start
  export_path = summary["export_path"]
  representation_fn = metrics.saved_model_representation(
      export_path, observation_shape=ground_truth.observation_shape)
  result = evaluations.timed_metric(
      settings.metric, ground_truth, representation_fn, settings.seed,
      protocol=settings.protocol, num_train=settings.num_train,
      num_eval=settings.num_eval)
  reconstruction = heldout_reconstruction(
      export_path, ground_truth, config.likelihood, config.gaussian_stddev,
      settings.num_reconstruction_images, settings.seed + 1)
  row = _row(config, summary, settings, float(result["score"]),
             reconstruction, run_dir, start)
  io_utils.write_json_atomic(os.path.join(run_dir, RESULT_FILE), {
      "steps": summary["step"], "metric_settings": settings.key(),
      "row": row, "train_seconds": train_seconds, "metric_result": result})
  logging.info("beta %s seed %d: %s %.4f, reconstruction %.2f nats, kl %.2f "
               "nats, %.0f s", format_beta(config.beta), config.seed,
               settings.metric, row["score"], reconstruction, row["kl"],
               row["wall_seconds"])
  return row


def write_csv(rows, path):
  """Writes the rows (dicts with CSV_COLUMNS) as CSV; returns path."""
  text = io.StringIO(newline="")
  writer = csv.DictWriter(text, fieldnames=CSV_COLUMNS, extrasaction="ignore")
  writer.writeheader()
  for row in rows:
    writer.writerow(row)
  return io_utils.write_text_atomic(path, text.getvalue())


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


def _udr_per_model(group, sweep_dir, dataset, ground_truth, num_points, seed):
  """UDR entries of one β's seeds (cached in udr_beta<β>.json)."""
  beta = group[0]["beta"]
  key = {"exports": [[r["export_path"], r["steps"]] for r in group],
         "num_points": num_points, "sample_seed": seed, "dataset": dataset}
  path = os.path.join(sweep_dir, UDR_FILE.format(beta=format_beta(beta)))
  per_model = cache.load(path, key, field="per_model")
  if per_model is None:
    logging.info("UDR of beta %s over seeds %s", format_beta(beta),
                 [r["seed"] for r in group])
    per_model = selection.udr_of_exports(
        [r["export_path"] for r in group], dataset, num_points,
        np.random.RandomState(seed), ground_truth, UDR_METHODS)["per_model"]
    cache.store(path, key, per_model, field="per_model")
  return per_model


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
  picks = {}
  for beta in sorted({r["beta"] for r in rows}):
    group = sorted((r for r in rows if r["beta"] == beta),
                   key=lambda r: r["seed"])
    for row in group:
      row.update(udr=None, udr_spearman=None, udr_picked=False)
    if len(group) < 2:
      continue
    per_model = _udr_per_model(group, sweep_dir, dataset, ground_truth,
                               num_points, seed)
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
  out = []
  for beta in sorted({r["beta"] for r in rows}):
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

  Raises:
    tf_betavae.locking.LockHeldError: another live process holds the
      sweep directory's lock (or a run directory's); nothing was written.
  """
  with locking.exclusive(sweep_dir, f"sweep directory {sweep_dir}"):
    return _run_sweep_holding_lock(base_config, betas, seeds, sweep_dir,
                                   settings, ground_truth, udr_num_points)


def _run_sweep_holding_lock(base_config, betas, seeds, sweep_dir, settings,
                            ground_truth, udr_num_points):
  """``run_sweep`` once this process may write sweep_dir."""
  rows, trained, skipped = [], [], []
  csv_path = os.path.join(sweep_dir, CSV_FILE)
  plot_path = os.path.join(sweep_dir, PLOT_FILE)
  counter = progress.Progress("run", len(betas) * len(seeds))
  for beta in betas:
    for seed in seeds:
      config = dataclasses.replace(base_config, beta=float(beta),
                                   seed=int(seed))
      run_dir = os.path.join(sweep_dir, run_dir_name(beta, seed))
      counter.starting(counter.done, f"beta {format_beta(beta)} seed {seed}")
      if is_finished(run_dir, config.steps, settings):
        logging.info("%s is finished; skipping it", run_dir)
        rows.append(io_utils.read_json(
            os.path.join(run_dir, RESULT_FILE))["row"])
        skipped.append(run_dir)
      else:
        rows.append(train_and_score(config, run_dir, settings, ground_truth))
        trained.append(run_dir)
        write_csv(rows, csv_path)  # progress is visible after every run
      counter.finished(f"beta {format_beta(beta)} seed {seed}")
  picks = add_udr(rows, sweep_dir, base_config.dataset, ground_truth,
                  udr_num_points, settings.seed)
  write_csv(rows, csv_path)
  image_utils.write_png(sweep_plot.sweep_plot(
      rows, summarize(rows), best_beta(rows), settings.metric), plot_path)
  finite = [r for r in rows if math.isfinite(r["score"])]
  return {"rows": rows, "csv": csv_path, "plot": plot_path,
          "best": best_beta(finite), "udr_picks": picks, "trained": trained,
          "skipped": skipped}


def summary_lines(result, metric):
  """What a sweep prints: runs trained, files written, UDR picks, best β."""
  lines = [f"trained {len(result['trained'])} run(s), skipped "
           f"{len(result['skipped'])} finished run(s)",
           f"wrote {result['csv']} and {result['plot']}"]
  for beta, seed in result["udr_picks"].items():
    row = next(r for r in result["rows"]
               if r["beta"] == beta and r["seed"] == seed)
    lines.append(f"beta {format_beta(beta)}: UDR picks seed {seed} (UDR "
                 f"{row['udr']:.3f}, {metric} score {row['score']:.4f})")
  best = result["best"]
  if best is None:
    lines.append("no finite score; no best beta")
  else:
    lines.append(
        f"best beta: {format_beta(best['beta'])} ({metric} score "
        f"{best['score']:.4f}, mean of {best['num_seeds']} seed(s); "
        f"reconstruction {best['reconstruction']:.2f} nats)")
  return lines
