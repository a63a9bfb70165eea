"""Baseline representations, each a plain representation function.

Every builder returns ``fn(images float32 [N, H, W, C]) -> float32 [N, D]``
so all metrics run on a baseline exactly as on a trained model:

* ``pca_representation``: PCA (``num_components``, default 10) fitted on
  ``num_fit`` simulator images (flattened pixels).
* ``ica_representation``: scikit-learn ``FastICA`` (``num_components``
  sources, unit-variance whitening) fitted on the same kind of sample.  The
  whitening is done by a PCA to ``num_components`` dimensions first, which is
  what FastICA's own whitening computes, at a fraction of the cost on 4096
  pixels.
* ``pixels_representation``: the flattened raw pixels (D = H * W * C;
  slow for DCI and SAP, which fit one classifier per code dimension).
* ``untrained_encoder_representation``: the project's ``ConvEncoder`` with
  freshly initialised (seeded) weights; the code is the posterior mean.
"""

import numpy as np

from tf_betavae.metrics import representation

DEFAULT_NUM_COMPONENTS = 10
DEFAULT_NUM_FIT = 10000
BASELINES = ("pca", "ica", "pixels", "untrained")


def _fit_images(ground_truth, num_fit, random_state):
  factors = ground_truth.sample_factors(num_fit, random_state)
  images = ground_truth.sample_observations_from_factors(factors,
                                                         random_state)
  return np.asarray(images, np.float32).reshape(num_fit, -1)


def _linear(transform, batch_size):
  """Representation function from a flat-pixel transform."""
  return representation.batched(
      lambda images: transform(images.reshape(len(images), -1)), batch_size)


def pca_representation(ground_truth, random_state,
                       num_components=DEFAULT_NUM_COMPONENTS,
                       num_fit=DEFAULT_NUM_FIT,
                       batch_size=representation.DEFAULT_BATCH_SIZE):
  """PCA of simulator images.

  Args:
    ground_truth: ground-truth object (see ``sampling``).
    random_state: np.random.RandomState (image sample and PCA solver).
    num_components: int, D.
    num_fit: int, images the PCA is fitted on.
    batch_size: int, images per transform call.

  Returns:
    representation function images -> float32 [N, num_components]
    (principal component scores, in pixel units).
  """
  from sklearn import decomposition
  x = _fit_images(ground_truth, num_fit, random_state)
  pca = decomposition.PCA(num_components, svd_solver="randomized",
                          random_state=random_state.randint(2**31 - 1))
  pca.fit(x)
  fn = _linear(lambda x: pca.transform(x).astype(np.float32), batch_size)
  fn.model = pca
  return fn


def ica_representation(ground_truth, random_state,
                       num_components=DEFAULT_NUM_COMPONENTS,
                       num_fit=DEFAULT_NUM_FIT,
                       batch_size=representation.DEFAULT_BATCH_SIZE):
  """FastICA of simulator images (after PCA whitening to num_components).

  Returns:
    representation function images -> float32 [N, num_components]
    (independent component sources, unit variance on the fit sample).
  """
  from sklearn import decomposition
  x = _fit_images(ground_truth, num_fit, random_state)
  pca = decomposition.PCA(num_components, svd_solver="randomized",
                          random_state=random_state.randint(2**31 - 1))
  reduced = pca.fit_transform(x)
  ica = decomposition.FastICA(num_components, whiten="unit-variance",
                              max_iter=1000,
                              random_state=random_state.randint(2**31 - 1))
  ica.fit(reduced)
  fn = _linear(
      lambda x: ica.transform(pca.transform(x)).astype(np.float32),
      batch_size)
  fn.model = (pca, ica)
  return fn


def pixels_representation(batch_size=representation.DEFAULT_BATCH_SIZE):
  """Raw pixels: images -> float32 [N, H * W * C]."""
  return _linear(lambda x: x.astype(np.float32), batch_size)


def untrained_encoder_representation(latent_dim=10, seed=0,
                                     observation_shape=(64, 64, 1),
                                     batch_size=representation.DEFAULT_BATCH_SIZE):
  """The project's ConvEncoder with random (seeded) initial weights.

  Note: seeds Keras globally (``keras.utils.set_random_seed``) to make the
  initial weights reproducible.

  Args:
    latent_dim: int, D.
    seed: int.
    observation_shape: (H, W, C) of the images.
    batch_size: int, images per encoder call.

  Returns:
    representation function images -> float32 [N, latent_dim], the posterior
    mean; its attribute ``encoder`` is the Keras layer.
  """
  import keras
  import tensorflow as tf
  from tf_betavae.models import ConvEncoder
  keras.utils.set_random_seed(seed)
  encoder = ConvEncoder(latent_dim=latent_dim)
  encoder(tf.zeros((1,) + tuple(observation_shape), tf.float32))

  @tf.function(input_signature=[
      tf.TensorSpec((None,) + tuple(observation_shape), tf.float32)])
  def mean(images):
    return encoder(images)[0]

  fn = representation.batched(lambda x: mean(tf.constant(x)).numpy(),
                              batch_size)
  fn.encoder = encoder
  return fn


def make_baseline(name, ground_truth, random_state, seed=0,
                  num_components=DEFAULT_NUM_COMPONENTS,
                  num_fit=DEFAULT_NUM_FIT):
  """Builds a baseline representation by name ("pca", "ica", "pixels",
  "untrained"); see the individual builders."""
  if name == "pca":
    return pca_representation(ground_truth, random_state, num_components,
                              num_fit)
  if name == "ica":
    return ica_representation(ground_truth, random_state, num_components,
                              num_fit)
  if name == "pixels":
    return pixels_representation()
  if name == "untrained":
    return untrained_encoder_representation(
        num_components, seed, tuple(ground_truth.observation_shape))
  raise ValueError(f"unknown baseline {name!r}; choose from {BASELINES}")
