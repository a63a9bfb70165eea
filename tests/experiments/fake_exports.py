"""Small SavedModels shaped like tf_betavae exports, with known latents.

Each fake encoder computes three nearly independent statistics of an image
(its centre of mass x and y, and its total ink) and mixes them with a given
matrix; extra "collapsed" latents have tiny means and log-variance 0 (KL about
1e-4 nats, so UDR ignores them).  Mixing with a permutation and sign flips gives an
equivalent representation; mixing with a rotation an entangled one.  They
have the ``encode`` (mean, log_variance) and ``serving_default``
(latent_mean) signatures and the metadata asset of tf_betavae.export.

Imported by tests/experiments/test_selection.py,
tests/experiments/test_reproduce.py and tests/scripts/test_select_models.py.
"""

import json
import os

import numpy as np
import tensorflow as tf

IDENTITY = np.eye(3)
PERMUTED = np.array([[0.0, -1, 0], [0, 0, 2], [-1, 0, 0]])  # and flipped
ROTATED = np.array([[1.0, 1, 0], [1, -1, 0], [0, 0, 1]])  # x, y entangled


def save_fake_export(path, mix=IDENTITY, collapsed=1, image_shape=(64, 64, 1),
                     dataset="dsprites", metrics=None):
  """Writes a fake export version directory at ``path``.

  Args:
    path: str, the version directory to create.
    mix: float [3, k], latent j = sum_i statistic_i * mix[i, j].
    collapsed: int, extra latents with means near 0 and log-variance 0.
    image_shape: (H, W, C) of the input.
    dataset: str or None, recorded in the metadata.
    metrics: dict or None, written as metrics.json beside saved_model.pb.

  Returns:
    str, path.
  """
  height, width, _ = image_shape
  module = tf.Module()
  module.mix = tf.Variable(np.asarray(mix, np.float32))
  latent_dim = int(np.shape(mix)[1]) + collapsed
  spec = tf.TensorSpec([None] + list(image_shape), tf.float32, name="images")

  def posterior(images):
    ink = tf.reduce_mean(images, axis=-1)  # [N, H, W]
    mass = tf.reduce_sum(ink, axis=[1, 2]) + 1e-6
    xs = tf.range(width, dtype=tf.float32) / width
    ys = tf.range(height, dtype=tf.float32) / height
    com_x = tf.reduce_sum(ink * xs[None, None, :], axis=[1, 2]) / mass
    com_y = tf.reduce_sum(ink * ys[None, :, None], axis=[1, 2]) / mass
    stats = tf.stack([com_x, com_y, mass / (height * width)], axis=1)
    mean = stats @ module.mix
    batch = tf.shape(images)[0]
    # Collapsed latents: tiny means (KL about 1e-4 nats), not constant, so
    # the covariance of all the means stays non-singular.
    quiet = [0.01 * stats[:, k % 3] ** (k + 2) for k in range(collapsed)]
    mean = tf.concat([mean] + [q[:, None] for q in quiet], axis=1)
    log_variance = tf.concat(
        [tf.fill([batch, latent_dim - collapsed], -2.0),
         tf.zeros([batch, collapsed])], axis=1)
    return mean, log_variance

  @tf.function(input_signature=[spec])
  def encode(images):
    mean, log_variance = posterior(images)
    return {"mean": mean, "log_variance": log_variance}

  @tf.function(input_signature=[spec])
  def serve(images):
    return {"latent_mean": posterior(images)[0]}

  tf.saved_model.save(module, path, signatures={"serving_default": serve,
                                                "encode": encode})
  metadata = {"latent_dim": latent_dim, "image_shape": list(image_shape)}
  if dataset is not None:
    metadata["dataset"] = dataset
  os.makedirs(os.path.join(path, "assets"), exist_ok=True)
  with open(os.path.join(path, "assets", "tf_betavae_metadata.json"),
            "w") as f:
    json.dump(metadata, f)
  if metrics is not None:
    with open(os.path.join(path, "metrics.json"), "w") as f:
      json.dump(metrics, f)
  return path


def save_run_dir(path, export_path):
  """A training run directory whose train_summary.json names an export."""
  os.makedirs(path, exist_ok=True)
  with open(os.path.join(path, "train_summary.json"), "w") as f:
    json.dump({"step": 1, "export_path": export_path}, f)
  return path
