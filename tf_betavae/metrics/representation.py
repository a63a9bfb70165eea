"""Representation functions: images -> codes, from SavedModels or callables.

A representation function is a plain callable
``fn(images: float32 np.ndarray [N, H, W, C]) -> float32 np.ndarray [N, D]``.
The ones built here split their input into batches of ``batch_size`` images
internally, so callers pass whole chunks (thousands of images) at once.
"""

import os
import zlib

import numpy as np
import tensorflow as tf

DEFAULT_BATCH_SIZE = 2048
# disentanglement_lib's two postprocessings of a Gaussian encoder: the
# posterior mean, or one sample from the posterior per image.
REPRESENTATIONS = ("mean", "sampled")
# The signature and outputs a sampled representation reads (exports of
# this package have them; tf_betavae.export).
ENCODE_SIGNATURE = "encode"
MEAN_OUTPUT = "mean"
LOG_VARIANCE_OUTPUT = "log_variance"


class RepresentationError(ValueError):
  """A representation cannot be built or does not fit the dataset.

  The message is a single line meant for the user.
  """


def batched(fn, batch_size=DEFAULT_BATCH_SIZE):
  """Wraps ``fn`` (images -> codes) so that it is called on slices.

  Args:
    fn: callable float32 [n, H, W, C] -> [n, D] (np.ndarray or tf.Tensor).
    batch_size: int, largest slice passed to ``fn``.

  Returns:
    A representation function returning float32 np.ndarray [N, D].
  """

  def representation_fn(images):
    images = np.asarray(images, dtype=np.float32)
    outputs = [
        np.asarray(fn(images[i:i + batch_size]), dtype=np.float32)
        for i in range(0, len(images), batch_size)
    ]
    if not outputs:
      raise ValueError("representation function called on zero images")
    return np.concatenate(outputs, axis=0)

  return representation_fn


def _spec_shape(spec):
  return tuple(None if d is None else int(d) for d in spec.shape.as_list())


def load_saved_model_signature(path, signature="serving_default",
                               output_key="latent_mean"):
  """Loads one signature of a SavedModel and validates it.

  Args:
    path: str, SavedModel directory (holds saved_model.pb).
    signature: str, signature key.
    output_key: str, key of the output tensor in the signature's outputs.

  Returns:
    (loaded, function, input_name, input_spec): the loaded object (keep it
    alive), the concrete signature function, the name of its single input
    and that input's tf.TensorSpec.

  Raises:
    RepresentationError: not a SavedModel, no such signature (lists the
      signatures), no such output (lists the outputs), or the signature does
      not take exactly one input.
  """
  if not tf.saved_model.contains_saved_model(path):
    raise RepresentationError(
        f"not a SavedModel: {path!r} (no saved_model.pb or saved_model.pbtxt "
        "in it)")
  loaded = tf.saved_model.load(path)
  signatures = dict(loaded.signatures)
  if signature not in signatures:
    raise RepresentationError(
        f"SavedModel {path!r} has no signature {signature!r}; signatures: "
        f"{sorted(signatures) or 'none'}")
  function = signatures[signature]
  outputs = function.structured_outputs
  if not isinstance(outputs, dict) or output_key not in outputs:
    keys = sorted(outputs) if isinstance(outputs, dict) else []
    raise RepresentationError(
        f"signature {signature!r} of {path!r} has no output {output_key!r}; "
        f"output keys: {keys}")
  _, input_specs = function.structured_input_signature
  if len(input_specs) != 1:
    raise RepresentationError(
        f"signature {signature!r} of {path!r} must take exactly one input "
        f"(images); it takes {sorted(input_specs)}")
  (input_name, input_spec), = input_specs.items()
  return loaded, function, input_name, input_spec


def check_input_shape(input_spec, observation_shape, what="SavedModel input"):
  """Checks that images of ``observation_shape`` fit ``input_spec``.

  Args:
    input_spec: tf.TensorSpec of the model input, [batch, H, W, C].
    observation_shape: tuple (H, W, C) of the dataset's images.
    what: str, names the input in the message.

  Raises:
    RepresentationError: with both shapes, if they do not match (unknown
      dimensions of the spec match anything).
  """
  model_shape = _spec_shape(input_spec)
  data_shape = (None,) + tuple(int(d) for d in observation_shape)
  ok = len(model_shape) == len(data_shape) and all(
      m is None or d is None or m == d
      for m, d in zip(model_shape, data_shape))
  if not ok:
    show = lambda s: "[" + ", ".join("None" if d is None else str(d)
                                     for d in s) + "]"
    raise RepresentationError(
        f"{what} shape {show(model_shape)} does not match the dataset's image "
        f"shape {show(data_shape)}")


def saved_model_representation(path, signature="serving_default",
                               output_key="latent_mean",
                               batch_size=DEFAULT_BATCH_SIZE,
                               observation_shape=None):
  """Representation function from any SavedModel signature.

  Args:
    path: str, SavedModel directory.
    signature: str, signature key (default ``serving_default``).
    output_key: str, output to use as the code (default ``latent_mean``).
    batch_size: int, images per signature call.
    observation_shape: optional (H, W, C); if given, the signature's input
      shape is checked against it.

  Returns:
    representation_fn: float32 [N, H, W, C] -> float32 np.ndarray [N, D].
    The returned function keeps the loaded model alive; its attribute
    ``input_spec`` holds the signature's input spec.

  Raises:
    RepresentationError: see ``load_saved_model_signature`` and
      ``check_input_shape``.
  """
  loaded, function, input_name, input_spec = load_saved_model_signature(
      path, signature, output_key)
  if observation_shape is not None:
    check_input_shape(input_spec, observation_shape)
  dtype = input_spec.dtype

  def call(images):
    outputs = function(**{input_name: tf.constant(images, dtype=dtype)})
    return outputs[output_key].numpy()

  representation_fn = batched(call, batch_size)
  representation_fn.loaded = loaded
  representation_fn.input_name = input_name
  representation_fn.input_spec = input_spec
  return representation_fn


def is_project_export(path, input_spec_name, signature, output_key):
  """Whether a SavedModel is an export version directory of this project.

  Exports of tf_betavae carry ``assets/tf_betavae_metadata.json`` (see
  tf_betavae.export) and map ``images`` to ``latent_mean`` in
  ``serving_default``.

  Args:
    path: str, SavedModel directory.
    input_spec_name: str, the name of the signature's input.
    signature: str, signature key in use.
    output_key: str, output key in use.

  Returns:
    bool.
  """
  from tf_betavae import export  # pylint: disable=g-import-not-at-top
  path = os.path.normpath(path)
  return (os.path.exists(os.path.join(path, "assets",
                                      export.METADATA_FILENAME)) and
          signature == "serving_default" and output_key == "latent_mean" and
          input_spec_name == "images")


def saved_model_posterior(path, batch_size=DEFAULT_BATCH_SIZE,
                          observation_shape=None):
  """The posterior statistics of a SavedModel's ``encode`` signature.

  A deterministic function, so a code table may hold it; ``sampled``
  draws from it.

  Args:
    path: str, SavedModel directory with an ``encode`` signature whose
      outputs hold ``mean`` and ``log_variance`` (float [N, D] each).
    batch_size: int, images per signature call.
    observation_shape: optional (H, W, C), checked against the input.

  Returns:
    fn: float32 [N, H, W, C] -> float32 np.ndarray [N, 2D], the mean then
    the log variance (nats) of each latent.

  Raises:
    RepresentationError: no ``encode`` signature, or it lacks one of the
      two outputs (the message says the sampled representation needs them).
  """
  try:
    loaded, function, input_name, input_spec = load_saved_model_signature(
        path, ENCODE_SIGNATURE, MEAN_OUTPUT)
  except RepresentationError as e:
    raise RepresentationError(
        f"the sampled representation needs an {ENCODE_SIGNATURE!r} "
        f"signature with outputs {MEAN_OUTPUT!r} and "
        f"{LOG_VARIANCE_OUTPUT!r} (exports of tf_betavae have one): {e}"
    ) from None
  if LOG_VARIANCE_OUTPUT not in function.structured_outputs:
    raise RepresentationError(
        f"signature {ENCODE_SIGNATURE!r} of {path!r} has no output "
        f"{LOG_VARIANCE_OUTPUT!r}, which the sampled representation needs; "
        f"output keys: {sorted(function.structured_outputs)}")
  if observation_shape is not None:
    check_input_shape(input_spec, observation_shape)
  dtype = input_spec.dtype

  def call(images):
    outputs = function(**{input_name: tf.constant(images, dtype=dtype)})
    return np.concatenate([outputs[MEAN_OUTPUT].numpy(),
                           outputs[LOG_VARIANCE_OUTPUT].numpy()], axis=1)

  posterior_fn = batched(call, batch_size)
  posterior_fn.loaded = loaded
  posterior_fn.input_name = input_name
  posterior_fn.input_spec = input_spec
  return posterior_fn


def sampled(posterior_fn, random_state):
  """disentanglement_lib's ``sampled`` representation of a posterior.

  Args:
    posterior_fn: images [N, H, W, C] -> [N, 2D], mean then log variance
      (``saved_model_posterior``, or a code table of it).
    random_state: np.random.RandomState of the noise: each call draws
      N x D standard normals from it.

  Returns:
    fn: images -> float32 [N, D], mean + exp(log_variance / 2) * noise.
  """

  def representation_fn(images):
    posterior = np.asarray(posterior_fn(images), np.float64)
    dim = posterior.shape[1] // 2
    noise = random_state.standard_normal((posterior.shape[0], dim))
    return (posterior[:, :dim] + np.exp(posterior[:, dim:] / 2.0) * noise
            ).astype(np.float32)

  return representation_fn


def sampling_random_state(seed, metric):
  """The noise generator of a metric's sampled representation: its own
  stream per (seed, metric), so that a metric's score does not depend on
  which metrics ran before it, and the metric's own RandomState draws
  exactly what it draws on the mean representation."""
  return np.random.RandomState([int(seed), zlib.crc32(metric.encode())])
