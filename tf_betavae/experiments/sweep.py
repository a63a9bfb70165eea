"""A sweep of one method's hyperparameter: a study, its table and plot.

The paper chooses β by the disentanglement metric, trading it against the
reconstruction error; the other methods of tf_betavae.models.methods are
chosen the same way over their own hyperparameter (``METHODS[m]
.hyperparameter``: γ of FactorVAE, λ_od of DIP-VAE, ...).  A sweep is a
one-method study (tf_betavae.studies, ``sweep_spec``) in ``sweep_dir``:
each (value, seed) is a job that trains, exports and scores its encoder
with one metric, and each value's seeds are ranked by UDR, all run by the
study's local engine.  ``run_sweep`` adds what only a sweep has: the
held-out reconstruction error of each run, ``<sweep_dir>/sweep.csv`` and
the score-against-value plot ``<sweep_dir>/sweep.png``.

Resumable as any study: done jobs are skipped, a killed one resumes from
its checkpoint; a sweep with other settings on the same directory is
refused, naming what differs.  One sweep at a time writes a sweep
directory: ``run_sweep`` holds its lock (``tf_betavae.locking``)
throughout, so a second sweep on the same directory is refused before it
writes anything.
"""

import csv
import dataclasses
import io
import math
import os

from absl import logging
import numpy as np
import tensorflow as tf

from tf_betavae import io_utils
from tf_betavae import locking
from tf_betavae.experiments import cache
from tf_betavae.experiments import parallel
from tf_betavae.experiments import sweep_settings
from tf_betavae.models import likelihoods
from tf_betavae.models import methods as methods_lib
from tf_betavae.studies import engines
from tf_betavae.studies import group_udr
from tf_betavae.studies import job as job_lib
from tf_betavae.studies import report as study_report
from tf_betavae.studies import spec as spec_lib
from tf_betavae.studies import study_dir as study_dir_lib
from tf_betavae.visualize import image_utils
from tf_betavae.visualize import sweep_plot

RECONSTRUCTION_SUBDIR = "reconstruction"
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
UsageError = sweep_settings.UsageError


@dataclasses.dataclass
class MetricSettings:
  """How each run is scored.

  Attributes:
    metric: a name of tf_betavae.metrics.METRICS.
    protocol: protocol of the beta_vae metric.
    num_train, num_eval: sample-size overrides (None: the protocol's).
    seed: seeds the metric's RandomState (plus each job's seed, as in
      every study) and the sample UDR compares seeds on.
    num_reconstruction_images: held-out images for the reconstruction error.
  """

  metric: str = "beta_vae"
  protocol: str = "disentanglement_lib"
  num_train: object = None
  num_eval: object = None
  seed: int = 0
  num_reconstruction_images: int = 512


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


def _row(study_dir, job, config, done, settings, reconstruction):
  """The CSV row of one done job (its study row, its config, its held-out
  reconstruction)."""
  return {
      **_method_columns(config),
      "seed": config.seed,
      "steps": done["steps"],
      "metric": settings.metric,
      "score": float(done["metrics"][study_metric(settings)]),
      "reconstruction": reconstruction,
      "train_reconstruction": done["reconstruction"],
      "kl": done["kl"],
      "active_latents": done["active_latents"],
      "wall_seconds": done["wall_seconds"],
      "run_dir": os.path.join(os.path.abspath(study_dir), "jobs",
                              done["job_id"], job_lib.RUN_SUBDIR),
      "export_path": os.path.abspath(os.path.join(study_dir,
                                                  done["export_path"])),
      "job_id": done["job_id"],
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


def study_metric(settings):
  """The study's metric key of a sweep's metric and protocol."""
  if settings.metric == "beta_vae" and settings.protocol == "paper":
    return "beta_vae_paper"
  return settings.metric


def sweep_spec(base_config, values, seeds, settings, udr_num_points):
  """The one-method study of a sweep.

  Args:
    base_config: TrainConfig of the swept method (``sweep_settings.
      prepare``); every setting but the grid's (dataset, method, seed,
      steps, the hyperparameter) is shared by the jobs.
    values, seeds: the grid.
    settings: MetricSettings (metric, protocol, sizes, seed).
    udr_num_points: images of the sample UDR compares each value's seeds on.

  Returns:
    tf_betavae.studies.spec.StudySpec named ``sweep_<method>``: its jobs
    run one at a time with every CPU of this machine, as sweeps always
    trained.
  """
  shared = base_config.to_dict()
  hyperparameter = methods_lib.get(base_config.method).hyperparameter
  for name in ("dataset", "method", "seed", "steps", hyperparameter):
    shared.pop(name, None)
  metric = study_metric(settings)
  sizes = (settings.num_train, settings.num_eval)
  return spec_lib.StudySpec(
      name=f"sweep_{base_config.method}", datasets=(base_config.dataset,),
      methods=((base_config.method, tuple(values)),), seeds=tuple(seeds),
      steps=base_config.steps, metrics=(metric,), train_settings=shared,
      metric_sizes={metric: sizes} if sizes != (None, None) else {},
      metric_seed=settings.seed, udr_num_points=udr_num_points,
      threads_per_job=len(parallel.available_cpus()))


def _reconstruction(study_dir, job, config, export_path, step, settings,
                    ground_truth):
  """The held-out reconstruction of a job's export (cached beside the job
  in <sweep_dir>/reconstruction/<job_id>.json)."""
  key = {"export_path": os.path.basename(export_path), "step": step,
         "likelihood": config.likelihood,
         "gaussian_stddev": config.gaussian_stddev,
         "num_images": settings.num_reconstruction_images,
         "seed": settings.seed + 1}
  path = os.path.join(study_dir, RECONSTRUCTION_SUBDIR,
                      f"{spec_lib.job_id(job)}.json")
  value = cache.load(path, key, field="nats")
  if value is None:
    value = heldout_reconstruction(
        export_path, ground_truth, config.likelihood,
        config.gaussian_stddev, settings.num_reconstruction_images,
        settings.seed + 1)
    cache.store(path, key, value, field="nats")
  return value


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


def add_udr(rows, sweep_dir, dataset):
  """Each value's UDR over its seeds, as the sweep's study scored it.

  Sets each row's ``udr`` (Lasso), ``udr_spearman`` and ``udr_picked``
  (the seed UDR would keep for its value: the highest Lasso UDR, the
  lowest seed among ties); rows of a value with one seed, or whose UDR the
  study could not score, get None and False.

  Args:
    rows: the sweep's rows (changed in place; one method).
    sweep_dir: the sweep's study directory.
    dataset: str, the runs' dataset.

  Returns:
    {value: the seed UDR picks} for every value with a UDR.
  """
  picks = {}
  for value in sorted({r["value"] for r in rows}):
    group = sorted((r for r in rows if r["value"] == value),
                   key=lambda r: r["seed"])
    for row in group:
      row.update(udr=None, udr_spearman=None, udr_picked=False)
    stored = io_utils.read_json_if_present(group_udr.udr_path(
        sweep_dir, (dataset, group[0]["method"], value)))
    if len(group) < 2 or not stored:
      continue
    per_seed = stored["result"]["per_seed"]
    for row in group:
      entry = per_seed.get(str(row["seed"]))
      if entry is not None:
        row.update(udr=entry["udr_lasso"], udr_spearman=entry["udr_spearman"])
    scored = [r for r in group if r["udr"] is not None]
    if scored:
      best = max(scored, key=lambda r: (r["udr"], -r["seed"]))
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
  """Runs the sweep's study (skipping done jobs), then its table and plot.

  Args:
    base_config: TrainConfig of the swept method (``prepare``); its
      hyperparameter and seed are set per job.
    values: list of float, values of the method's hyperparameter.
    seeds: list of int.
    sweep_dir: str, the study directory.
    settings: MetricSettings.
    ground_truth: ground-truth object of base_config.dataset (the held-out
      reconstruction's images).
    udr_num_points: images of the sample on which UDR compares the seeds
      of each value (see ``add_udr``).

  Returns:
    dict: method, hyperparameter (its TrainConfig name), rows (list of CSV
    rows, in value then seed order, with UDR columns), csv (path), plot
    (path), best (best_value's dict), udr_picks ({value: the seed UDR
    picks}), trained (run dirs trained and scored in this call), skipped
    (run dirs done before).

  Raises:
    UsageError: the directory holds a study of other settings.
    tf_betavae.studies.engines.JobsFailed: a job failed (each error named).
    tf_betavae.locking.LockHeldError: another live process holds the
      sweep directory's lock; nothing was written.
  """
  with locking.exclusive(sweep_dir, f"sweep directory {sweep_dir}"):
    return _run_sweep_holding_lock(base_config, values, seeds, sweep_dir,
                                   settings, ground_truth, udr_num_points)


def _run_sweep_holding_lock(base_config, values, seeds, sweep_dir, settings,
                            ground_truth, udr_num_points):
  """``run_sweep`` once this process may write sweep_dir."""
  spec = sweep_spec(base_config, values, seeds, settings, udr_num_points)
  try:
    study_dir_lib.open_study(sweep_dir, spec)
  except spec_lib.StudyError as e:
    raise UsageError(f"{e}; give another --sweep_dir for other "
                     "settings") from None
  jobs = spec_lib.jobs(spec)
  run = engines.run_study(sweep_dir, spec, jobs,
                          engines.EngineOptions(workers=1))
  study_report.write_report(sweep_dir, spec, jobs)
  run.raise_for_failures()
  ran = {o["model_num"] for o in run.outcomes
         if o["state"] == job_lib.DONE}
  rows, trained, skipped = [], [], []
  for job in jobs:
    config = job_lib.train_config(job)
    done = job_lib.done_row(sweep_dir, job)
    export_path = os.path.join(sweep_dir, done["export_path"])
    reconstruction = _reconstruction(sweep_dir, job, config, export_path,
                                     done["steps"], settings, ground_truth)
    row = _row(sweep_dir, job, config, done, settings, reconstruction)
    rows.append(row)
    (trained if job.model_num in ran else skipped).append(row["run_dir"])
    logging.info("%s: %s %.4f, reconstruction %.2f nats, kl %.2f nats",
                 _text(config, config.seed), settings.metric, row["score"],
                 reconstruction, row["kl"])
  picks = add_udr(rows, sweep_dir, base_config.dataset)
  csv_path = write_csv(rows, os.path.join(sweep_dir, CSV_FILE))
  plot_path = os.path.join(sweep_dir, PLOT_FILE)
  image_utils.write_png(sweep_plot.sweep_plot(
      rows, summarize(rows), best_value(rows), settings.metric,
      x_key="value", x_label=sweep_settings.axis_label(base_config.method)),
                        plot_path)
  finite = [r for r in rows if math.isfinite(r["score"])]
  return {"method": base_config.method,
          "hyperparameter": methods_lib.get(
              base_config.method).hyperparameter,
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
