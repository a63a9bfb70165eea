"""Scores of a reproduction, computed once and cached on disk.

Layout under a reproduction's ``work_dir``::

  evaluations/<model>/seed<s>/<metric key>.json   one cached result

An evaluation file is reused when its recorded key (metric, protocol,
sizes, metric seed, dataset and the representation: export path and step,
or the baseline's settings) equals the current one (see ``cache``).  A
rerun with the same settings therefore evaluates nothing.

``Evaluator`` runs or reuses the metric entries of one (model, seed);
``evaluate_all`` does it for every ``EvaluationJob`` of a reproduction,
in pinned worker processes when asked to.  ``timed_metric`` is the one
call of a metric (with its wall seconds) that reproductions, sweeps and
scripts/evaluate.py share.
"""

import dataclasses
import os
import time

from absl import logging
import numpy as np

from tf_betavae import data as data_lib
from tf_betavae import io_utils
from tf_betavae import metrics
from tf_betavae.experiments import analysis
from tf_betavae.experiments import cache
from tf_betavae.experiments import parallel
from tf_betavae import progress
from tf_betavae.experiments import settings as settings_lib
from tf_betavae.metrics import baselines
from tf_betavae.metrics import code_table

RESULTS_VERSION = 1
# The paper protocol's classifier, part of its cache key: results of another
# classifier are recomputed rather than reused.
PAPER_CLASSIFIER = "full-batch-adagrad-standardised"
# Raw-pixel evaluations cost the most (gradient boosting over 4,096
# features), then trained models (a SavedModel to load): the costly are
# handed out first so that workers finish together.
_EVALUATION_ORDER = {"pixels": 0}
_TRAINED_ORDER, _BASELINE_ORDER = 1, 2


def timed_metric(name, ground_truth, representation_fn, seed, **kwargs):
  """One metric's result, JSON-ready, with its wall ``seconds``.

  Args:
    name: a name of tf_betavae.metrics.METRICS.
    ground_truth: ground-truth object.
    representation_fn: images [N, H, W, C] -> codes [N, D].
    seed: int; the metric draws from np.random.RandomState(seed).
    **kwargs: protocol, num_train, num_eval, paper_factors of
      metrics.run_metric.

  Returns:
    dict: the metric's result (``score``, details, ``parameters``) plus
    ``seconds``.
  """
  start = time.time()
  result = metrics.run_metric(name, ground_truth, representation_fn,
                              np.random.RandomState(seed), **kwargs)
  result = io_utils.to_jsonable(result)
  result["seconds"] = round(time.time() - start, 2)
  return result


def metric_sizes(settings, model, metric_key):
  """(num_train, num_eval) of one metric entry of one model (None = full)."""
  if model == "pixels" and metric_key in settings.pixel_sizes:
    return tuple(settings.pixel_sizes[metric_key])
  if metric_key in settings.metric_sizes:
    return tuple(settings.metric_sizes[metric_key])
  return settings.num_train, settings.num_eval


class Evaluator:
  """Runs or reuses the metric entries of one (model, seed).

  Attributes:
    computed, reused: metric keys computed / read from the cache so far.
  """

  def __init__(self, settings, ground_truth, model, seed, source, build_fn):
    """Args: settings (Settings), the ground truth, the model key, the
    seed, ``source`` (JSON-ready description of the representation, part
    of every cache key) and ``build_fn() -> representation fn``, called at
    most once and only when a metric must be computed."""
    self._settings = settings
    self._gt = ground_truth
    self._model = model
    self._seed = seed
    self._source = source
    self._build_fn = build_fn
    self._fn = None
    self._table_info = None
    self.computed = []
    self.reused = []
    self._dir = os.path.join(settings.work_dir, "evaluations", model,
                             f"seed{seed}")

  def planned_images(self, metric_keys):
    """Images the metrics of ``metric_keys`` would encode without a table."""
    total = 0
    for metric_key in metric_keys:
      entry = settings_lib.METRIC_ENTRIES[metric_key]
      num_train, num_eval = metric_sizes(self._settings, self._model,
                                         metric_key)
      total += code_table.planned_images(
          entry.metric, metrics.metric_sizes(entry.metric, entry.protocol,
                                             num_train, num_eval))
    return total

  def _representation(self):
    """(representation fn, code-table info): the built representation,
    tabulated (every observation encoded once) when the metrics still to
    compute would encode at least as many images; see
    tf_betavae.metrics.tabulate_if_worth_it.  Scores do not depend on it."""
    fn = self._build_fn()
    pending = [k for k in self._settings.metrics if self.cached(k) is None]
    fn, info = metrics.tabulate_if_worth_it(
        self._gt, fn, self.planned_images(pending),
        code_table=self._settings.code_table)
    if info["used"]:
      logging.info("%s seed %d: code table of %d observations built in "
                   "%.0f s", self._model, self._seed, info["observations"],
                   info["build_seconds"])
    return fn, info

  def key(self, metric_key):
    """The cache key of one metric entry (a JSON-ready dict)."""
    entry = settings_lib.METRIC_ENTRIES[metric_key]
    num_train, num_eval = metric_sizes(self._settings, self._model,
                                       metric_key)
    key = {"version": RESULTS_VERSION, "metric": entry.metric,
           "protocol": entry.protocol,
           "num_train": num_train, "num_eval": num_eval,
           "metric_seed": self._settings.metric_seed + self._seed,
           "dataset": self._settings.dataset,
           "dsprites_file": self._settings.dsprites_file,
           "source": self._source}
    if entry.paper_factors is not None:
      key.update(paper_factors=entry.paper_factors,
                 classifier=PAPER_CLASSIFIER)
    return key

  def _path(self, metric_key):
    return os.path.join(self._dir, metric_key + ".json")

  def cached(self, metric_key):
    """The cached result dict of a metric entry, or None."""
    return cache.load(self._path(metric_key), self.key(metric_key))

  def result(self, metric_key):
    """The metric's result dict (with ``seconds``), cached on disk."""
    key = self.key(metric_key)
    cached = self.cached(metric_key)
    if cached is not None:
      self.reused.append(metric_key)
      return cached
    setup_seconds = None
    if self._fn is None:
      setup_start = time.time()
      self._fn, self._table_info = self._representation()
      setup_seconds = round(time.time() - setup_start, 2)
    logging.info("evaluating %s seed %d: %s", self._model, self._seed,
                 metric_key)
    result = timed_metric(
        key["metric"], self._gt, self._fn, key["metric_seed"],
        protocol=key["protocol"], num_train=key["num_train"],
        num_eval=key["num_eval"],
        paper_factors=key.get("paper_factors", "auto"))
    result["code_table"] = io_utils.to_jsonable(self._table_info)
    if setup_seconds is not None:
      # Loading the model (or fitting the baseline) and building the code
      # table, paid once by the first metric computed in this process.
      result["setup_seconds"] = setup_seconds
    cache.store(self._path(metric_key), key, result)
    self.computed.append(metric_key)
    logging.info("%s seed %d: %s = %.4f (%.0f s)", self._model, self._seed,
                 metric_key, result["score"], result["seconds"])
    return result


def trained_builder(export_path, ground_truth):
  """build_fn of a trained model: its export's serving_default."""
  def build():
    return metrics.saved_model_representation(
        export_path, observation_shape=ground_truth.observation_shape)
  return build


def baseline_builder(name, ground_truth, seed, settings):
  """build_fn of a baseline, fitted with RandomState(seed)."""
  def build():
    logging.info("building the %s baseline (seed %d)", name, seed)
    return baselines.make_baseline(
        name, ground_truth, np.random.RandomState(seed), seed,
        settings.recipe.latent_dim, settings.baseline_num_fit)
  return build


def baseline_source(settings, model, seed):
  """The ``source`` (cache-key part) of a baseline of one seed."""
  return {"baseline": model, "seed": seed,
          "dim": settings.recipe.latent_dim,
          "num_fit": settings.baseline_num_fit}


def trained_source(export_path, step):
  """The ``source`` (cache-key part) of a trained model's export."""
  return {"export_path": os.path.abspath(export_path), "step": step}


# Training-time details copied from a seed's results into its table entry:
# (entry name, metric key, result field).
_DETAILS = (
    ("dci_completeness", "dci", "completeness"),
    ("dci_informativeness_test", "dci", "informativeness_test"),
    ("beta_vae_dl_train_accuracy", "beta_vae_dl", "train_accuracy"),
    ("beta_vae_paper_train_accuracy", "beta_vae_paper", "train_accuracy"),
    ("beta_vae_paper_all_train_accuracy", "beta_vae_paper_all",
     "train_accuracy"),
)
_CLASSIFIER_DETAILS = (
    # What a linear classifier trained to convergence reaches on the same
    # training examples (the paper classifier should match it).
    ("beta_vae_paper_lr_train_accuracy", "beta_vae_paper"),
    ("beta_vae_paper_all_lr_train_accuracy", "beta_vae_paper_all"),
)


def _details(results):
  details = {name: (results[key].get(field) if key in results else None)
             for name, key, field in _DETAILS}
  for name, key in _CLASSIFIER_DETAILS:
    details[name] = ((results[key].get("classifier") or {}).get(
        "logistic_regression_train_accuracy") if key in results else None)
  # Where the β-VAE metric loses its points (None for results cached
  # before the metric recorded its confusion).
  details["beta_vae_dl_accuracy_per_factor"] = (
      (results["beta_vae_dl"].get("eval_confusion") or {}).get(
          "accuracy_per_factor") if "beta_vae_dl" in results else None)
  details["factor_vae_num_active_dims"] = (
      results["factor_vae"].get("num_active_dims")
      if "factor_vae" in results else None)
  return details


def seed_entry(evaluator, factor_names, active, metric_keys):
  """The table entry of one (model, seed): scores, details, factors.

  Args:
    evaluator: Evaluator of the (model, seed).
    factor_names: the ground truth's factor names.
    active: latent indices to list in ``factors`` (None: all).
    metric_keys: metric keys to evaluate.

  Returns:
    dict: scores, details, metric_parameters, metric_seconds,
    setup_seconds, factors (analysis.latent_factors or None without MIG),
    evaluations_computed, evaluations_reused.
  """
  results = {key: evaluator.result(key) for key in metric_keys}
  return entry_of_results(results, factor_names, active, evaluator.computed,
                          evaluator.reused)


def entry_of_results(results, factor_names, active, computed, reused):
  """The table entry of one (model, seed) from its metric results.

  Args:
    results: {metric key: the metric's result dict (score, details,
      parameters, seconds)}.
    factor_names: the ground truth's factor names.
    active: latent indices to list in ``factors`` (None: all).
    computed, reused: metric keys computed now / read from a cache.

  Returns:
    dict as ``seed_entry`` returns it.
  """
  return {
      "scores": {key: float(r["score"]) for key, r in results.items()},
      "details": _details(results),
      "metric_parameters": {k: r.get("parameters") for k, r in results.items()},
      "metric_seconds": {k: r.get("seconds") for k, r in results.items()},
      "setup_seconds": sum(r.get("setup_seconds") or 0.0
                           for r in results.values()),
      "factors": (analysis.latent_factors(results["mig"], factor_names,
                                          active)
                  if "mig" in results else None),
      "evaluations_computed": list(computed),
      "evaluations_reused": list(reused),
  }


@dataclasses.dataclass(frozen=True)
class EvaluationJob:
  """One (model, seed) of a reproduction's table to evaluate.

  Attributes:
    model: a model key of settings.MODELS.
    seed: int.
    source: JSON-ready description of the representation (cache-key part).
    export_path: the trained model's export, or None for a baseline.
    active: latent indices listed in the factor table (None: all).
  """

  model: str
  seed: int
  source: dict
  export_path: object = None
  active: object = None


_JOB_GROUND_TRUTHS = {}


def _ground_truth_of(settings):
  """The settings' ground truth, built once per process."""
  source = data_lib.source_of(settings)
  if source not in _JOB_GROUND_TRUTHS:
    _JOB_GROUND_TRUTHS[source] = source.ground_truth()
  return _JOB_GROUND_TRUTHS[source]


def evaluate_job(settings, ground_truth, job):
  """The seed_entry of one EvaluationJob; ground_truth None: built from
  the settings (once per process, as pinned workers do)."""
  if ground_truth is None:
    ground_truth = _ground_truth_of(settings)
  if job.export_path is not None:
    build = trained_builder(job.export_path, ground_truth)
  else:
    build = baseline_builder(job.model, ground_truth, job.seed, settings)
  evaluator = Evaluator(settings, ground_truth, job.model, job.seed,
                        job.source, build)
  return seed_entry(evaluator, list(ground_truth.factor_names), job.active,
                    settings.metrics)


def all_cached(settings, job):
  """Whether every metric of ``settings.metrics`` is cached for ``job``."""
  evaluator = Evaluator(settings, None, job.model, job.seed, job.source, None)
  return all(evaluator.cached(key) for key in settings.metrics)


def evaluate_all(settings, ground_truth, jobs, in_workers=True):
  """Evaluates (or reuses) every EvaluationJob of ``jobs``.

  With ``settings.parallel_runs`` > 1, ``in_workers`` and more than one
  job left to compute, they run in pinned worker processes that rebuild
  the ground truth from the settings (a ground truth handed in by a caller
  cannot be rebuilt there: pass in_workers=False).

  Returns:
    {(model, seed): seed_entry dict}.
  """
  pending = [job for job in jobs if not all_cached(settings, job)]
  counter = progress.Progress("evaluation", len(pending))
  entries = {}
  if settings.parallel_runs > 1 and len(pending) > 1 and in_workers:
    pending.sort(key=lambda job: _EVALUATION_ORDER.get(
        job.model, _BASELINE_ORDER if job.export_path is None
        else _TRAINED_ORDER))
    logging.info("evaluating %d models, %d at a time in pinned processes",
                 len(pending), settings.parallel_runs)
    outcomes = parallel.run_pinned(
        evaluate_job, [(settings, None, job) for job in pending],
        settings.parallel_runs,
        on_done=lambda i, _: counter.finished(_job_text(pending[i])))
    for job, entry in zip(pending, outcomes):
      entries[(job.model, job.seed)] = entry
  for job in jobs:
    if (job.model, job.seed) in entries:
      continue
    computing = job in pending
    if computing:
      counter.starting(counter.done, _job_text(job))
    entries[(job.model, job.seed)] = evaluate_job(settings, ground_truth, job)
    if computing:
      counter.finished(_job_text(job))
  return entries


def _job_text(job):
  return f"{job.model} seed {job.seed}"
