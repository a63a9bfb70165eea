"""Where pictures come from: a live model, a run's checkpoint or an export.

Every picture in ``tf_betavae.visualize`` is drawn from two callables, so
the same code serves all three:

* ``encode_fn(images)``: float32 [N, H, W, C] in [0, 1] ->
  ``(mean, log_variance)``, float32 np.ndarray [N, D] each (the diagonal
  Gaussian posterior q(z|x));
* ``decode_fn(latents)``: float32 [N, D] -> float32 np.ndarray
  [N, H, W, C] in [0, 1] (the likelihood's mean image).

``from_model``, ``from_model_dir`` and ``from_export`` wrap a BetaVAE, a
training run directory (its latest checkpoint) and a SavedModel export in a
``Source`` holding these two callables plus what is known about the data.
"""

import dataclasses
import os
from typing import Callable, Optional

from absl import logging
import numpy as np
import tensorflow as tf

from tf_betavae import data as data_lib
from tf_betavae import export as export_lib
from tf_betavae.training import checkpoints
from tf_betavae.training import run_dir

DEFAULT_BATCH_SIZE = 256


@dataclasses.dataclass
class Source:
  """A model seen through its encoder and decoder callables.

  Attributes:
    encode_fn: images float32 [N, H, W, C] -> (mean, log_variance) float32
      np.ndarray [N, D] each.
    decode_fn: latents float32 [N, D] -> images float32 np.ndarray
      [N, H, W, C] in [0, 1].
    latent_dim: D.
    image_shape: (H, W, C).
    dataset: the training dataset's name when known (e.g. 'dsprites'),
      else None.
    data: the training data (tf_betavae.data.DataSource: the dataset and
      where it was read from, e.g. the official dSprites file) when known,
      else None.
    description: a short human-readable origin (for logs and titles).
    path: the run directory or export version directory, if any.
    handle: the object that owns the variables (model or loaded
      SavedModel); kept so that the callables stay valid.
  """

  encode_fn: Callable
  decode_fn: Callable
  latent_dim: int
  image_shape: tuple
  dataset: Optional[str] = None
  data: Optional[data_lib.DataSource] = None
  description: str = ""
  path: Optional[str] = None
  handle: object = None


def _batched(fn, batch_size):
  """Applies ``fn`` (np.ndarray -> tuple/array of np.ndarray) in slices."""

  def apply(inputs):
    inputs = np.asarray(inputs, dtype=np.float32)
    if len(inputs) == 0:
      raise ValueError("called on an empty batch")
    parts = [fn(inputs[i:i + batch_size])
             for i in range(0, len(inputs), batch_size)]
    if isinstance(parts[0], tuple):
      return tuple(np.concatenate(p, axis=0) for p in zip(*parts))
    return np.concatenate(parts, axis=0)

  return apply


def from_model(model, dataset=None, batch_size=DEFAULT_BATCH_SIZE,
               data=None):
  """A Source of a live BetaVAE (e.g. the one being trained).

  Args:
    model: a built tf_betavae.models.BetaVAE.
    dataset: optional dataset name, recorded in the Source.
    batch_size: images (or latents) per model call.
    data: optional tf_betavae.data.DataSource of its training data.

  Returns:
    Source.  Its callables read the model's current weights at each call.
  """

  def encode(images):
    mean, log_variance = model.encode(tf.constant(images))
    return (np.asarray(mean, np.float32), np.asarray(log_variance, np.float32))

  def decode(latents):
    return np.asarray(model.decode(tf.constant(latents)), np.float32)

  return Source(encode_fn=_batched(encode, batch_size),
                decode_fn=_batched(decode, batch_size),
                latent_dim=int(model.latent_dim),
                image_shape=tuple(model.image_shape), dataset=dataset,
                data=data, description=f"model {model.name}", handle=model)


def from_model_dir(model_dir, batch_size=DEFAULT_BATCH_SIZE):
  """A Source of a training run's latest checkpoint.

  Args:
    model_dir: str, a directory written by tf_betavae.training.train.
    batch_size: images (or latents) per model call.

  Returns:
    Source (dataset and data from the run's config).

  Raises:
    FileNotFoundError: model_dir holds no run or no checkpoint.
  """
  model, config = checkpoints.restore_model(model_dir)
  source = from_model(model, dataset=config.dataset, batch_size=batch_size,
                      data=data_lib.source_of(config))
  source.description = f"run {model_dir}"
  source.path = model_dir
  logging.info("visualizing the latest checkpoint of %s", model_dir)
  return source


def from_export(path, batch_size=DEFAULT_BATCH_SIZE):
  """A Source of a tf_betavae SavedModel export.

  Args:
    path: str, an export version directory, or a model folder holding
      integer versions (the highest is used).
    batch_size: images (or latents) per signature call.

  Returns:
    Source (dataset and data from the export's metadata when present).

  Raises:
    FileNotFoundError: path is not a SavedModel / model folder.
    ValueError: the SavedModel lacks the 'encode' or 'decode' signature.
  """
  path = export_lib.latest_version_dir(path)
  loaded = tf.saved_model.load(path)
  signatures = dict(loaded.signatures)
  missing = [s for s in ("encode", "decode") if s not in signatures]
  if missing:
    raise ValueError(f"SavedModel {path} has no {' or '.join(missing)} "
                     f"signature (it has {sorted(signatures)}); export it with "
                     "tf_betavae.export")
  encode_sig, decode_sig = signatures["encode"], signatures["decode"]
  _, image_specs = encode_sig.structured_input_signature
  (image_name, image_spec), = image_specs.items()
  _, latent_specs = decode_sig.structured_input_signature
  (latent_name, latent_spec), = latent_specs.items()
  try:
    metadata = export_lib.read_metadata(path)
  except FileNotFoundError:
    metadata = {}

  def encode(images):
    out = encode_sig(**{image_name: tf.constant(images)})
    return (out["mean"].numpy().astype(np.float32),
            out["log_variance"].numpy().astype(np.float32))

  def decode(latents):
    return decode_sig(**{latent_name: tf.constant(latents)})[
        "images"].numpy().astype(np.float32)

  return Source(encode_fn=_batched(encode, batch_size),
                decode_fn=_batched(decode, batch_size),
                latent_dim=int(latent_spec.shape[-1]),
                image_shape=tuple(int(d) for d in image_spec.shape[1:]),
                dataset=metadata.get("dataset"),
                data=(data_lib.source_of(metadata)
                      if metadata.get("dataset") else None),
                description=f"export {path}", path=path, handle=loaded)


def from_path(path, batch_size=DEFAULT_BATCH_SIZE):
  """``from_model_dir`` for a run directory, else ``from_export``.

  Raises:
    FileNotFoundError: path is neither a training run nor an export.
  """
  if os.path.exists(os.path.join(path, run_dir.RUN_CONFIG_FILE)):
    return from_model_dir(path, batch_size)
  try:
    return from_export(path, batch_size)
  except FileNotFoundError:
    raise FileNotFoundError(
        f"{path} is neither a training run directory (no "
        f"{run_dir.RUN_CONFIG_FILE}) nor a SavedModel export") from None


def kl_order(kl):
  """Latent indices, most informative (highest KL) first; ties by index.

  Args:
    kl: float [D], nats.

  Returns:
    int np.ndarray [D].
  """
  kl = np.asarray(kl, np.float64)
  return np.lexsort((np.arange(len(kl)), -kl))
