"""Metrics of one SavedModel encoder or baseline, outside a reproduction.

What scripts/evaluate.py runs: ``evaluate(request)`` builds the
representation, encodes through a code table when it pays
(tf_betavae.metrics.prepare_representation), scores each metric with
``evaluations.timed_metric`` and writes the results JSON (and, for an
export of this package, merges them into ``metrics.json`` beside its
``saved_model.pb`` and into its metadata, keyed by metric and protocol,
so concurrent evaluations keep both their results).
"""

import dataclasses
import os

from absl import logging
import numpy as np

from tf_betavae import data
from tf_betavae import export_files
from tf_betavae import io_utils
from tf_betavae import metrics
from tf_betavae.data.indexed import MissingFactorsError
from tf_betavae.experiments import evaluations
from tf_betavae.experiments import model_loading
from tf_betavae.experiments import report
from tf_betavae.experiments import settings as settings_lib
from tf_betavae.metrics import baselines
from tf_betavae.metrics import beta_vae
from tf_betavae.metrics import registry
from tf_betavae.metrics import representation
from tf_betavae.training import run_dir

# The default of --metrics: the metrics this program always ran.
METRIC_NAMES = ("beta_vae", "mig", "factor_vae", "dci", "sap")
# --metrics=all: every metric of disentanglement_lib's unsupervised study,
# then IRS, fairness and the reduced and strong downstream tasks.
ALL = "all"
ALL_METRICS = registry.UNSUPERVISED_STUDY_METRICS + (
    "irs", "fairness", "reduced_downstream_task", "strong_downstream_task")
# Metrics whose training sets must fit in the dataset's observations.
_DOWNSTREAM = ("downstream_task_logistic_regression",
               "downstream_task_boosted_trees", "reduced_downstream_task",
               "strong_downstream_task")
BASELINES = ("pca", "ica", "pixels", "untrained")
METRICS_FILE = export_files.METRICS_FILE

UsageError = settings_lib.UsageError


@dataclasses.dataclass
class EvaluationRequest:
  """What to evaluate and how (the flags of scripts/evaluate.py).

  Attributes:
    saved_model, signature, output_key: a SavedModel (or a training run
      directory: its export) and the signature output used as the code; or
      ``baseline`` (one of BASELINES) with ``baseline_dim`` components.
    dataset, data_dir, dsprites_file, scream_image: the ground truth; None:
      what the model was trained on, read from where its run read it (the
      run's config, or the export's metadata; see ``request_data``), and
      dsprites (the simulator) for a baseline or a model that records none.
    metrics: comma-separated metric names of tf_betavae.metrics.REGISTRY,
      or "all" (ALL_METRICS).
    representation: "mean" (the posterior mean: serving_default) or
      "sampled" (one draw from the posterior per image, from the export's
      ``encode`` signature): disentanglement_lib's two postprocessings.
    protocol, paper_factors: of the beta_vae metric.
    num_train, num_eval: size overrides (None: the protocol's).
    seed: each metric uses RandomState(seed).
    batch_size: images per SavedModel call.
    code_table: one of tf_betavae.metrics.code_table.CODE_TABLE_MODES.
    output: where to write the results JSON (or None).
    write_beside_model: also write metrics.json beside a project export.
  """

  saved_model: object = None
  signature: str = "serving_default"
  output_key: str = "latent_mean"
  baseline: object = None
  baseline_dim: int = 10
  dataset: object = None
  data_dir: object = None
  dsprites_file: object = None
  scream_image: object = None
  metrics: str = ",".join(METRIC_NAMES)
  representation: str = "mean"
  protocol: str = "disentanglement_lib"
  paper_factors: str = "auto"
  num_train: object = None
  num_eval: object = None
  seed: int = 0
  batch_size: int = 2048
  code_table: str = "auto"
  output: object = None
  write_beside_model: bool = True


def metric_names(text):
  """The metric names of a comma-separated list ("all": ALL_METRICS);
  UsageError names an unknown one and the choices."""
  names = [n.strip() for n in text.split(",") if n.strip()]
  if names == [ALL]:
    return list(ALL_METRICS)
  unknown = [n for n in names if n not in registry.REGISTRY]
  if unknown or not names:
    raise UsageError(
        f"--metrics: unknown metric {', '.join(unknown) or text!r}; give "
        f"all or a comma-separated subset of {','.join(registry.REGISTRY)}")
  return names


def check_metric_inputs(names, ground_truth, num_train=None, num_eval=None):
  """UsageError for metrics this ground truth or these sizes cannot serve.

  Args:
    names: metric names.
    ground_truth: the ground-truth object.
    num_train, num_eval: the size overrides (None: the metrics' own).

  Raises:
    UsageError: fairness on fewer than 2 factors; a downstream task whose
      training or test set is larger than the dataset's distinct
      observations.
  """
  num_factors = len(ground_truth.factors_num_values)
  if "fairness" in names and num_factors < 2:
    raise UsageError(f"metric fairness needs a dataset with at least 2 "
                     f"factors (one to predict, one sensitive); this one has "
                     f"{num_factors}")
  observations = int(np.prod(ground_truth.factors_num_values))
  for name in names:
    if name not in _DOWNSTREAM:
      continue
    sizes = metrics.metric_sizes(name, num_train=num_train,
                                 num_eval=num_eval)
    largest = max(np.ravel(sizes["num_train"]).tolist() +
                  [sizes["num_test"]])
    if largest > observations:
      raise UsageError(
          f"metric {name}: a set of {largest} points is larger than the "
          f"dataset's {observations} distinct observations; give "
          f"--num_train/--num_eval of at most {observations}")


def _is_run_dir(path):
  return bool(path) and os.path.isfile(os.path.join(path,
                                                    run_dir.RUN_CONFIG_FILE))


def _export_dir(saved_model):
  """A training run directory's export; any other path as it is."""
  if not _is_run_dir(saved_model):
    return saved_model
  try:
    return model_loading.resolve_export(saved_model)
  except model_loading.SelectionError as e:
    raise UsageError(str(e)) from None


def request_data(request):
  """The data a request is evaluated on (tf_betavae.data.DataSource): the
  model's training data, read from where its run read it, unless the
  request names a dataset or locations (model_loading.model_data).

  Raises:
    UsageError: the run directory's config is unreadable, or a setting is
      not a string.
  """
  try:
    return model_loading.model_data(
        request.saved_model, dataset=request.dataset,
        data_dir=request.data_dir, dsprites_file=request.dsprites_file,
        scream_image=request.scream_image)
  except model_loading.SelectionError as e:
    raise UsageError(str(e)) from None


def resolve(request):
  """The request with its model and data explicit: a run directory's
  export as ``saved_model``, the dataset and locations of ``request_data``.

  Raises:
    UsageError: see request_data; a run directory without an export.
  """
  source = request_data(request)
  return dataclasses.replace(
      request, saved_model=_export_dir(request.saved_model),
      dataset=source.dataset, **source.locations())


def _check(request):
  if bool(request.saved_model) == bool(request.baseline):
    raise UsageError("give exactly one of --saved_model DIR or --baseline "
                     "pca|ica|pixels|untrained")
  for name in ("num_train", "num_eval"):
    if getattr(request, name) is not None and getattr(request, name) < 2:
      raise UsageError(f"--{name} must be at least 2")
  if not 0 <= request.seed < 2**32:
    raise UsageError(f"--seed must lie in [0, 2**32), got {request.seed}")
  if request.batch_size < 1:
    raise UsageError(f"--batch_size must be at least 1, got "
                     f"{request.batch_size}")
  names = metric_names(request.metrics)
  if request.representation not in representation.REPRESENTATIONS:
    raise UsageError(f"--representation must be one of "
                     f"{', '.join(representation.REPRESENTATIONS)}, got "
                     f"{request.representation!r}")
  if request.baseline and request.representation != "mean":
    raise UsageError("--representation=sampled needs a model's posterior; "
                     "a baseline has none")
  try:
    gt = request_data(request).ground_truth()
  except (data.UnknownDatasetError, data.DatasetUnavailableError) as e:
    raise UsageError(str(e)) from e
  check_metric_inputs(names, gt, request.num_train, request.num_eval)
  if request.baseline and request.baseline != "pixels":
    # PCA and ICA keep at most one component per pixel.
    most = (int(np.prod(gt.observation_shape))
            if request.baseline in ("pca", "ica") else None)
    if request.baseline_dim < 1 or (most and request.baseline_dim > most):
      limit = f" and at most {most}" if most else ""
      raise UsageError(f"--baseline_dim must be at least 1{limit} for "
                       f"--baseline={request.baseline}, got "
                       f"{request.baseline_dim}")
  if "beta_vae" in names and request.protocol == "paper":
    try:
      beta_vae.resolve_factors(gt, request.paper_factors)
    except ValueError as e:
      raise UsageError(f"--paper_factors: {e}") from e
  return names, gt


def _representation(request, gt):
  """(representation fn, source dict, metrics.json path beside the model
  or None)."""
  if not request.saved_model:
    fn = baselines.make_baseline(
        request.baseline, gt, np.random.RandomState(request.seed),
        request.seed, request.baseline_dim)
    return fn, {"baseline": request.baseline,
                "dim": request.baseline_dim}, None
  request = dataclasses.replace(request,
                                saved_model=_export_dir(request.saved_model))
  try:
    if request.representation == "sampled":
      # The posterior's mean and log variance; each metric samples from it
      # (_score_all), so a code table may hold it.
      fn = representation.saved_model_posterior(
          request.saved_model, request.batch_size,
          observation_shape=gt.observation_shape)
      signature, output_key = (representation.ENCODE_SIGNATURE,
                               representation.MEAN_OUTPUT)
    else:
      fn = representation.saved_model_representation(
          request.saved_model, request.signature, request.output_key,
          request.batch_size, observation_shape=gt.observation_shape)
      signature, output_key = request.signature, request.output_key
  except representation.RepresentationError as e:
    raise UsageError(str(e)) from e
  source = {"saved_model": os.path.abspath(request.saved_model),
            "signature": signature, "output_key": output_key}
  beside_model = None
  if request.write_beside_model and representation.is_project_export(
      request.saved_model, fn.input_name, request.signature,
      request.output_key):
    beside_model = os.path.join(request.saved_model, METRICS_FILE)
  return fn, source, beside_model


def _score_all(request, gt, fn, names, source, table_info):
  results = {}
  for name in names:
    logging.info("Computing %s.", name)
    metric_fn = fn
    if request.representation == "sampled":
      metric_fn = representation.sampled(
          fn, representation.sampling_random_state(request.seed, name))
    try:
      result = evaluations.timed_metric(
          name, gt, metric_fn, request.seed, protocol=request.protocol,
          num_train=request.num_train, num_eval=request.num_eval,
          paper_factors=request.paper_factors)
    except MissingFactorsError as e:
      raise UsageError(f"metric {name}: {e}; this metric needs every "
                       "combination of the grid (use the complete file)") from e
    except ValueError as e:
      # What the metric's own checks refuse (sizes, factors): one line.
      raise UsageError(f"metric {name}: {e}") from e
    result.update(representation=source, dataset=request.dataset,
                  seed=request.seed, code_table=table_info,
                  postprocessing=request.representation)
    results[name] = io_utils.to_jsonable(result)
  return results


def evaluate(request):
  """Evaluates a request; returns {metric name: result dict}.

  Each result holds ``score``, the metric's details and ``parameters``,
  plus representation, dataset, seed, seconds and code_table.

  Raises:
    UsageError: a bad request (one-line message).
  """
  names, gt = _check(request)
  request = resolve(request)
  fn, source, beside_model = _representation(request, gt)
  # After the model loaded: a bad --saved_model is the first line a user sees.
  logging.info("Evaluating on %s.", request_data(request))
  try:
    fn, table_info = metrics.prepare_representation(
        gt, fn, names, protocol=request.protocol,
        num_train=request.num_train, num_eval=request.num_eval,
        code_table=request.code_table)
  except metrics.CodeTableError as e:
    raise UsageError(f"--code_table=always: {e}") from e
  if table_info["used"]:
    logging.info("Code table: %d observations encoded once in %.1f s.",
                 table_info["observations"], table_info["build_seconds"])
  results = _score_all(request, gt, fn, names, source, table_info)
  if request.output:
    io_utils.write_json_atomic(request.output, results)
    logging.info("Wrote %s.", request.output)
  if beside_model:
    # Merged with what other evaluations stored there, under the export's
    # lock: two evaluations at once keep both their results.
    export_files.record_results(request.saved_model, results)
    logging.info("Merged the results into %s and the export's metadata.",
                 beside_model)
  return results


def results_table(results):
  """The results as a short text table, one metric a line."""
  lines = [f"{'metric':<12}{'score':>8}  details"]
  keys = ("train_accuracy", "eval_accuracy", "completeness",
          "informativeness_test", "num_active_dims")
  for name, r in results.items():
    details = ", ".join(
        f"{k}={r[k]:.4g}" if isinstance(r[k], float) else f"{k}={r[k]}"
        for k in keys if k in r)
    lines.append(f"{name:<12}{r['score']:>8.4f}  {details}")
    if "eval_confusion" in r:
      lines.append(" " * 22 + confusion_line(r["eval_confusion"]))
  return "\n".join(lines)


def confusion_line(confusion):
  """One line from a β-VAE metric's ``eval_confusion``: the accuracy on each
  fixed factor and the most frequent mistake."""
  names = confusion["factors"]
  text = ("accuracy per fixed factor: " +
          report.accuracy_per_factor_text(confusion["accuracy_per_factor"]))
  counts = np.asarray(confusion["counts"], np.int64)
  mistakes = counts - np.diag(np.diag(counts))
  i, j = np.unravel_index(np.argmax(mistakes), mistakes.shape)
  if mistakes[i, j] == 0:
    return text
  return (f"{text}; most frequent mistake: {names[i]} fixed taken for "
          f"{names[j]} ({mistakes[i, j]} of {counts[i].sum()})")
