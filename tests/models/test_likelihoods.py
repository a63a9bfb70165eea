"""Likelihood terms against TFP's distributions and a float64 numpy reference."""

import math

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tf_betavae.models import likelihoods

tfd = tfp.distributions


def _random_case(seed, binary):
  rng = np.random.RandomState(seed)
  images = rng.uniform(size=(4, 8, 8, 3))
  if binary:
    images = (images > 0.5).astype(np.float64)
  params = rng.normal(scale=3.0, size=(4, 8, 8, 3))
  return images, params


def test_bernoulli_matches_tfp_and_numpy():
  images, logits = _random_case(0, binary=True)
  nll = likelihoods.BernoulliLikelihood().negative_log_likelihood(
      tf.constant(images, tf.float32), tf.constant(logits, tf.float32))
  expected_tfp = -tfd.Independent(
      tfd.Bernoulli(logits=tf.constant(logits, tf.float64)),
      reinterpreted_batch_ndims=3).log_prob(images)
  p = 1.0 / (1.0 + np.exp(-logits))
  expected_np = -np.sum(images * np.log(p) + (1 - images) * np.log(1 - p),
                        axis=(1, 2, 3))
  assert nll.shape == (4,)
  np.testing.assert_allclose(nll.numpy(), expected_np, rtol=1e-5)
  np.testing.assert_allclose(nll.numpy(), expected_tfp.numpy(), rtol=1e-5)


@pytest.mark.parametrize("stddev", [1.0, 0.1])
def test_gaussian_matches_tfp(stddev):
  images, params = _random_case(1, binary=False)
  likelihood = likelihoods.GaussianLikelihood(stddev=stddev)
  nll = likelihood.negative_log_likelihood(tf.constant(images, tf.float32),
                                           tf.constant(params, tf.float32))
  mean = 1.0 / (1.0 + np.exp(-params))
  expected = -tfd.Independent(tfd.Normal(mean, stddev),
                              reinterpreted_batch_ndims=3).log_prob(images)
  expected_np = np.sum(0.5 * (images - mean) ** 2 / stddev ** 2 +
                       0.5 * math.log(2 * math.pi * stddev ** 2),
                       axis=(1, 2, 3))
  np.testing.assert_allclose(nll.numpy(), expected.numpy(), rtol=1e-4)
  np.testing.assert_allclose(nll.numpy(), expected_np, rtol=1e-4)


def test_means_are_in_unit_interval():
  params = tf.constant([[-50.0, 0.0, 50.0]])
  for likelihood in (likelihoods.BernoulliLikelihood(),
                     likelihoods.GaussianLikelihood()):
    mean = likelihood.mean(params).numpy()
    assert mean.min() >= 0.0 and mean.max() <= 1.0
    assert mean[0, 1] == pytest.approx(0.5)


def test_unknown_likelihood_and_bad_stddev_are_refused():
  with pytest.raises(ValueError, match="unknown likelihood 'poisson'"):
    likelihoods.get("poisson")
  with pytest.raises(ValueError, match="stddev must be > 0"):
    likelihoods.GaussianLikelihood(stddev=0.0)


@pytest.mark.parametrize("likelihood", [likelihoods.BernoulliLikelihood(),
                                        likelihoods.GaussianLikelihood(0.3)])
def test_get_config_round_trip(likelihood):
  clone = type(likelihood).from_config(likelihood.get_config())
  assert clone.get_config() == likelihood.get_config()
  assert likelihoods.get(**likelihood.get_config()).get_config() == (
      likelihood.get_config())
  images, params = _random_case(2, binary=True)
  images = tf.constant(images, tf.float32)
  params = tf.constant(params, tf.float32)
  np.testing.assert_array_equal(
      clone.negative_log_likelihood(images, params).numpy(),
      likelihood.negative_log_likelihood(images, params).numpy())
  np.testing.assert_array_equal(clone.mean(params).numpy(),
                                likelihood.mean(params).numpy())
