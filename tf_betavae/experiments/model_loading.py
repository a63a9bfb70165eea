"""Loading the models a ranking compares: exports, model folders, runs.

A model path is a SavedModel export of this package (a version directory
with ``saved_model.pb``), a model folder of integer versions (its highest
is used) or a training run directory whose ``train_summary.json`` names
its export.  ``LoadedModel`` wraps the export's ``encode`` signature;
``model_data`` is the data a model path was trained on.
"""

import os

import numpy as np
import tensorflow as tf

from tf_betavae import data as data_lib
from tf_betavae import export as export_lib
from tf_betavae import io_utils
from tf_betavae import training
from tf_betavae.training import run_dir

RUN_SUMMARY_FILE = training.SUMMARY_FILE
DEFAULT_BATCH_SIZE = 2048


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
      export_path = io_utils.read_json(summary_path).get("export_path")
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


def _recorded_data(path):
  """What a model path records of its training data: its run's TrainConfig
  (a run directory) or its export's metadata; None for a foreign SavedModel
  or an export that names no dataset."""
  if os.path.isfile(os.path.join(path, training.RUN_CONFIG_FILE)):
    try:
      return run_dir.read_config(path)
    except (OSError, ValueError) as e:
      raise SelectionError(str(e)) from None
  try:
    metadata = export_lib.read_metadata(export_lib.latest_version_dir(path))
  except (OSError, ValueError):
    return None  # not this package's export: loading it says why
  return metadata if metadata.get("dataset") else None


def model_data(path, dataset=None, data_dir=None, dsprites_file=None,
               scream_image=None):
  """The data to evaluate or probe a model on.

  By default the model's training data read from where its run read it
  (run_config.json of a run directory, the metadata of an export or model
  folder: the official dSprites file, the scream picture, the tfds
  data_dir); dsprites (the simulator) when the model records none.

  Args:
    path: a model path (see module doc), or None (nothing recorded).
    dataset, data_dir, dsprites_file, scream_image: overrides, see
      tf_betavae.data.source_of.

  Returns:
    tf_betavae.data.DataSource.

  Raises:
    SelectionError: the run's config is unreadable or a setting is not a
      string.
  """
  recorded = _recorded_data(path) if path else None
  try:
    return data_lib.source_of(recorded or "dsprites", dataset=dataset,
                              data_dir=data_dir, dsprites_file=dsprites_file,
                              scream_image=scream_image)
  except ValueError as e:
    raise SelectionError(str(e)) from None


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
    try:
      self._loaded = tf.saved_model.load(self.export_dir)
    except (OSError, ValueError, tf.errors.OpError) as e:
      # A broken or foreign saved_model.pb: the loader's message runs over
      # many lines; the first says what is wrong.
      raise SelectionError(
          f"{self.export_dir} cannot be loaded as a SavedModel: "
          f"{str(e).strip().splitlines()[0]}") from None
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
