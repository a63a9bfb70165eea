"""SavedModel export of a trained β-VAE, in the layout TF Serving reads.

Layout: ``<export_root>/<model_name>/<version>/saved_model.pb`` + ``variables/``
+ ``assets/tf_betavae_metadata.json``, with integer versions.  A version
directory appears in one rename once it is complete, so TF Serving (which
polls for integer directory names) never loads a half-written model.  The
version is chosen when the finished SavedModel is committed, under a lock
(tf_betavae.export_files): concurrent exporters get distinct versions, and
an existing version is replaced only with ``overwrite`` (in one atomic
exchange on Linux).

Signatures (names are part of the contract; tests and tools depend on them):

============== ===================================== ==================================
signature      input                                 outputs
============== ===================================== ==================================
serving_default images float32 [None, H, W, C]       latent_mean float32 [None, D]
encode          images float32 [None, H, W, C]       mean, log_variance float32 [None, D]
decode          latents float32 [None, D]            images float32 [None, H, W, C]
reconstruct     images float32 [None, H, W, C]       images float32 [None, H, W, C]
============== ===================================== ==================================

Input images are expected in [0, 1]; finite values outside are clipped to
[0, 1] inside the graph.  NaN or ±inf pixels (and latents) fail with
InvalidArgumentError ("images must be finite ..."): clipping would turn them
into 0 or 1 and return a plausible code the caller could not tell from a
real one.  A batch of 0 returns empty outputs of the signature's shapes.  A
wrong rank or shape fails in EnsureShape (naming the expected shape), a
wrong dtype in the signature's own input check.  Output images are the
likelihood's mean, in [0, 1].  The graph holds only stock TensorFlow ops
(no TFP, no XLA, no custom ops).
"""

import contextlib
import logging
import os
import re

from absl import logging as absl_logging
import tensorflow as tf

import tf_betavae
from tf_betavae import export_files
from tf_betavae import io_utils
from tf_betavae.models import methods as methods_lib

METADATA_FILENAME = export_files.METADATA_FILENAME
SIGNATURES = ("serving_default", "encode", "decode", "reconstruct")

# The layout of the metadata asset, recorded in it as "metadata_version".
# Version 1 (no such field) kept the β-VAE's settings at the top level
# (objective, beta, gamma, capacity_*, beta_*_steps) whatever the method
# trained, so a FactorVAE read "objective": "H", "beta": null.  Version 2
# records "method" and, under "hyperparameters", that method's settings
# only.  read_metadata upgrades version 1 in memory (upgrade_metadata).
METADATA_VERSION = 2

# Settings a method reads beside its Method.settings: the KL weight's
# warm-up, which the config check refuses for every method but beta_vae.
_SCHEDULE_SETTINGS = {"beta_vae": ("beta_hold_steps", "beta_warmup_steps")}

# Version 1's top-level method settings; version 2 keeps those of the
# method trained under "hyperparameters" and has none at the top level.
_VERSION_1_SETTINGS = ("objective", "beta", "beta_hold_steps",
                       "beta_warmup_steps", "gamma", "capacity_max",
                       "capacity_steps")

ExportError = export_files.ExportError


def default_model_name(dataset, objective="H", beta=4.0, capacity_max=25.0,
                       method=None, hyperparameter_value=None):
  """E.g. 'dsprites_beta4', 'celeb_a_beta250', 'dsprites_capacity25',
  'dsprites_factor_vae_gamma35', 'dsprites_dip_vae_i_lambda_od10'.

  Args:
    dataset: the dataset name ('folder:PATH' gives 'folder').
    objective, beta, capacity_max: the β-VAE / AnnealedVAE settings.
    method: a method name (tf_betavae.models.methods); None: the method of
      ``objective``.
    hyperparameter_value: the value of the method's main hyperparameter
      (methods other than beta_vae and annealed_vae).
  """
  def number(value):
    return f"{value:g}"
  dataset = re.sub(r"[^A-Za-z0-9_]+", "_", dataset.split(":", 1)[0])
  if method in (None, "beta_vae", "annealed_vae"):
    if objective == "B" or method == "annealed_vae":
      return f"{dataset}_capacity{number(capacity_max)}"
    return f"{dataset}_beta{number(beta)}"
  hyperparameter = methods_lib.get(method).hyperparameter
  short = _SHORT_HYPERPARAMETER_NAMES.get(hyperparameter, hyperparameter)
  return f"{dataset}_{method}_{short}{number(hyperparameter_value)}"


# FactorVAE's γ is called gamma in its paper; the field name says whose.
_SHORT_HYPERPARAMETER_NAMES = {"factor_gamma": "gamma"}


def method_hyperparameters(config):
  """The settings of the method that trained a run, and of no other.

  E.g. factor_vae: {factor_gamma, discriminator_learning_rate}; beta_vae:
  {beta, beta_hold_steps, beta_warmup_steps}; annealed_vae: {gamma,
  capacity_max, capacity_steps}; dip_vae_i / dip_vae_ii: {lambda_od,
  lambda_d_factor (resolved to the method's default when unset)};
  beta_tc_vae: {beta}.

  Args:
    config: a TrainConfig or a built model (both carry ``method`` and every
      method's settings as attributes).
  """
  values = methods_lib.hyperparameters(config)
  del values["method"]  # recorded beside the hyperparameters
  for name in _SCHEDULE_SETTINGS.get(config.method, ()):
    values[name] = getattr(config, name)
  return values


def upgrade_metadata(metadata):
  """Export metadata of any version in the current layout (a new dict).

  Version 1 (no ``metadata_version``) becomes version 2: ``method`` is the
  recorded one or, for exports that predate --method, the one its
  ``objective`` names (H: beta_vae, B: annealed_vae); ``hyperparameters``
  holds that method's settings, from version 1's ``hyperparameters`` (less
  its ``method`` entry) and its recorded top-level settings; the top-level
  settings of the β-VAE days (objective, beta, gamma, capacity_*,
  beta_*_steps) are dropped.  Every other field is kept as it is.
  Metadata already at version 2 or later comes back unchanged (copied).

  Args:
    metadata: dict, the content of an export's metadata asset.

  Returns:
    dict in the layout of METADATA_VERSION.
  """
  if metadata.get("metadata_version", 1) >= METADATA_VERSION:
    return dict(metadata)
  upgraded = {name: value for name, value in metadata.items()
              if name not in _VERSION_1_SETTINGS}
  method = (metadata.get("method") or
            methods_lib.METHOD_OF_OBJECTIVE.get(metadata.get("objective")))
  if method is not None:
    hyperparameters = {
        name: value
        for name, value in (metadata.get("hyperparameters") or {}).items()
        if name != "method"}
    own = (methods_lib.get(method).settings +
           _SCHEDULE_SETTINGS.get(method, ()))
    for name in own:
      if metadata.get(name) is not None:
        hyperparameters.setdefault(name, metadata[name])
    if "beta" in hyperparameters:
      # A β-VAE export without the warm-up fields predates the warm-up: it
      # trained at β from the first step.
      for name in _SCHEDULE_SETTINGS.get(method, ()):
        hyperparameters.setdefault(name, 0)
    upgraded["method"] = method
    upgraded["hyperparameters"] = hyperparameters
  upgraded["metadata_version"] = METADATA_VERSION
  return upgraded


def _absolute(path):
  """A local path made absolute; a URL (gs://...) or None as it is."""
  if not path or "://" in path:
    return path or None
  return os.path.abspath(path)


def training_metadata(config, steps, settings_changes=()):
  """The export metadata of a training run.

  Args:
    config: the TrainConfig the run ended with.
    steps: int, optimizer steps trained.
    settings_changes: the run's tf_betavae.training.settings_history: the
      settings changed when it was resumed ([] if none), so a run trained
      partly with another β (say) does not pass for one trained with the
      final settings throughout.  Changes from ``steps`` on (nothing trained
      with them yet) are left out.
  """
  return {
      "latent_dim": config.latent_dim,
      "arch": config.arch,
      "likelihood": config.likelihood,
      "method": config.method,
      "hyperparameters": method_hyperparameters(config),
      "supervision": methods_lib.supervision(config),
      "dataset": config.dataset,
      # Where the run read its data (absolute paths, None: the dataset's
      # default place), so that a consumer holding only the export reads
      # the same data (tf_betavae.data.source_of); one on another machine
      # gives its own paths instead.
      **{name: _absolute(getattr(config, name))
         for name in ("data_dir", "dsprites_file", "scream_image")},
      "training_steps": int(steps),
      "batch_size": config.batch_size,
      "learning_rate": config.learning_rate,
      "lr_warmup_steps": config.lr_warmup_steps,
      "lr_decay": config.lr_decay,
      "seed": config.seed,
      "settings_changes": [change for change in settings_changes
                           if change["step"] < int(steps)],
  }


class _Untracked:
  """Hides an object from SavedModel's object graph (see _ServingModule)."""

  def __init__(self, value):
    self.value = value


class _ServingModule(tf.Module):
  """Holds the model's variables and the four signature functions.

  The Keras layers themselves are not part of the saved object graph: only
  their plain tf.Variables are (as Keras' own ExportArchive does), which is
  what the TF1 session loader (saved_model_cli run, TF Serving) restores.
  """

  def __init__(self, model, image_shape):
    super().__init__(name="beta_vae")
    self._layers = _Untracked((model.encoder, model.decoder))
    self.model_variables = [
        getattr(v, "value", v)
        for v in model.encoder.weights + model.decoder.weights
    ]
    self._likelihood = model.likelihood
    self._image_shape = [None] + list(image_shape)
    self._latent_shape = [None, model.latent_dim]
    image_spec = tf.TensorSpec([None] + list(image_shape), tf.float32,
                               name="images")
    latent_spec = tf.TensorSpec([None, model.latent_dim], tf.float32,
                                name="latents")
    self.serving_default = tf.function(self._latent_mean,
                                       input_signature=[image_spec])
    self.encode = tf.function(self._encode, input_signature=[image_spec])
    self.decode = tf.function(self._decode, input_signature=[latent_spec])
    self.reconstruct = tf.function(self._reconstruct,
                                   input_signature=[image_spec])

  def _posterior_params(self, images):
    """images float32 [batch, H, W, C] -> (mean, log_variance) [batch, D]."""
    # EnsureShape fails with a message naming the expected shape when a
    # caller feeds another one (e.g. through a v1 session or TF Serving).
    images = tf.ensure_shape(images, self._image_shape)
    # Before clipping, which turns ±inf into 0 or 1 and, on some CPUs' clip
    # kernels, NaN into 0, and so would return a plausible code for a broken
    # input.
    images = tf.debugging.assert_all_finite(
        images, "images must be finite (no NaN or +-inf pixels)")
    images = tf.clip_by_value(images, 0.0, 1.0)
    encoder, _ = self._layers.value

    def encoded():
      mean, log_variance = encoder(images, training=False)
      return tf.cast(mean, tf.float32), tf.cast(log_variance, tf.float32)

    def empty():
      zeros = tf.zeros([0, self._latent_shape[1]], tf.float32)
      return zeros, zeros
    # The convolutions reject an empty batch on some devices; an empty
    # batch gets empty outputs instead.
    return tf.cond(tf.shape(images)[0] > 0, encoded, empty)

  def _mean_image(self, latents):
    """latents float32 [batch, D] -> mean images [batch, H, W, C]."""
    latents = tf.ensure_shape(latents, self._latent_shape)
    latents = tf.debugging.assert_all_finite(
        latents, "latents must be finite (no NaN or +-inf)")
    _, decoder = self._layers.value

    def decoded():
      params = tf.cast(decoder(latents, training=False), tf.float32)
      return self._likelihood.mean(params)

    def empty():
      return tf.zeros([0] + self._image_shape[1:], tf.float32)
    return tf.cond(tf.shape(latents)[0] > 0, decoded, empty)

  def _latent_mean(self, images):
    mean, _ = self._posterior_params(images)
    return {"latent_mean": tf.identity(mean, name="latent_mean")}

  def _encode(self, images):
    mean, log_variance = self._posterior_params(images)
    return {"mean": mean, "log_variance": log_variance}

  def _decode(self, latents):
    return {"images": self._mean_image(latents)}

  def _reconstruct(self, images):
    mean, _ = self._posterior_params(images)
    return {"images": self._mean_image(mean)}


class _SignatureRenamingFilter(logging.Filter):
  """Drops TensorFlow's INFO notice that a signature input is renamed.

  ``tf.saved_model.save`` reports, through absl at INFO, that each signature
  function "contains input name(s) resource with unsupported characters":
  the captured variable handles are called ``resource`` inside the traced
  graph.  The renaming is internal (the signatures' inputs keep their
  names: images, latents), so the notice says nothing to act on.
  """

  def filter(self, record):
    return not (record.levelno <= logging.INFO and
                "with unsupported characters" in record.getMessage())


@contextlib.contextmanager
def _without_signature_renaming_notices():
  """Silences only ``_SignatureRenamingFilter``'s notices while active."""
  absl_logger = absl_logging.get_absl_logger()
  notice_filter = _SignatureRenamingFilter()
  absl_logger.addFilter(notice_filter)
  try:
    yield
  finally:
    absl_logger.removeFilter(notice_filter)


def _write_saved_model(model, metadata, export_root, model_name, version,
                       overwrite):
  """Saves into a staging directory of the model folder, then commits it
  as a version (export_files.commit); returns the version directory."""
  with export_files.staging(export_root, model_name) as (model_root,
                                                          staging):
    saved_model_dir = os.path.join(staging, "model")
    metadata_path = io_utils.write_json_atomic(
        os.path.join(staging, "metadata_source", METADATA_FILENAME),
        metadata)
    module = _ServingModule(model, model.image_shape)
    module.metadata_asset = tf.saved_model.Asset(metadata_path)
    with _without_signature_renaming_notices():
      tf.saved_model.save(
          module, saved_model_dir,
          signatures={name: getattr(module, name) for name in SIGNATURES})

    def record_version(chosen):
      # The version is known only now; the asset copy inside the staged
      # SavedModel is private until the rename, so rewriting it is safe.
      io_utils.write_json_atomic(
          os.path.join(saved_model_dir, "assets", METADATA_FILENAME),
          dict(metadata, version=chosen))

    _, final_dir = export_files.commit(
        export_root, model_root, saved_model_dir, version=version,
        overwrite=overwrite, prepare=record_version)
  return final_dir


def export_model(model, export_root, model_name=None, version=None,
                 overwrite=False, metadata=None):
  """Writes a SavedModel of ``model`` for TF Serving and transfer.

  Args:
    model: a built BetaVAE.
    export_root: str, the directory holding one folder per model name.
    model_name: str; default from the metadata (dataset and β).
    version: int > 0; default one more than the highest existing version
      when the finished SavedModel is committed (so concurrent exports get
      distinct versions).
    overwrite: bool; replace an existing version (otherwise refuse), in one
      atomic directory exchange where the system has one (Linux).
    metadata: dict stored as the JSON asset (training settings, scores);
      latent_dim, image_shape, likelihood, method, hyperparameters (the
      model's method's settings, method_hyperparameters), metadata_version
      and package_version are always filled in, and version 1's top-level
      method settings (objective, beta, gamma, ...) left out.

  Returns:
    str, the version directory written.

  Raises:
    ExportError: the version exists (and not overwrite), a bad version, or an
      unwritable export root.
  """
  # The method's settings live under hyperparameters (METADATA_VERSION).
  metadata = {name: value for name, value in (metadata or {}).items()
              if name not in _VERSION_1_SETTINGS}
  metadata.update(latent_dim=model.latent_dim,
                  image_shape=list(model.image_shape),
                  likelihood=model.likelihood_name,
                  method=model.method,
                  # The model's settings, over the training metadata's: a
                  # model does not hold how its pairs were made (k,
                  # frame_gap), the training run does.
                  hyperparameters=dict(metadata.get("hyperparameters") or {},
                                       **method_hyperparameters(model)),
                  metadata_version=METADATA_VERSION,
                  package_version=tf_betavae.__version__,
                  signatures=list(SIGNATURES))
  if model_name is None:
    value = getattr(model, methods_lib.get(model.method).hyperparameter)
    model_name = default_model_name(
        metadata.get("dataset", "model"), model.objective, model.beta,
        model.capacity_max, method=model.method, hyperparameter_value=value)
  export_files.check_version(version)
  model_root = export_files.model_root_of(export_root, model_name)
  export_files.refuse_existing(model_root, version, overwrite)
  metadata["model_name"] = model_name
  return _write_saved_model(model, metadata, export_root, model_name,
                            version, overwrite)


def export_trained(model, config, export_root, settings_changes=(),
                   model_name=None, version=None, overwrite=False,
                   extra_metadata=None):
  """Exports a restored training run with its training metadata.

  Args:
    model: the run's BetaVAE, compiled (its optimizer's step counter is the
      number of steps trained).
    config: the run's TrainConfig.
    export_root, model_name, version, overwrite: as for export_model.
    settings_changes: the run's settings history (see training_metadata).
    extra_metadata: dict of more metadata entries (e.g. ``selection``: how
      the run was chosen), written with the export itself.

  Returns:
    str, the version directory written.

  Raises:
    ExportError: as export_model.
  """
  steps = int(model.optimizer.iterations.numpy())
  metadata = training_metadata(config, steps, settings_changes)
  metadata.update(extra_metadata or {})
  return export_model(
      model, export_root, model_name=model_name, version=version,
      overwrite=overwrite, metadata=metadata)


def describe(path):
  """What an export holds, for people: its path, metadata and metric scores.

  Args:
    path: a version directory, or a model folder (its highest version).

  Returns:
    dict: path (the version directory), metadata (the stored asset) and,
    when a metrics.json lies in the version directory, metrics (its
    content).

  Raises:
    FileNotFoundError: path is not a tf_betavae export or model folder.
  """
  version_dir = latest_version_dir(path)
  description = {"path": version_dir, "metadata": read_metadata(version_dir)}
  metrics = io_utils.read_json_if_present(
      os.path.join(version_dir, "metrics.json"))
  if metrics is not None:
    description["metrics"] = metrics
  return description


def read_metadata(export_dir):
  """The metadata dict stored in an export's assets, in the current layout
  (METADATA_VERSION; older exports are upgraded in memory, see
  upgrade_metadata, and their file is left as it is).

  Raises:
    FileNotFoundError: export_dir is not a tf_betavae export.
  """
  path = os.path.join(export_dir, "assets", METADATA_FILENAME)
  if not os.path.exists(path):
    if not os.path.exists(os.path.join(export_dir, "saved_model.pb")):
      raise FileNotFoundError(f"{export_dir} is not a SavedModel directory "
                              "(no saved_model.pb)")
    raise FileNotFoundError(f"{export_dir} is a SavedModel but not a "
                            f"tf_betavae export (no assets/{METADATA_FILENAME})")
  return upgrade_metadata(io_utils.read_json(path))


def record_metric_scores(export_dir, results):
  """Stores metric scores in an export's metadata asset.

  Merged with the scores there, under the export's lock and with an atomic
  rewrite (see export_files.record_results), so concurrent callers keep
  each other's scores.

  Args:
    export_dir: a tf_betavae export version directory.
    results: dict metric name -> dict with at least "score" (as written by
      scripts/evaluate.py); the score, protocol, dataset and seed are kept.

  Returns:
    The updated metadata dict, in the current layout (the file keeps its
    own: only its scores are rewritten).
  """
  read_metadata(export_dir)  # FileNotFoundError for a foreign SavedModel
  _, metadata = export_files.record_results(export_dir, results,
                                            with_metrics_file=False)
  return upgrade_metadata(metadata)


def latest_version_dir(path):
  """``path`` itself if it is a SavedModel, else its highest version dir."""
  if os.path.exists(os.path.join(path, "saved_model.pb")):
    return path
  if os.path.isdir(path):
    versions = export_files.versions(path)
    if versions:
      return os.path.join(path, str(max(versions)))
  raise FileNotFoundError(f"{path} is neither a SavedModel nor a model "
                          "folder with integer version subdirectories")
