"""Reproduces the β-VAE paper's 2D-shapes comparison (Higgins et al. 2017).

``reproduce(settings)`` runs the paper study (``paper_study``): the
β-VAE recipe and the plain VAE (β = 1, same architecture, steps and seeds)
for every seed, and the other methods of ``settings.methods`` like the
β-VAE, each a job of tf_betavae.studies that trains, exports and scores
its encoder with the β-VAE metric under both protocols (``paper`` and
``disentanglement_lib``), MIG, FactorVAE, DCI and SAP, on the study's
local engine, ``parallel_runs`` at a time; the study ranks each model's
seeds by UDR.  The PCA, ICA, raw-pixel and untrained-encoder baselines are
scored here (``evaluations``).  ``analysis`` checks the targets, and the
raw results are returned; ``report`` renders them.

Resumability: done jobs and cached evaluations are reused, so a rerun with
the same settings trains nothing and evaluates nothing; a killed job
resumes from its checkpoint.  Other settings on the same work dir are
refused, naming what differs (the study directory holds one study).  One
reproduction at a time writes a work dir: ``reproduce`` holds its lock
(``tf_betavae.locking``) throughout, so a second one on the same work dir
is refused before it writes anything; each job holds its own directory's
lock.  Presets and randomness: see ``settings``.
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
from tf_betavae.experiments import paper_study
from tf_betavae.experiments import settings as settings_lib
from tf_betavae.experiments import udr
from tf_betavae import training
from tf_betavae.models import methods as methods_lib
from tf_betavae.studies import engines
from tf_betavae.studies import job as job_lib
from tf_betavae.studies import report as study_report
from tf_betavae.studies import spec as spec_lib
from tf_betavae.studies import study_dir as study_dir_lib


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


def _training_entry(study_dir, job, state):
  """The ``training`` part of a trained (model, seed)'s results, from its
  study job (done: its row, run summary and config)."""
  row = job_lib.done_row(study_dir, job)
  run_dir = os.path.join(study_dir_lib.job_dir(study_dir, job),
                         job_lib.RUN_SUBDIR)
  summary = io_utils.read_json(os.path.join(run_dir,
                                            training.SUMMARY_FILE))
  config = job_lib.train_config(job)
  # {} when unknown: a run killed after its last checkpoint and before its
  # summary, then rerun, trains no step and so measured nothing.
  train_metrics = summary.get("metrics") or {}
  return {"run_dir": run_dir, "step": row["steps"],
          "export_path": os.path.abspath(os.path.join(study_dir,
                                                      row["export_path"])),
          "beta": config.beta, "config": config.to_dict(),
          "job_id": row["job_id"], "model_num": row["model_num"],
          "reused": state != job_lib.DONE,
          "train_seconds": round(row["train_seconds"], 1),
          "final_metrics": train_metrics,
          "active_latents": (analysis.active_latents(train_metrics)
                             if analysis.has_latent_kl(train_metrics)
                             else None)}


def _trained_entry(settings, study_dir, job, training_entry, factor_names,
                   state):
  """The table entry of a trained (model, seed): its study job's cached
  scores under the reproduction's metric keys."""
  results = {}
  for key in settings.metrics:
    stored = io_utils.read_json(job_lib.metric_path(
        study_dir, job, paper_study.study_metric(key),
        settings.representation))
    results[key] = stored["result"]
  computed = list(settings.metrics) if state == job_lib.DONE else []
  return evaluations.entry_of_results(
      results, factor_names, training_entry["active_latents"],
      computed=computed,
      reused=[k for k in settings.metrics if k not in computed])


def _train_and_score(settings, ground_truth, in_workers):
  """Runs the paper study's jobs (training, export and scores of every
  trained model and seed) on the local engine, ``parallel_runs`` at a
  time; then the baselines' evaluations.

  Returns:
    (entries {(model, seed): table entry}, training entries {(model, seed):
    training entry}, trained run dirs, study directory).

  Raises:
    tf_betavae.studies.engines.JobsFailed: a job failed (a non-finite loss
      among them: its ``non_finite``); each error is in the message.
  """
  spec = paper_study.paper_spec(settings)
  study_dir = paper_study.study_dir(settings)
  try:
    study_dir_lib.open_study(study_dir, spec)
  except spec_lib.StudyError as e:
    raise settings_lib.UsageError(
        f"{e}; give another --work_dir for other settings") from None
  jobs = spec_lib.jobs(spec)
  run = engines.run_study(
      study_dir, spec, jobs,
      engines.EngineOptions(workers=settings.parallel_runs))
  # The study's own report (results.csv, report.md with its figures,
  # TensorBoard HParams) beside the reproduction's table.
  study_report.write_report(study_dir, spec, jobs)
  run.raise_for_failures()
  states = {o["model_num"]: o["state"] for o in run.outcomes}
  factor_names = list(ground_truth.factor_names)
  entries, training_entries, trained = {}, {}, []
  for model, method, value in paper_study.trained_groups(settings):
    for seed in settings.model_seeds(model):
      job = paper_study.job_of_group(spec, method, value, seed)
      state = states.get(job.model_num, job_lib.SKIPPED)
      entry = _training_entry(study_dir, job, state)
      training_entries[(model, seed)] = entry
      entries[(model, seed)] = _trained_entry(
          settings, study_dir, job, entry, factor_names, state)
      if state == job_lib.DONE and entry["run_dir"] not in trained:
        trained.append(entry["run_dir"])
  baseline_jobs = [
      evaluations.EvaluationJob(
          model, seed, evaluations.baseline_source(settings, model, seed))
      for model, _, kind in settings.table_models() if kind != "trained"
      for seed in settings.model_seeds(model)]
  entries.update(evaluations.evaluate_all(settings, ground_truth,
                                          baseline_jobs,
                                          in_workers=in_workers))
  return entries, training_entries, trained, study_dir


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


def _add_udr(settings, study_dir, models):
  """Adds each multi-seed trained model's UDR (scored by the study, per
  (dataset, method, value) group); returns its seconds."""
  seconds = 0.0
  for model, method, value in paper_study.trained_groups(settings):
    if len(settings.model_seeds(model)) > 1:
      models[model]["udr"] = udr.udr_of_group(
          settings, study_dir, (settings.dataset, method, value))
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
  entries, training_entries, trained, study_dir = _train_and_score(
      settings, ground_truth, in_workers)
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
      "study_dir": study_dir,
      "trained": trained,
      "evaluations_computed": sum(len(e["evaluations_computed"])
                                  for e in entries.values()),
      "evaluations_reused": sum(len(e["evaluations_reused"])
                                for e in entries.values()),
  }
  split["udr"] = _add_udr(settings, study_dir, models)
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
