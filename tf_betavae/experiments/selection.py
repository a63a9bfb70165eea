"""Label-free model selection: rank exports or training runs by UDR.

``rank_models(paths, random_state, ...)`` loads every model (a SavedModel
export of this package, a model folder of integer versions, or a training
run directory whose ``train_summary.json`` names its export), checks that
they take the same images and have the same number of latents, encodes one
shared seeded sample of images with all of them and returns them best first
by UDR (``metrics.udr``), with their informative latents and the label-free
scores of ``metrics.unsupervised``.  On datasets with ground-truth factors
each model's supervised scores go beside it: read from ``metrics.json``
beside the export (scripts/evaluate.py writes it) when it holds them for
the same dataset (and, for beta_vae, the disentanglement_lib protocol),
otherwise computed (β-VAE metric with disentanglement_lib's protocol, and
MIG) at the caller's sizes.
"""

import json
import math
import os

from absl import logging
import numpy as np

from tf_betavae import data
from tf_betavae import io_utils
from tf_betavae import metrics
from tf_betavae.data.indexed import MissingFactorsError
from tf_betavae.experiments import model_loading
from tf_betavae import progress
from tf_betavae.metrics import sampling
from tf_betavae.metrics import udr
from tf_betavae.metrics import unsupervised

# select_models.py's --method values and the correlation each one uses.
METHODS = {"udr_lasso": "lasso", "udr_spearman": "spearman"}
SUPERVISED_METRICS = ("beta_vae", "mig")
SUPERVISED_PROTOCOL = "disentanglement_lib"
METRICS_FILE = "metrics.json"  # written beside an export by evaluate.py
# The loading API, named here too because a ranking is what callers ask for.
SelectionError = model_loading.SelectionError
LoadedModel = model_loading.LoadedModel
resolve_export = model_loading.resolve_export
load_models = model_loading.load_models
RUN_SUMMARY_FILE = model_loading.RUN_SUMMARY_FILE
DEFAULT_BATCH_SIZE = model_loading.DEFAULT_BATCH_SIZE
UNSUPERVISED_SCORES = ("gaussian_total_correlation",
                       "gaussian_wasserstein_correlation",
                       "gaussian_wasserstein_correlation_norm",
                       "mutual_info_score")


def choose_dataset(models, dataset=None):
  """The dataset to sample: ``dataset`` or the one all models name.

  Raises:
    SelectionError: no override and the models' metadata names no dataset
      or different ones; an unknown dataset; or one whose images do not fit
      the models.
  """
  if dataset is None:
    named = {m.path: m.metadata.get("dataset") for m in models}
    values = set(named.values())
    if None in values:
      missing = [p for p, d in named.items() if d is None]
      raise SelectionError(f"the export of {missing[0]} does not record its "
                           "dataset; pass the dataset to use")
    if len(values) > 1:
      listed = ", ".join(f"{p}: {d}" for p, d in named.items())
      raise SelectionError(f"models were trained on different datasets "
                           f"({listed}); pass the dataset to use")
    dataset, = values
  try:
    shape = tuple(data.image_shape(dataset))
  except data.UnknownDatasetError as e:
    raise SelectionError(str(e)) from None
  if any(d is not None and d != s
         for d, s in zip(models[0].image_shape, shape)) or len(
             models[0].image_shape) != len(shape):
    raise SelectionError(
        f"the models take images {list(models[0].image_shape)} but dataset "
        f"{dataset!r} has {list(shape)}")
  return dataset


def models_data(models, dataset, data_dir=None):
  """Where to read ``dataset`` for the models: where the first model trained
  on it read it (its export's metadata: the official dSprites file, say),
  or ``data_dir`` when given (tf_betavae.data.source_of).

  Returns:
    tf_betavae.data.DataSource.
  """
  recorded = next((m.metadata for m in models
                   if m.metadata.get("dataset") == dataset), None)
  try:
    return data.source_of(recorded or dataset, dataset=dataset,
                          data_dir=data_dir)
  except ValueError as e:
    raise SelectionError(f"the export's data settings: {e}") from None


def _ground_truth_or_none(source):
  if not source.has_ground_truth():
    return None
  try:
    return source.ground_truth()
  except (data.UnknownDatasetError, data.DatasetUnavailableError) as e:
    raise SelectionError(str(e)) from None


def sample_posteriors(models, dataset, num_points, random_state,
                      ground_truth=None, data_dir=None,
                      chunk_images=sampling.DEFAULT_CHUNK_IMAGES):
  """Every model's posterior on one shared sample of the dataset's images.

  With a ground truth, factors are drawn i.i.d. and rendered as the metrics
  do (``sampling.sample_codes_and_factors``); otherwise the first
  ``num_points`` images of the dataset's training stream, shuffled with a
  seed drawn from ``random_state``.

  Args:
    models: list of LoadedModel.
    dataset: str, a dataset name.
    num_points: int, images in the sample.
    random_state: np.random.RandomState.
    ground_truth: the dataset's ground-truth object, or None.
    data_dir: where real datasets live.
    chunk_images: int, images rendered and encoded at a time.

  Returns:
    list of (latent_mean, log_variance), float64 [num_points, D] each, one
    per model.

  Raises:
    SelectionError: the dataset's data is not available.
  """
  representation_fn, split = udr.stack_encoders([m.encode for m in models])
  if ground_truth is not None:
    codes, _ = sampling.sample_codes_and_factors(
        ground_truth, representation_fn, num_points, random_state,
        chunk_images)
    return split(codes)
  batch_size = min(num_points, 2048)
  seed = int(random_state.randint(2**31 - 1))
  try:
    stream, _ = data.training_dataset(dataset, batch_size, seed,
                                      data_dir=data_dir)
  except (data.UnknownDatasetError, data.DatasetUnavailableError) as e:
    raise SelectionError(str(e)) from None
  chunks, count = [], 0
  for batch in stream:
    if isinstance(batch, (tuple, list)):
      batch = batch[0]
    images = np.asarray(batch, np.float32)[:num_points - count]
    chunks.append(sampling.encode(representation_fn, images))
    count += len(images)
    if count >= num_points:
      break
  return split(np.concatenate(chunks))


def udr_of_exports(paths, dataset, num_points, random_state,
                   ground_truth=None, methods=tuple(METHODS),
                   kl_filter_threshold=udr.DEFAULTS["kl_filter_threshold"]):
  """UDR of several models, with every method, on one shared sample.

  The sample is encoded once and scored with each method: what sweeps and
  reproductions report for the seeds of one setting.

  Args:
    paths: list of at least 2 model paths (see ``resolve_export``).
    dataset: str, the dataset the images come from.
    num_points: int, images in the shared sample.
    random_state: np.random.RandomState drawing the sample.
    ground_truth: the dataset's ground-truth object, or None (images then
      come from the dataset's training stream).
    methods: keys of METHODS.
    kl_filter_threshold: float, nats.

  Returns:
    dict: ``per_model`` (one dict per path, in order: a score per method
    and ``informative_latents``) and ``parameters`` {method: the UDR
    parameters}.

  Raises:
    SelectionError: the models cannot be loaded or compared.
  """
  models = load_models(list(paths))
  posteriors = sample_posteriors(models, dataset, num_points, random_state,
                                 ground_truth)
  per_model = [{} for _ in models]
  parameters = {}
  for method in methods:
    scored = udr.compute_udr_from_posteriors(
        posteriors, correlation=METHODS[method],
        kl_filter_threshold=kl_filter_threshold)
    parameters[method] = scored["parameters"]
    for entry, score, informative in zip(per_model, scored["model_scores"],
                                         scored["informative_latents"]):
      entry[method] = float(score)
      entry["informative_latents"] = int(informative)
  return {"per_model": per_model, "parameters": parameters}


def stored_scores(export_dir, dataset):
  """Supervised scores in ``metrics.json`` beside an export, if usable.

  An entry is used when it was computed on ``dataset`` and, for beta_vae,
  with the disentanglement_lib protocol.

  Returns:
    dict metric name -> {"score", "source": "metrics.json", and the
    entry's protocol, seed and parameters when present}.
  """
  path = os.path.join(export_dir, METRICS_FILE)
  if not os.path.exists(path):
    return {}
  try:
    results = io_utils.read_json(path)
  except (OSError, ValueError) as e:
    logging.warning("ignoring %s: %s", path, e)
    return {}
  kept = {}
  for name, result in results.items():
    if not isinstance(result, dict) or "score" not in result:
      continue
    if result.get("dataset") != dataset:
      continue
    if name == "beta_vae" and result.get("protocol") != SUPERVISED_PROTOCOL:
      continue
    entry = {"score": result["score"], "source": METRICS_FILE}
    for key in ("protocol", "seed", "parameters"):
      if key in result:
        entry[key] = result[key]
    kept[name] = entry
  return kept


def supervised_scores(model, ground_truth, dataset, seed, num_train=None,
                      num_eval=None, names=SUPERVISED_METRICS):
  """A model's supervised scores: stored ones, the missing ones computed.

  Args:
    model: LoadedModel.
    ground_truth: the dataset's ground-truth object.
    dataset: str, its name (to match stored scores).
    seed: int; each computed metric uses np.random.RandomState(seed), as
      scripts/evaluate.py --seed does.
    num_train, num_eval: sizes for the computed metrics (None: each
      metric's disentanglement_lib default).
    names: metrics that must be present.

  Returns:
    dict metric name -> {"score", "source", ...}.

  Raises:
    SelectionError: a metric cannot be computed on this data.
  """
  scores = stored_scores(model.export_dir, dataset)
  missing = [name for name in names if name not in scores]
  if not missing:
    return scores
  representation_fn, _ = metrics.prepare_representation(
      ground_truth, model.latent_mean, missing, protocol=SUPERVISED_PROTOCOL,
      num_train=num_train, num_eval=num_eval)
  for name in missing:
    logging.info("Computing %s of %s.", name, model.path)
    try:
      result = metrics.run_metric(
          name, ground_truth, representation_fn,
          np.random.RandomState(seed), protocol=SUPERVISED_PROTOCOL,
          num_train=num_train, num_eval=num_eval)
    except MissingFactorsError as e:
      raise SelectionError(f"metric {name}: {e}; rank without supervised "
                           "scores or use the complete data") from None
    scores[name] = {"score": float(result["score"]), "source": "computed",
                    "seed": int(seed),
                    "parameters": json.loads(json.dumps(
                        result.get("parameters", {}), default=str))}
    if name == "beta_vae":
      scores[name]["protocol"] = SUPERVISED_PROTOCOL
  return scores


def _finite_or_none(value):
  value = float(value)
  return value if math.isfinite(value) else None


def _check_ranking_arguments(method, supervised, num_points):
  if method not in METHODS:
    raise SelectionError(f"method must be one of {', '.join(METHODS)}, got "
                         f"{method!r}")
  if supervised not in ("auto", "none"):
    raise SelectionError(f"supervised must be auto or none, got "
                         f"{supervised!r}")
  if num_points < 2:
    raise SelectionError(f"the sample needs at least 2 images, got "
                         f"{num_points}")


def _model_entry(model, index, udr_result, posteriors):
  """One model's ranking entry without its rank and supervised scores."""
  scores = unsupervised.compute_unsupervised_from_codes(posteriors[index][0])
  return {
      "model": model.path,
      "export": model.export_dir,
      "udr": udr_result["model_scores"][index],
      "informative_latents": udr_result["informative_latents"][index],
      "latent_dim": model.latent_dim,
      "unsupervised": {k: _finite_or_none(scores[k])
                       for k in UNSUPERVISED_SCORES},
  }


def rank_models(paths, random_state, method="udr_lasso",
                num_points=udr.DEFAULTS["num_points"], dataset=None,
                data_dir=None, supervised="auto", supervised_num_train=None,
                supervised_num_eval=None,
                kl_filter_threshold=udr.DEFAULTS["kl_filter_threshold"],
                batch_size=DEFAULT_BATCH_SIZE):
  """Ranks models by UDR on one shared sample, best first.

  Args:
    paths: list of at least 2 model paths (see ``resolve_export``).
    random_state: np.random.RandomState; draws the shared sample, then the
      seed of any supervised metric computed.
    method: "udr_lasso" or "udr_spearman".
    num_points: int, images in the shared sample (default 10,000).
    dataset: str or None; None: the dataset all exports record.
    data_dir: where real datasets live (tfds data_dir, or the dSprites file);
      None: where the models' runs read them (``models_data``).
    supervised: "auto" (supervised scores where the dataset has factors) or
      "none".
    supervised_num_train, supervised_num_eval: sizes of computed supervised
      metrics (None: disentanglement_lib's).
    kl_filter_threshold: float, nats; latents at or below it are ignored.
    batch_size: int, images per encode call.

  Returns:
    dict: ``method``, ``dataset``, ``parameters``, ``models`` (best first;
    each ``model`` (the path given), ``export``, ``udr``,
    ``informative_latents``, ``latent_dim``, ``unsupervised`` (scores, None
    where not finite) and, with supervised scores, ``supervised``), and
    ``pairwise_scores`` (``models`` in the order given, ``scores`` [M][M]).

  Raises:
    SelectionError: bad models, method, dataset or data (one-line message).
  """
  _check_ranking_arguments(method, supervised, num_points)
  models = load_models(list(paths), batch_size)
  dataset = choose_dataset(models, dataset)
  source = models_data(models, dataset, data_dir)
  ground_truth = _ground_truth_or_none(source)
  logging.info("Encoding %d images of %s with %d models.", num_points,
               dataset, len(models))
  posteriors = sample_posteriors(models, dataset, num_points, random_state,
                                 ground_truth, source.data_dir)
  result = udr.compute_udr_from_posteriors(
      posteriors, correlation=METHODS[method],
      kl_filter_threshold=kl_filter_threshold)
  with_supervised = supervised == "auto" and ground_truth is not None
  supervised_seed = (int(random_state.randint(2**31 - 1))
                     if with_supervised else None)
  counter = progress.Progress("model", len(models))
  entries = []
  for index, model in enumerate(models):
    entry = _model_entry(model, index, result, posteriors)
    if with_supervised:
      counter.starting(index, model.path)
      entry["supervised"] = supervised_scores(
          model, ground_truth, dataset, supervised_seed,
          supervised_num_train, supervised_num_eval)
      counter.finished(model.path)
    entries.append(entry)
  order = sorted(range(len(entries)), key=lambda i: -entries[i]["udr"])
  parameters = dict(result["parameters"])
  parameters.update(num_bins=unsupervised.DEFAULTS["num_bins"],
                    supervised=supervised if ground_truth is not None
                    else "none (dataset has no factors)")
  if with_supervised:
    parameters.update(supervised_num_train=supervised_num_train,
                      supervised_num_eval=supervised_num_eval,
                      supervised_seed=supervised_seed,
                      supervised_protocol=SUPERVISED_PROTOCOL)
  return {
      "method": method,
      "dataset": dataset,
      "parameters": parameters,
      "models": [dict(entries[i], rank=rank + 1)
                 for rank, i in enumerate(order)],
      "pairwise_scores": {"models": [m.path for m in models],
                          "scores": result["pairwise_scores"]},
  }


def pool_summary(ranking, pool_sizes):
  """How often each ranked model would be UDR's pick among pools of them.

  Every pool of ``pool_size`` of the ranking's models is scored from the
  ranking's pair scores (``udr.pool_picks``), as if a user had trained only
  those seeds: the shares say how often that many seeds give each model,
  and, where every model has supervised scores, the pick's mean score says
  what UDR's choice is worth against a model taken at random.

  Args:
    ranking: ``rank_models``'s dict.
    pool_sizes: iterable of int, each in [2, number of models].

  Returns:
    list, one dict per pool size in the order given: ``pool_size``,
    ``pools`` (their number), ``picks`` (``model``, ``count``, ``share``,
    in the pairwise order; models never picked included) and, with
    supervised scores on every model, ``pick_mean`` and ``model_mean``
    {metric: mean score of the pick over the pools / of all models}.

  Raises:
    SelectionError: a pool size out of range, or too many pools.
  """
  models = ranking["pairwise_scores"]["models"]
  by_model = {entry["model"]: entry for entry in ranking["models"]}
  names = [name for name in SUPERVISED_METRICS
           if all(name in by_model[m].get("supervised", {}) for m in models)]
  scores = {name: np.array([by_model[m]["supervised"][name]["score"]
                            for m in models], np.float64) for name in names}
  out = []
  for pool_size in pool_sizes:
    try:
      counts = udr.pool_picks(ranking["pairwise_scores"]["scores"], pool_size)
    except ValueError as e:
      raise SelectionError(str(e)) from None
    pools = int(counts.sum())
    entry = {"pool_size": int(pool_size), "pools": pools,
             "picks": [{"model": m, "count": int(c), "share": float(c / pools)}
                       for m, c in zip(models, counts)]}
    if names:
      entry["pick_mean"] = {n: float(counts @ scores[n] / pools)
                            for n in names}
      entry["model_mean"] = {n: float(scores[n].mean()) for n in names}
    out.append(entry)
  return out


def rank_to_file(paths, seed, output=None, pool_sizes=(), **kwargs):
  """``rank_models`` with RandomState(seed); the seed is recorded in the
  ranking's parameters, ``pool_summary`` over ``pool_sizes`` (when any) in
  its ``pools``, and the ranking written to ``output`` (JSON) when given.

  Returns:
    the ranking dict.

  Raises:
    SelectionError: as rank_models and pool_summary.
  """
  ranking = rank_models(paths, np.random.RandomState(seed), **kwargs)
  ranking["parameters"]["seed"] = seed
  if pool_sizes:
    ranking["pools"] = pool_summary(ranking, pool_sizes)
  if output:
    io_utils.write_json_atomic(output, ranking)
    logging.info("Wrote %s.", output)
  return ranking


def _score_text(value):
  return "-" if value is None else f"{value:.4f}"


def ranking_table(ranking):
  """The ranking as text, one row per model, best first."""
  names = sorted({name for entry in ranking["models"]
                  for name in entry.get("supervised", {})})
  header = f"{'rank':<5}{'udr':>8}{'informative':>13}" + "".join(
      f"{name:>11}" for name in names) + "  model"
  lines = [f"{ranking['method']} on {ranking['dataset']}", header]
  for entry in ranking["models"]:
    supervised = entry.get("supervised", {})
    latents = f"{entry['informative_latents']}/{entry['latent_dim']}"
    lines.append(
        f"{entry['rank']:<5}{entry['udr']:>8.4f}{latents:>13}" + "".join(
            f"{_score_text(supervised.get(n, {}).get('score')):>11}"
            for n in names) + f"  {entry['model']}")
  for pool in ranking.get("pools", []):
    shares = ", ".join(f"{p['model']} {p['share']:.2f}"
                       for p in sorted(pool["picks"], key=lambda p:
                                       -p["count"]) if p["count"])
    lines.append(f"pools of {pool['pool_size']} ({pool['pools']}): picked "
                 f"{shares}")
    for name, mean in pool.get("pick_mean", {}).items():
      lines.append(f"  {name}: pick's mean {mean:.4f}, all models' mean "
                   f"{pool['model_mean'][name]:.4f}")
  return "\n".join(lines)
