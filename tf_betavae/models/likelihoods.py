"""Pixel likelihoods p(x|z): reconstruction terms and decoded means.

Each likelihood turns the decoder's per-pixel parameters into

* ``negative_log_likelihood(images, params)``: float32 [batch], nats per
  example, summed over pixels and channels;
* ``mean(params)``: the likelihood's mean image, float32 in [0, 1].

The formulas are the closed forms of ``tfd.Bernoulli`` / ``tfd.Normal``
log-probabilities (tests check them against TFP), written directly so that
continuous targets in [0, 1] are accepted and the step stays cheap.
"""

import math

import tensorflow as tf

LIKELIHOODS = ("bernoulli", "gaussian")


class BernoulliLikelihood:
  """Independent Bernoulli per pixel; params are logits (the paper's choice
  for binary images such as dSprites)."""

  name = "bernoulli"

  def negative_log_likelihood(self, images, params):
    """images, params: float32 [batch, H, W, C] -> float32 [batch] nats."""
    per_pixel = tf.nn.sigmoid_cross_entropy_with_logits(labels=images,
                                                        logits=params)
    return tf.reduce_sum(per_pixel, axis=[1, 2, 3])

  def mean(self, params):
    """params float32 [batch, H, W, C] -> mean image, same shape, [0, 1]."""
    return tf.sigmoid(params)

  def get_config(self):
    return {"name": self.name}

  @classmethod
  def from_config(cls, config):
    del config  # nothing to set
    return cls()


class GaussianLikelihood:
  """Independent Gaussian per pixel with a fixed standard deviation.

  The decoder output goes through a sigmoid to give the mean in [0, 1]
  (images are in [0, 1]); ``stddev`` is fixed (1.0 by default, the usual
  choice for RGB data such as CelebA, which makes the term half the squared
  error plus a constant).
  """

  name = "gaussian"

  def __init__(self, stddev=1.0):
    if not stddev > 0:
      raise ValueError(f"gaussian stddev must be > 0, got {stddev}")
    self.stddev = float(stddev)

  def negative_log_likelihood(self, images, params):
    """images, params: float32 [batch, H, W, C] -> float32 [batch] nats."""
    mean = tf.sigmoid(params)
    variance = self.stddev ** 2
    per_pixel = (0.5 * tf.square(images - mean) / variance +
                 0.5 * math.log(2.0 * math.pi * variance))
    return tf.reduce_sum(per_pixel, axis=[1, 2, 3])

  def mean(self, params):
    """params float32 [batch, H, W, C] -> mean image, same shape, [0, 1]."""
    return tf.sigmoid(params)

  def get_config(self):
    return {"name": self.name, "stddev": self.stddev}

  @classmethod
  def from_config(cls, config):
    return cls(stddev=config["stddev"])


def get(name, **kwargs):
  """Likelihood by name ('bernoulli' or 'gaussian'); kwargs: its settings
  (``stddev`` of the gaussian)."""
  if name == "bernoulli":
    return BernoulliLikelihood()
  if name == "gaussian":
    return GaussianLikelihood(**kwargs)
  raise ValueError(f"unknown likelihood {name!r}; choose one of {LIKELIHOODS}")
