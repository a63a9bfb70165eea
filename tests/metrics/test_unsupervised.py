"""Label-free scores: closed forms, a float64 reference and the sampler."""

import numpy as np
import pytest

from tf_betavae.metrics import unsupervised

from conftest import FactorGroundTruth


def _cov2(rho, scale=(1.0, 1.0)):
  s1, s2 = scale
  return np.array([[s1 * s1, rho * s1 * s2], [rho * s1 * s2, s2 * s2]])


# ------------------------------------------------------------- closed forms

@pytest.mark.parametrize("rho", [0.0, 0.3, -0.8, 0.95])
def test_total_correlation_of_a_2d_gaussian(rho):
  expected = -0.5 * np.log(1 - rho ** 2)
  for scale in ((1.0, 1.0), (0.2, 5.0)):  # scale-free
    assert unsupervised.gaussian_total_correlation(
        _cov2(rho, scale)) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("rho", [0.0, 0.3, -0.8, 0.95])
def test_wasserstein_correlation_of_a_2d_gaussian(rho):
  # Unit variances: C * diag(C)[:, None] = C, whose eigenvalues are 1 +- rho.
  expected = 4 - 2 * (np.sqrt(1 + rho) + np.sqrt(1 - rho))
  assert unsupervised.gaussian_wasserstein_correlation(
      _cov2(rho)) == pytest.approx(expected, abs=1e-9)


def test_diagonal_covariance_scores_zero():
  covariance = np.diag([0.5, 2.0, 3.0])
  assert unsupervised.gaussian_total_correlation(covariance) == pytest.approx(
      0.0, abs=1e-12)
  assert unsupervised.gaussian_wasserstein_correlation(
      covariance) == pytest.approx(0.0, abs=1e-9)


def test_sampled_gaussians():
  rs = np.random.RandomState(0)
  n = 20000
  independent = rs.randn(n, 4) * [1.0, 2.0, 0.5, 3.0]
  r = unsupervised.compute_unsupervised_from_codes(independent)
  assert abs(r["gaussian_total_correlation"]) < 2e-3
  assert abs(r["gaussian_wasserstein_correlation_norm"]) < 2e-3
  assert 0 <= r["mutual_info_score"] < 0.02  # plug-in bias only
  rho = 0.6
  correlated = rs.multivariate_normal([0, 0], _cov2(rho, (1.0, 3.0)), n)
  c = unsupervised.compute_unsupervised_from_codes(correlated)
  assert c["gaussian_total_correlation"] == pytest.approx(
      -0.5 * np.log(1 - rho ** 2), abs=0.01)
  assert c["gaussian_wasserstein_correlation"] > 0.05
  # Gaussian MI is -0.5 log(1 - rho^2) too; 20 bins lose a little of it.
  assert 0.1 < c["mutual_info_score"] < 0.25


def test_copied_latent_mutual_info_is_its_entropy():
  rs = np.random.RandomState(1)
  z = rs.rand(5000)
  score, matrix = unsupervised.pairwise_mutual_info_score(
      np.stack([z, z * 4 - 1], axis=1), num_bins=10)
  bins = np.bincount(np.minimum((z * 10).astype(int), 9)) / len(z)
  entropy = -np.sum(bins * np.log(bins))
  assert score == pytest.approx(entropy, rel=1e-3)
  assert matrix[0, 0] == 0.0 and matrix[1, 1] == 0.0


# ---------------------------------------------------------------- reference

def _reference(codes, num_bins):
  """Float64 loops from the definitions."""
  n, d = codes.shape
  means = [sum(codes[:, j]) / n for j in range(d)]
  cov = np.zeros((d, d))
  for a in range(d):
    for b in range(d):
      cov[a, b] = sum((codes[:, a] - means[a]) * (codes[:, b] - means[b])) / (
          n - 1)
  eig = np.linalg.eigvalsh(cov)
  tc = 0.5 * (sum(np.log(cov[k, k]) for k in range(d)) - sum(np.log(eig)))
  # trace sqrt(diag(C) C) = trace sqrt(D^1/2 C D^1/2): similar matrices.
  half = np.diag(np.sqrt(np.diag(cov)))
  root_trace = sum(np.sqrt(np.linalg.eigvalsh(half @ cov @ half)))
  wasserstein = 2 * np.trace(cov) - 2 * root_trace
  labels = np.zeros((n, d), int)
  for j in range(d):
    low, high = codes[:, j].min(), codes[:, j].max()
    width = (high - low) / num_bins
    for i in range(n):
      # Bin k (1..num_bins) holds [low + (k-1) width, low + k width).
      labels[i, j] = min(int((codes[i, j] - low) // width) + 1, num_bins)
  total = 0.0
  for a in range(d):
    for b in range(d):
      if a == b:
        continue
      joint = np.zeros((num_bins + 1, num_bins + 1))
      for i in range(n):
        joint[labels[i, a], labels[i, b]] += 1.0 / n
      pa, pb = joint.sum(axis=1), joint.sum(axis=0)
      for x in range(num_bins + 1):
        for y in range(num_bins + 1):
          if joint[x, y] > 0:
            total += joint[x, y] * np.log(joint[x, y] / (pa[x] * pb[y]))
  return {"gaussian_total_correlation": tc,
          "gaussian_wasserstein_correlation": wasserstein,
          "gaussian_wasserstein_correlation_norm": wasserstein / np.trace(cov),
          "mutual_info_score": total / (d * d - d), "covariance": cov}


def test_matches_float64_reference():
  rs = np.random.RandomState(2)
  codes = (rs.randn(400, 3) @ rs.randn(3, 3)).astype(np.float32)
  codes[:, 2] = np.tanh(codes[:, 2])
  ours = unsupervised.compute_unsupervised_from_codes(codes, num_bins=7)
  expected = _reference(codes.astype(np.float64), 7)
  for key in ("gaussian_total_correlation", "gaussian_wasserstein_correlation",
              "gaussian_wasserstein_correlation_norm", "mutual_info_score"):
    assert ours[key] == pytest.approx(expected[key], rel=1e-6, abs=1e-9), key
    assert expected[key] > 0.01, key  # a non-trivial comparison
  np.testing.assert_allclose(ours["covariance"], expected["covariance"],
                             rtol=1e-9)


def test_compute_unsupervised_samples_like_the_other_metrics():
  gt = FactorGroundTruth((5, 7, 9))

  def representation(images):
    f = images.reshape(len(images), -1).astype(np.float64)
    return np.stack([f[:, 0] + f[:, 1], f[:, 1], f[:, 2]], axis=1)

  result = unsupervised.compute_unsupervised(
      gt, representation, np.random.RandomState(3), num_train=2000,
      chunk_images=700)
  factors = gt.sample_factors(2000, np.random.RandomState(3))
  expected = unsupervised.compute_unsupervised_from_codes(
      representation(factors.astype(np.float32)))
  for key, value in expected.items():
    np.testing.assert_allclose(result[key], value, atol=1e-12, err_msg=key)
  assert result["parameters"] == {"num_train": 2000, "num_bins": 20,
                                  "discretizer": "histogram"}
  assert result["gaussian_total_correlation"] > 0.1  # latents 0, 1 share f1
