"""Reproduces the β-VAE paper's 2D-shapes comparison (Higgins et al. 2017).

``reproduce(settings)`` trains the β-VAE recipe and the plain VAE (β = 1,
same architecture, steps and seeds) for every seed (``runs``), and the
other methods of ``settings.methods`` like the β-VAE, scores each
trained encoder and the PCA, ICA, raw-pixel and untrained-encoder
baselines with the β-VAE metric under both protocols (``paper`` and
``disentanglement_lib``), MIG, FactorVAE, DCI and SAP (``evaluations``),
ranks each trained model's seeds by UDR (``udr``), checks the targets
(``analysis``) and returns the raw results; ``report`` renders them.

Resumability: finished runs and cached evaluations are reused (see
``runs`` and ``evaluations``), so a rerun with the same settings trains
nothing and evaluates nothing.  One reproduction at a time writes a work
dir: ``reproduce`` holds its lock (``tf_betavae.locking``) throughout, so a
second one on the same work dir is refused before it writes anything.  The
worker processes it starts write their own run directories and evaluation
files under that lock and do not take it.  Presets and randomness: see
``settings``.
"""

import os
import platform
import time

import tensorflow as tf

import tf_betavae
from tf_betavae import data as data_lib
from tf_betavae import io_utils
from tf_betavae import locking
from tf_betavae.experiments import analysis
from tf_betavae.experiments import evaluations
from tf_betavae.experiments import runs as runs_lib
from tf_betavae.experiments import settings as settings_lib
from tf_betavae.experiments import udr
from tf_betavae.models import methods as methods_lib


def machine_info():
  """Platform, CPU count, TensorFlow version and GPUs of this machine."""
  gpus = []
  for device in tf.config.list_physical_devices("GPU"):
    try:
      name = tf.config.experimental.get_device_details(device).get(
          "device_name", device.name)
    except Exception:  # pylint: disable=broad-except
      name = device.name
    gpus.append(name)
  return {"platform": platform.platform(), "python": platform.python_version(),
          "cpu_count": os.cpu_count(), "tensorflow": tf.__version__,
          "gpus": gpus}


def _training_entry(job, outcome):
  """The ``training`` part of a trained (model, seed)'s results."""
  summary, reused = outcome
  # {} when unknown: a run killed after its last checkpoint and before its
  # summary, then rerun, trains no step and so measured nothing.
  train_metrics = summary.get("metrics") or {}
  return {"run_dir": job.run_dir, "step": summary["step"],
          "export_path": os.path.abspath(summary["export_path"]),
          "beta": job.config.beta, "config": job.config.to_dict(),
          "reused": reused,
          "train_seconds": runs_lib.train_seconds(job.run_dir),
          "final_metrics": train_metrics,
          "active_latents": (analysis.active_latents(train_metrics)
                             if analysis.has_latent_kl(train_metrics)
                             else None)}


def _evaluation_jobs(settings, trained_runs):
  """(EvaluationJob list, {(model, seed): training entry}) of the table."""
  jobs, training_entries = [], {}
  trained = {(job.model, job.seed): job
             for job in runs_lib.training_jobs(settings)}
  for model, _, kind in settings.table_models():
    for seed in settings.model_seeds(model):
      if kind != "trained":
        jobs.append(evaluations.EvaluationJob(
            model, seed, evaluations.baseline_source(settings, model, seed)))
        continue
      job = trained[(model, seed)]
      summary, _ = trained_runs[job.run_dir]
      entry = _training_entry(job, trained_runs[job.run_dir])
      training_entries[(model, seed)] = entry
      jobs.append(evaluations.EvaluationJob(
          model, seed,
          evaluations.trained_source(summary["export_path"], summary["step"]),
          summary["export_path"], entry["active_latents"]))
  return jobs, training_entries


def _seed_seconds(entry):
  return (sum(v or 0.0 for v in entry["metric_seconds"].values())
          + (entry.get("setup_seconds") or 0.0))


def _models(settings, entries, training_entries):
  """The ``models`` dict of the results: per model its seeds and summary."""
  models = {}
  for model, label, kind in settings.table_models():
    seeds = {}
    for seed in settings.model_seeds(model):
      entry = entries[(model, seed)]
      if kind == "trained":
        entry["training"] = training_entries[(model, seed)]
      seeds[str(seed)] = entry
    models[model] = {"label": label, "kind": kind,
                     "paper": settings_lib.PAPER_TABLE1.get(model),
                     "seeds": seeds,
                     "summary": analysis.summarize_seeds(seeds)}
    if model in settings.methods:
      info = methods_lib.get(model)
      models[model]["method"] = {"name": model,
                                 "hyperparameter": info.hyperparameter,
                                 "value": settings.methods[model]}
  return models


def _add_udr(settings, ground_truth, models, training_entries):
  """Adds each multi-seed trained model's UDR; returns its seconds."""
  seconds = 0.0
  for model, _, kind in settings.table_models():
    if kind == "trained" and len(settings.model_seeds(model)) > 1:
      sources = {seed: training_entries[(model, seed)]
                 for seed in settings.model_seeds(model)}
      models[model]["udr"] = udr.udr_of_seeds(settings, ground_truth, model,
                                              sources)
      seconds += models[model]["udr"]["seconds"]
  return seconds


def reproduce(settings, ground_truth=None):
  """Trains, evaluates (or reuses both) and returns the raw results.

  Args:
    settings: settings.Settings.
    ground_truth: ground-truth object (default: the simulator, or the
      official dSprites file of settings.dsprites_file); one handed in is
      used in this process only (evaluations do not go to workers).

  Returns:
    JSON-serialisable dict: settings, models (per model of the table:
    label, kind, paper (Table 1 value or None), seeds {str(seed): scores,
    details, factors, training info}, summary {metric key: mean, std, n},
    and for another method's row ``method`` {name, hyperparameter, value}),
    checks, passed, trained (run dirs trained in this call), evaluations
    computed/reused counts, compute_seconds (training + metric seconds of
    every run and evaluation, cached or not), compute_seconds_split (those
    seconds by part: training, evaluation, udr and, with a selection check,
    selection) and wall_seconds of this call.

  Raises:
    settings.UsageError, tf_betavae.training.ConfigError,
    tf_betavae.data.DatasetUnavailableError,
    tf_betavae.training.NonFiniteLossError,
    tf_betavae.locking.LockHeldError: another live process holds the work
      dir's lock (or a run directory's); nothing was written.
  """
  start = time.time()
  settings_lib.validate(settings)
  with locking.exclusive(settings.work_dir,
                         f"work dir {settings.work_dir}"):
    return _reproduce_holding_lock(settings, ground_truth, start)


def _reproduce_holding_lock(settings, ground_truth, start):
  """``reproduce`` once this process may write settings.work_dir."""
  in_workers = ground_truth is None
  if ground_truth is None:
    ground_truth = data_lib.source_of(settings).ground_truth()
  trained_runs = runs_lib.train_all(settings)
  jobs, training_entries = _evaluation_jobs(settings, trained_runs)
  entries = evaluations.evaluate_all(settings, ground_truth, jobs,
                                     in_workers=in_workers)
  models = _models(settings, entries, training_entries)
  split = {"training": sum(e["train_seconds"] or 0.0
                           for e in training_entries.values()),
           "evaluation": sum(_seed_seconds(e) for m in models.values()
                             for e in m["seeds"].values())}
  results = {
      "settings": io_utils.to_jsonable(settings.to_dict()),
      "package_version": tf_betavae.__version__,
      "machine": machine_info(),
      "paper": {"source": settings_lib.PAPER_SOURCE,
                "values": dict(settings_lib.PAPER_TABLE1)},
      "factor_names": list(ground_truth.factor_names),
      "models": models,
      "trained": [job.run_dir for job in runs_lib.training_jobs(settings)
                  if not trained_runs[job.run_dir][1]],
      "evaluations_computed": sum(len(e["evaluations_computed"])
                                  for e in entries.values()),
      "evaluations_reused": sum(len(e["evaluations_reused"])
                                for e in entries.values()),
  }
  split["udr"] = _add_udr(settings, ground_truth, models, training_entries)
  results["udr_rank_correlations"] = udr.udr_rank_correlations(
      models, settings.udr_criterion)
  if settings.selection_check and udr.has_picks(settings, models):
    results["selection"] = udr.selection_check(settings, ground_truth, models)
    split["selection"] = results["selection"]["compute_seconds"]
  results["compute_seconds"] = round(sum(split.values()), 1)
  results["compute_seconds_split"] = {k: round(v, 1)
                                      for k, v in split.items()}
  results["checks"] = analysis.checks(results)
  results["passed"] = all(c["passed"] for c in results["checks"])
  results["wall_seconds"] = round(time.time() - start, 1)
  return results
