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
import tensorflow as tf

from tf_betavae import export as export_lib
from tf_betavae.metrics import sampling
from tf_betavae.metrics import udr
from tf_betavae.metrics import unsupervised

# select_models.py's --method values and the correlation each one uses.
METHODS = {"udr_lasso": "lasso", "udr_spearman": "spearman"}
SUPERVISED_METRICS = ("beta_vae", "mig")
SUPERVISED_PROTOCOL = "disentanglement_lib"
RUN_SUMMARY_FILE = "train_summary.json"  # tf_betavae.training.SUMMARY_FILE
METRICS_FILE = "metrics.json"  # written beside an export by evaluate.py
DEFAULT_BATCH_SIZE = 2048
UNSUPERVISED_SCORES = ("gaussian_total_correlation",
                       "gaussian_wasserstein_correlation",
                       "gaussian_wasserstein_correlation_norm",
                       "mutual_info_score")


class SelectionError(ValueError):
  """The models cannot be ranked as asked; the message is one line."""


def resolve_export(path):
  """The export version directory a model path stands for.

  Args:
    path: str, an export version directory (holds saved_model.pb), a model
      folder of integer versions (its highest is used) or a training run
      directory (holds train_summary.json with ``export_path``).

  Returns:
    str, the export version directory.

  Raises:
    SelectionError: the path is none of these, or a run without an export.
  """
  if not os.path.isdir(path):
    raise SelectionError(f"{path} is not a directory")
  summary_path = os.path.join(path, RUN_SUMMARY_FILE)
  if (not os.path.exists(os.path.join(path, "saved_model.pb")) and
      os.path.exists(summary_path)):
    try:
      with open(summary_path) as f:
        export_path = json.load(f).get("export_path")
    except (OSError, ValueError, AttributeError) as e:
      raise SelectionError(f"cannot read {summary_path}: {e}") from None
    if not export_path:
      raise SelectionError(
          f"run {path} has no export ({RUN_SUMMARY_FILE} has no "
          "export_path); export it with scripts/export.py and pass the "
          "export")
    candidates = [export_path, os.path.join(path, export_path)]
    found = [c for c in candidates if os.path.isdir(c)]
    if not found:
      raise SelectionError(f"the export of run {path} ({export_path}, from "
                           f"{RUN_SUMMARY_FILE}) does not exist")
    path = found[0]
  try:
    return export_lib.latest_version_dir(path)
  except FileNotFoundError:
    raise SelectionError(
        f"{path} is neither a SavedModel export (no saved_model.pb), a "
        f"folder of export versions nor a training run dir (no "
        f"{RUN_SUMMARY_FILE})") from None


class LoadedModel:
  """One export's ``encode`` signature and what is known about it.

  Attributes:
    path: str, the path the caller gave.
    export_dir: str, the export version directory.
    image_shape: tuple (H, W, C) the encoder takes.
    latent_dim: int, D.
    metadata: dict, the export's metadata asset ({} if it has none).
  """

  def __init__(self, path, batch_size=DEFAULT_BATCH_SIZE):
    self.path = path
    self.export_dir = resolve_export(path)
    self._batch_size = batch_size
    self._loaded = tf.saved_model.load(self.export_dir)
    self._encode = self._loaded.signatures.get("encode")
    outputs = getattr(self._encode, "structured_outputs", None)
    if not isinstance(outputs, dict) or not {"mean", "log_variance"} <= set(
        outputs):
      raise SelectionError(
          f"{self.export_dir} has no 'encode' signature returning mean and "
          "log_variance (not an export of tf_betavae)")
    _, inputs = self._encode.structured_input_signature
    if len(inputs) != 1:
      raise SelectionError(f"the encode signature of {self.export_dir} must "
                           f"take one input, it takes {sorted(inputs)}")
    (self._input_name, spec), = inputs.items()
    self.image_shape = tuple(spec.shape.as_list()[1:])
    self.latent_dim = outputs["mean"].shape.as_list()[-1]
    try:
      self.metadata = export_lib.read_metadata(self.export_dir)
    except FileNotFoundError:
      self.metadata = {}

  def encode(self, images):
    """Posterior parameters of images.

    Args:
      images: float32 np.ndarray [N, H, W, C] in [0, 1].

    Returns:
      (latent_mean, log_variance): float32 np.ndarray [N, D] each.
    """
    means, log_variances = [], []
    for start in range(0, len(images), self._batch_size):
      batch = tf.constant(images[start:start + self._batch_size], tf.float32)
      outputs = self._encode(**{self._input_name: batch})
      means.append(outputs["mean"].numpy())
      log_variances.append(outputs["log_variance"].numpy())
    return np.concatenate(means), np.concatenate(log_variances)

  def latent_mean(self, images):
    """Representation function: images [N, H, W, C] -> means [N, D]."""
    return self.encode(images)[0]


def load_models(paths, batch_size=DEFAULT_BATCH_SIZE):
  """Loads at least two models that take the same images and latent size.

  Args:
    paths: list of str (see ``resolve_export``).
    batch_size: int, images per encode call.

  Returns:
    list of LoadedModel, in the order of ``paths``.

  Raises:
    SelectionError: fewer than 2 paths, a path that is no export or run,
      or models that disagree on image shape or latent size.
  """
  if len(paths) < 2:
    raise SelectionError(f"ranking needs at least 2 models, got {len(paths)}")
  models = [LoadedModel(path, batch_size) for path in paths]
  first = models[0]
  for model in models[1:]:
    if model.image_shape != first.image_shape:
      raise SelectionError(
          f"models take different images: {first.path} takes "
          f"{list(first.image_shape)}, {model.path} takes "
          f"{list(model.image_shape)}")
    if model.latent_dim != first.latent_dim:
      raise SelectionError(
          f"models have different latent sizes: {first.path} has "
          f"{first.latent_dim}, {model.path} has {model.latent_dim}")
  return models


def choose_dataset(models, dataset=None):
  """The dataset to sample: ``dataset`` or the one all models name.

  Raises:
    SelectionError: no override and the models' metadata names no dataset
      or different ones; an unknown dataset; or one whose images do not fit
      the models.
  """
  from tf_betavae import data  # pylint: disable=g-import-not-at-top
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


def _ground_truth_or_none(dataset, data_dir):
  from tf_betavae import data  # pylint: disable=g-import-not-at-top
  if dataset.split(":")[0] not in data.GROUND_TRUTH_DATASETS:
    return None
  try:
    if data_dir is None:
      return data.ground_truth(dataset)
    return data.ground_truth(dataset, data_dir=data_dir)
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
  from tf_betavae import data  # pylint: disable=g-import-not-at-top
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
    with open(path) as f:
      results = json.load(f)
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
  from tf_betavae import metrics  # pylint: disable=g-import-not-at-top
  from tf_betavae.data.indexed import MissingFactorsError  # pylint: disable=g-import-not-at-top
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
    data_dir: where real datasets live (tfds data_dir, or the dSprites file).
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
  if method not in METHODS:
    raise SelectionError(f"method must be one of {', '.join(METHODS)}, got "
                         f"{method!r}")
  if supervised not in ("auto", "none"):
    raise SelectionError(f"supervised must be auto or none, got "
                         f"{supervised!r}")
  if num_points < 2:
    raise SelectionError(f"the sample needs at least 2 images, got "
                         f"{num_points}")
  models = load_models(list(paths), batch_size)
  dataset = choose_dataset(models, dataset)
  ground_truth = _ground_truth_or_none(dataset, data_dir)
  logging.info("Encoding %d images of %s with %d models.", num_points,
               dataset, len(models))
  posteriors = sample_posteriors(models, dataset, num_points, random_state,
                                 ground_truth, data_dir)
  result = udr.compute_udr_from_posteriors(
      posteriors, correlation=METHODS[method],
      kl_filter_threshold=kl_filter_threshold)
  with_supervised = supervised == "auto" and ground_truth is not None
  supervised_seed = (int(random_state.randint(2**31 - 1))
                     if with_supervised else None)

  entries = []
  for index, model in enumerate(models):
    scores = unsupervised.compute_unsupervised_from_codes(posteriors[index][0])
    entry = {
        "model": model.path,
        "export": model.export_dir,
        "udr": result["model_scores"][index],
        "informative_latents": result["informative_latents"][index],
        "latent_dim": model.latent_dim,
        "unsupervised": {k: _finite_or_none(scores[k])
                         for k in UNSUPERVISED_SCORES},
    }
    if with_supervised:
      entry["supervised"] = supervised_scores(
          model, ground_truth, dataset, supervised_seed,
          supervised_num_train, supervised_num_eval)
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
