"""A sweep of one method's hyperparameter: train, score, tabulate, plot.

The paper chooses β by the disentanglement metric, trading it against the
reconstruction error; the other methods of tf_betavae.models.methods are
chosen the same way over their own hyperparameter (``METHODS[m]
.hyperparameter``: γ of FactorVAE, λ_od of DIP-VAE, ...).  ``run_sweep``
trains each (value, seed) into ``<sweep_dir>/<run_dir_name>`` (in this
process, one after another; experiments.runs), exports it, scores the
export's ``serving_default`` with a metric of ``tf_betavae.metrics``,
measures its held-out reconstruction error, ranks each value's seeds by
UDR, and writes ``<sweep_dir>/sweep.csv`` and ``<sweep_dir>/sweep.png``.

Run directories are ``beta<β>_seed<s>`` for the β-VAE and
``<method>_<hyperparameter><value>_seed<s>`` for the others (e.g.
``factor_vae_factor_gamma20_seed0``); UDR is cached in
``udr_<the same prefix>.json``.

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

from tf_betavae import io_utils
from tf_betavae import locking
from tf_betavae import metrics
from tf_betavae import progress
from tf_betavae import training
from tf_betavae.experiments import cache
from tf_betavae.experiments import evaluations
from tf_betavae.experiments import runs
from tf_betavae.experiments import selection
from tf_betavae.experiments import sweep_settings
from tf_betavae.models import latent_stats
from tf_betavae.models import likelihoods
from tf_betavae.models import methods as methods_lib
from tf_betavae.visualize import image_utils
from tf_betavae.visualize import sweep_plot

RESULT_FILE = "result.json"
CSV_FILE = "sweep.csv"
PLOT_FILE = "sweep.png"
# method, hyperparameter (its TrainConfig name) and value name what a row
# varies; beta is the run's β where its method reads one (beta_vae,
# beta_tc_vae) and empty otherwise.  They come last so that the columns of
# sweeps written before keep their places.
CSV_COLUMNS = ("beta", "seed", "steps", "metric", "score", "reconstruction",
               "train_reconstruction", "kl", "active_latents",
               "wall_seconds", "run_dir", "export_path", "udr",
               "udr_spearman", "udr_picked", "method", "hyperparameter",
               "value")
UDR_FILE = "udr_{label}.json"
UDR_METHODS = ("udr_lasso", "udr_spearman")
UsageError = sweep_settings.UsageError


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


def _method_columns(config):
  """The row's method, hyperparameter, value and beta columns."""
  info = methods_lib.get(config.method)
  return {"method": info.name, "hyperparameter": info.hyperparameter,
          "value": float(getattr(config, info.hyperparameter)),
          "beta": config.beta if "beta" in info.settings else None}


def _row(config, summary, settings, score, reconstruction, run_dir, start):
  values = summary["metrics"]
  kl_latents = [v for k, v in values.items() if k.startswith("kl_latent_")]
  return {
      **_method_columns(config),
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


def _with_method(row):
  """A row of a β-VAE sweep written before sweeps had other methods, with
  the method columns (unchanged for newer rows)."""
  if row.get("method") in (None, ""):
    row.update(method="beta_vae", hyperparameter="beta",
               value=float(row["beta"]))
  return row


def _text(config, seed=None):
  """'beta 4 seed 0', 'factor_gamma 20 seed 1' (log and progress lines)."""
  name = methods_lib.get(config.method).hyperparameter
  text = f"{name} {sweep_settings.format_value(getattr(config, name))}"
  return text if seed is None else f"{text} seed {seed}"


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
  logging.info("%s: %s %.4f, reconstruction %.2f nats, kl %.2f nats, "
               "%.0f s", _text(config, config.seed), settings.metric,
               row["score"], reconstruction, row["kl"], row["wall_seconds"])
  return row


def write_csv(rows, path):
  """Writes the rows (dicts with CSV_COLUMNS) as CSV; returns path."""
  text = io.StringIO(newline="")
  writer = csv.DictWriter(text, fieldnames=CSV_COLUMNS, extrasaction="ignore")
  writer.writeheader()
  for row in rows:
    writer.writerow(row)
  return io_utils.write_text_atomic(path, text.getvalue())


def _number(text, convert=float):
  """A CSV cell as a number; an empty cell (or column) as None."""
  return convert(text) if text not in (None, "") else None


def read_csv(path):
  """Rows of a sweep CSV as dicts (numbers converted; ``beta``, ``udr``
  and ``udr_spearman`` None where empty).  A CSV written before sweeps
  had other methods reads as a β-VAE sweep."""
  with open(path, newline="") as f:
    rows = list(csv.DictReader(f))
  for row in rows:
    for key in ("beta", "value", "udr", "udr_spearman"):
      row[key] = _number(row.get(key))
    for key in ("score", "reconstruction", "train_reconstruction", "kl",
                "wall_seconds"):
      row[key] = float(row[key])
    for key in ("seed", "steps", "active_latents"):
      row[key] = int(row[key])
    row["udr_picked"] = row.get("udr_picked") == "True"
    _with_method(row)
  return rows


def _udr_per_model(group, sweep_dir, dataset, ground_truth, num_points, seed):
  """UDR entries of one value's seeds (cached in udr_<value label>.json)."""
  first = group[0]
  label = sweep_settings.value_label(first["method"], first["value"])
  key = {"exports": [[r["export_path"], r["steps"]] for r in group],
         "num_points": num_points, "sample_seed": seed, "dataset": dataset}
  path = os.path.join(sweep_dir, UDR_FILE.format(label=label))
  per_model = cache.load(path, key, field="per_model")
  if per_model is None:
    logging.info("UDR of %s %s over seeds %s", first["hyperparameter"],
                 sweep_settings.format_value(first["value"]),
                 [r["seed"] for r in group])
    per_model = selection.udr_of_exports(
        [r["export_path"] for r in group], dataset, num_points,
        np.random.RandomState(seed), ground_truth, UDR_METHODS)["per_model"]
    cache.store(path, key, per_model, field="per_model")
  return per_model


def add_udr(rows, sweep_dir, dataset, ground_truth, num_points, seed):
  """Ranks the seeds of every value with at least two seeds by UDR.

  Sets each row's ``udr`` (Lasso), ``udr_spearman`` and ``udr_picked``
  (the seed UDR would keep for its value); rows of a value with one seed
  get None and False.  Results are cached in
  ``<sweep_dir>/udr_<value label>.json`` and reused while the exports,
  their steps and the sample are the same.

  Args:
    rows: the sweep's rows (changed in place; one method).
    sweep_dir: str.
    dataset: str, the runs' dataset.
    ground_truth: its ground-truth object (or None).
    num_points: int, images of the shared sample.
    seed: int, seeds the sample.

  Returns:
    {value: the seed UDR picks} for every value with a UDR.
  """
  picks = {}
  for value in sorted({r["value"] for r in rows}):
    group = sorted((r for r in rows if r["value"] == value),
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
    picks[value] = best["seed"]
  return picks


def summarize(rows):
  """Per-value means over seeds.

  Returns:
    list of dicts sorted by value: value, score (mean), score_std,
    reconstruction (mean, nats), num_seeds.
  """
  out = []
  for value in sorted({r["value"] for r in rows}):
    group = [r for r in rows if r["value"] == value]
    scores = np.array([r["score"] for r in group], np.float64)
    out.append({
        "value": value,
        "score": float(scores.mean()),
        "score_std": float(scores.std()),
        "reconstruction": float(np.mean([r["reconstruction"]
                                         for r in group])),
        "num_seeds": len(group),
    })
  return out


def best_value(rows):
  """The per-value summary with the highest mean score (smaller value on
  ties)."""
  summary = summarize(rows)
  if not summary:
    return None
  return max(summary, key=lambda s: (s["score"], -s["value"]))


def run_sweep(base_config, values, seeds, sweep_dir, settings,
              ground_truth, udr_num_points=10000):
  """Trains and scores every (value, seed), skipping finished runs.

  Args:
    base_config: TrainConfig of the swept method (``prepare``); its
      hyperparameter and seed are replaced per run.
    values: list of float, values of the method's hyperparameter.
    seeds: list of int.
    sweep_dir: str.
    settings: MetricSettings.
    ground_truth: ground-truth object of base_config.dataset.
    udr_num_points: images of the sample on which UDR compares the seeds
      of each value (see ``add_udr``).

  Returns:
    dict: method, hyperparameter (its TrainConfig name), rows (list of CSV
    rows, in value then seed order, with UDR columns), csv (path), plot
    (path), best (best_value's dict), udr_picks ({value: the seed UDR
    picks}), trained (list of run dirs trained or scored in this call),
    skipped (run dirs already finished).

  Raises:
    tf_betavae.locking.LockHeldError: another live process holds the
      sweep directory's lock (or a run directory's); nothing was written.
  """
  with locking.exclusive(sweep_dir, f"sweep directory {sweep_dir}"):
    return _run_sweep_holding_lock(base_config, values, seeds, sweep_dir,
                                   settings, ground_truth, udr_num_points)


def _run_sweep_holding_lock(base_config, values, seeds, sweep_dir, settings,
                            ground_truth, udr_num_points):
  """``run_sweep`` once this process may write sweep_dir."""
  rows, trained, skipped = [], [], []
  csv_path = os.path.join(sweep_dir, CSV_FILE)
  plot_path = os.path.join(sweep_dir, PLOT_FILE)
  method = base_config.method
  counter = progress.Progress("run", len(values) * len(seeds))
  for value in values:
    for seed in seeds:
      config = sweep_settings.with_value(base_config, value, seed)
      run_dir = os.path.join(
          sweep_dir, sweep_settings.run_dir_name(value, seed, method))
      counter.starting(counter.done, _text(config, seed))
      if is_finished(run_dir, config.steps, settings):
        logging.info("%s is finished; skipping it", run_dir)
        rows.append(_with_method(io_utils.read_json(
            os.path.join(run_dir, RESULT_FILE))["row"]))
        skipped.append(run_dir)
      else:
        rows.append(train_and_score(config, run_dir, settings, ground_truth))
        trained.append(run_dir)
        write_csv(rows, csv_path)  # progress is visible after every run
      counter.finished(_text(config, seed))
  picks = add_udr(rows, sweep_dir, base_config.dataset, ground_truth,
                  udr_num_points, settings.seed)
  write_csv(rows, csv_path)
  image_utils.write_png(sweep_plot.sweep_plot(
      rows, summarize(rows), best_value(rows), settings.metric,
      x_key="value", x_label=sweep_settings.axis_label(method)), plot_path)
  finite = [r for r in rows if math.isfinite(r["score"])]
  return {"method": method,
          "hyperparameter": methods_lib.get(method).hyperparameter,
          "rows": rows, "csv": csv_path, "plot": plot_path,
          "best": best_value(finite), "udr_picks": picks, "trained": trained,
          "skipped": skipped}


def summary_lines(result, metric):
  """What a sweep prints: runs trained, files written, UDR picks, the
  best value ('best beta: 4 (...)', 'best factor_gamma: 20 (...)')."""
  name = result["hyperparameter"]
  lines = [f"trained {len(result['trained'])} run(s), skipped "
           f"{len(result['skipped'])} finished run(s)",
           f"wrote {result['csv']} and {result['plot']}"]
  for value, seed in result["udr_picks"].items():
    row = next(r for r in result["rows"]
               if r["value"] == value and r["seed"] == seed)
    lines.append(f"{name} {sweep_settings.format_value(value)}: UDR picks "
                 f"seed {seed} (UDR {row['udr']:.3f}, {metric} score "
                 f"{row['score']:.4f})")
  best = result["best"]
  if best is None:
    lines.append(f"no finite score; no best {name}")
  else:
    lines.append(
        f"best {name}: {sweep_settings.format_value(best['value'])} "
        f"({metric} score {best['score']:.4f}, mean of "
        f"{best['num_seeds']} seed(s); "
        f"reconstruction {best['reconstruction']:.2f} nats)")
  return lines
