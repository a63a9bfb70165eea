"""The regularisers against float64 numpy computations on fixed arrays."""

import itertools
import math

import numpy as np
import pytest
import tensorflow as tf

from tf_betavae.models import regularizers


def _log_normal(x, mean, log_variance):
  return -0.5 * (math.log(2 * math.pi) + log_variance +
                 (x - mean) ** 2 / np.exp(log_variance))


def _logsumexp(values):
  top = max(values)
  return top + math.log(sum(math.exp(v - top) for v in values))


def _tc_reference(z, mean, log_variance, dataset_size=None):
  """Minibatch-weighted sampling written with explicit loops, float64."""
  batch, dims = z.shape
  log_nm = math.log(batch * (dataset_size or 1))
  total = 0.0
  for i in range(batch):
    joint = [sum(_log_normal(z[i, d], mean[j, d], log_variance[j, d])
                 for d in range(dims)) for j in range(batch)]
    log_q = _logsumexp(joint) - log_nm
    log_product = sum(
        _logsumexp([_log_normal(z[i, d], mean[j, d], log_variance[j, d])
                    for j in range(batch)]) - log_nm
        for d in range(dims))
    total += log_q - log_product
  return total / batch


def _arrays(seed, batch=7, dims=4):
  rng = np.random.RandomState(seed)
  mean = rng.normal(size=(batch, dims))
  log_variance = rng.normal(scale=0.5, size=(batch, dims)) - 1.0
  z = mean + np.exp(0.5 * log_variance) * rng.normal(size=(batch, dims))
  return z, mean, log_variance


@pytest.mark.parametrize("seed,dataset_size", [(0, None), (1, None),
                                               (2, 737280)])
def test_total_correlation_matches_a_float64_loop(seed, dataset_size):
  z, mean, log_variance = _arrays(seed)
  got = regularizers.total_correlation_mws(
      *(tf.constant(a, tf.float32) for a in (z, mean, log_variance)),
      dataset_size=dataset_size)
  expected = _tc_reference(z, mean, log_variance, dataset_size)
  assert float(got) == pytest.approx(expected, rel=1e-4, abs=1e-4)


def test_total_correlation_constants_differ_by_d_minus_1_log_nm():
  z, mean, log_variance = _arrays(3, batch=9, dims=5)
  args = [tf.constant(a, tf.float32) for a in (z, mean, log_variance)]
  without = float(regularizers.total_correlation_mws(*args))
  with_n = float(regularizers.total_correlation_mws(*args, dataset_size=1000))
  assert with_n - without == pytest.approx(4 * math.log(1000), rel=1e-5)


def test_total_correlation_near_zero_for_independent_latents():
  rng = np.random.RandomState(0)
  batch, dims = 2000, 3
  mean = rng.normal(size=(batch, dims))
  log_variance = np.full((batch, dims), math.log(0.5 ** 2))
  z = mean + 0.5 * rng.normal(size=(batch, dims))
  tc = float(regularizers.total_correlation_mws(
      *(tf.constant(a, tf.float32) for a in (z, mean, log_variance))))
  assert abs(tc) < 0.05


def test_total_correlation_positive_for_correlated_latents():
  rng = np.random.RandomState(0)
  batch = 2000
  first = rng.normal(size=(batch, 1))
  # The second and third latents copy the first (plus a little noise).
  mean = np.concatenate([first, first + 0.1 * rng.normal(size=(batch, 1)),
                         -first], axis=1)
  log_variance = np.full((batch, 3), math.log(0.2 ** 2))
  z = mean + 0.2 * rng.normal(size=(batch, 3))
  tc = float(regularizers.total_correlation_mws(
      *(tf.constant(a, tf.float32) for a in (z, mean, log_variance))))
  assert tc > 1.0


def _covariance_reference(mean):
  centred = mean - mean.mean(axis=0)
  return centred.T @ centred / mean.shape[0]


def test_dip_covariances_match_numpy():
  _, mean, log_variance = _arrays(5, batch=11, dims=4)
  cov_i = regularizers.dip_i_covariance(tf.constant(mean, tf.float32))
  np.testing.assert_allclose(cov_i.numpy(), _covariance_reference(mean),
                             rtol=1e-5, atol=1e-6)
  # np.cov with bias=True is the same (biased) estimate.
  np.testing.assert_allclose(cov_i.numpy(), np.cov(mean.T, bias=True),
                             rtol=1e-5, atol=1e-6)
  cov_ii = regularizers.dip_ii_covariance(tf.constant(mean, tf.float32),
                                          tf.constant(log_variance,
                                                      tf.float32))
  expected_ii = (np.diag(np.exp(log_variance).mean(axis=0)) +
                 _covariance_reference(mean))
  np.testing.assert_allclose(cov_ii.numpy(), expected_ii, rtol=1e-5,
                             atol=1e-6)


def test_dip_penalty_matches_numpy_loops():
  rng = np.random.RandomState(6)
  covariance = rng.normal(size=(5, 5))
  covariance = covariance @ covariance.T
  lambda_od, lambda_d = 3.0, 7.0
  off = sum(covariance[i, j] ** 2 for i, j in
            itertools.product(range(5), range(5)) if i != j)
  diag = sum((covariance[i, i] - 1.0) ** 2 for i in range(5))
  penalty, got_off, got_diag = regularizers.dip_penalty(
      tf.constant(covariance, tf.float32), lambda_od, lambda_d)
  assert float(got_off) == pytest.approx(off, rel=1e-5)
  assert float(got_diag) == pytest.approx(diag, rel=1e-5)
  assert float(penalty) == pytest.approx(lambda_od * off + lambda_d * diag,
                                         rel=1e-5)
  zero, _, _ = regularizers.dip_penalty(tf.eye(5), lambda_od, lambda_d)
  assert float(zero) == 0.0


def test_permute_dims_shuffles_each_column_on_its_own():
  batch, dims = 64, 6
  latents = np.arange(batch * dims, dtype=np.float32).reshape(batch, dims)
  permuted = regularizers.permute_dims(tf.constant(latents),
                                       tf.constant([3, 4])).numpy()
  orders = []
  for d in range(dims):
    # Each column holds exactly its own values, reordered.
    np.testing.assert_array_equal(np.sort(permuted[:, d]), latents[:, d])
    orders.append(tuple(((permuted[:, d] - d) / dims).astype(int)))
  assert len(set(orders)) == dims  # independent permutations per column
  assert all(order != tuple(range(batch)) for order in orders)
  again = regularizers.permute_dims(tf.constant(latents),
                                    tf.constant([3, 4])).numpy()
  np.testing.assert_array_equal(again, permuted)  # stateless seed
  other = regularizers.permute_dims(tf.constant(latents),
                                    tf.constant([3, 5])).numpy()
  assert not np.array_equal(other, permuted)


def test_permuted_codes_lose_the_dependence_between_columns():
  rng = np.random.RandomState(0)
  first = rng.normal(size=(4000, 1))
  latents = np.concatenate([first, first], axis=1).astype(np.float32)
  permuted = regularizers.permute_dims(tf.constant(latents),
                                       tf.constant([0, 1])).numpy()
  assert np.corrcoef(latents.T)[0, 1] == pytest.approx(1.0)
  assert abs(np.corrcoef(permuted.T)[0, 1]) < 0.05


def test_discriminator_tc_and_loss_match_numpy():
  rng = np.random.RandomState(7)
  real = rng.normal(size=(9, 2))
  permuted = rng.normal(size=(9, 2))
  tc = regularizers.discriminator_total_correlation(
      tf.constant(real, tf.float32)).numpy()
  np.testing.assert_allclose(tc, real[:, 0] - real[:, 1], rtol=1e-6)

  def log_softmax(logits):
    return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
  expected_loss = -0.5 * (log_softmax(real)[:, 0].mean() +
                          log_softmax(permuted)[:, 1].mean())
  expected_accuracy = 0.5 * ((real[:, 0] >= real[:, 1]).mean() +
                             (permuted[:, 1] > permuted[:, 0]).mean())
  loss, accuracy = regularizers.discriminator_loss(
      tf.constant(real, tf.float32), tf.constant(permuted, tf.float32))
  assert float(loss) == pytest.approx(expected_loss, rel=1e-5)
  assert float(accuracy) == pytest.approx(expected_accuracy)


def test_gaussian_log_density_matches_scipy_formula():
  rng = np.random.RandomState(8)
  x, mean, log_variance = rng.normal(size=(3, 10))
  got = regularizers.gaussian_log_density(
      *(tf.constant(a, tf.float32) for a in (x, mean, log_variance))).numpy()
  from scipy import stats  # pylint: disable=g-import-not-at-top
  expected = stats.norm.logpdf(x, mean, np.exp(0.5 * log_variance))
  np.testing.assert_allclose(got, expected, rtol=1e-5)
