"""IRS: known answers (identity, rotations, noise), a loop reference of the
core, bad input."""

import numpy as np
import pytest

from tf_betavae.metrics import irs


def _run(gt, fn, seed=0, num_train=1000, **kwargs):
  return irs.compute_irs(gt, fn, np.random.RandomState(seed),
                         num_train=num_train, **kwargs)


def _reference_quantile(values, q):
  """Linear-interpolation quantile of a list (numpy's default method)."""
  s = sorted(values)
  position = (len(s) - 1) * q
  low = int(position)
  high = min(low + 1, len(s) - 1)
  return s[low] + (s[high] - s[low]) * (position - low)


def _reference_irs(codes, factors, q):
  """Loop IRS over the non-constant columns; factors used as they are."""
  n = len(codes)
  active = [j for j in range(codes.shape[1])
            if max(codes[:, j]) > min(codes[:, j])]
  scores, weights, parents = [], [], []
  for j in active:
    z = list(codes[:, j])
    mean = sum(z) / n
    max_dev = max(abs(v - mean) for v in z)
    row = []
    for k in range(factors.shape[1]):
      values = sorted(set(factors[:, k]))
      total = 0.0
      for v in values:
        group = [z[i] for i in range(n) if factors[i, k] == v]
        group_mean = sum(group) / len(group)
        total += _reference_quantile([abs(g - group_mean) for g in group], q)
      row.append(1.0 - total / len(values) / max_dev)
    scores.append(max(row))
    parents.append(row.index(max(row)))
    weights.append(max_dev)
  avg = sum(s * w for s, w in zip(scores, weights)) / sum(weights)
  return avg, scores, parents, weights, active


def test_core_matches_loop_reference():
  rs = np.random.RandomState(5)
  factors = rs.randint(4, size=(80, 3))
  codes = factors @ rs.randn(3, 4) + 0.5 * rs.randn(80, 4)
  codes[:, 2] = 1.5  # a collapsed dimension is dropped
  for q in (0.99, 0.5, 1.0):
    r = irs.compute_irs_from_codes(codes, factors, diff_quantile=q)
    avg, scores, parents, weights, active = _reference_irs(codes, factors, q)
    assert r["IRS"] == pytest.approx(avg, abs=1e-12)
    assert r["score"] == r["IRS"] == r["avg_score"]
    np.testing.assert_allclose(r["disentanglement_scores"], scores,
                               atol=1e-12)
    np.testing.assert_allclose(r["max_deviations"], weights, atol=1e-12)
    assert r["parents"] == parents
    assert r["active_dims"] == active == [0, 1, 3]
    assert r["num_active_dims"] == 3
    assert np.shape(r["IRS_matrix"]) == (3, 3)


def test_factors_are_histogram_discretised():
  # A factor with 40 values falls into 20 bins of 2 values: IRS groups by
  # bin, so the identity code of that factor varies within its groups.
  factors = np.repeat(np.arange(40), 5)[:, None]
  r = irs.compute_irs_from_codes(factors.astype(float), factors,
                                 diff_quantile=1.0)
  # Each bin holds 2 values 1 apart: deviation 0.5 from the bin mean, max
  # deviation 19.5 from the overall mean.
  assert r["IRS"] == pytest.approx(1.0 - 0.5 / 19.5)
  fine = irs.compute_irs_from_codes(factors.astype(float), factors,
                                    diff_quantile=1.0, num_bins=40)
  assert fine["IRS"] == pytest.approx(1.0)


def test_identity_is_perfect(synthetic):
  gt = synthetic.FactorGroundTruth((3, 4, 5))
  r = _run(gt, synthetic.identity(gt))
  assert r["IRS"] == pytest.approx(1.0, abs=1e-12)
  assert r["score"] == r["IRS"]
  assert r["parents"] == [0, 1, 2]
  assert r["num_active_dims"] == 3
  assert r["parameters"]["diff_quantile"] == 0.99


def test_rotated_codes_score_lower(synthetic):
  gt = synthetic.FactorGroundTruth((4, 4))
  rotated = _run(gt, synthetic.mixed(gt, weight=1.0))["IRS"]
  half = _run(gt, synthetic.mixed(gt, weight=0.3))["IRS"]
  assert rotated < half < 1.0 - 0.05
  assert rotated < 0.7


def test_uniform_noise_is_chance():
  # Codes independent of the factors: every group spreads like the whole
  # sample, so the 0.99 quantile of |z - E[z | v]| is ~0.99 of the largest
  # deviation (uniform codes) and IRS ~ 1 - 0.99; with the maximum (the
  # paper's version) IRS ~ 0.
  rs = np.random.RandomState(0)
  factors = rs.randint(3, size=(4000, 2))
  codes = rs.uniform(-1, 1, size=(4000, 3))
  assert irs.compute_irs_from_codes(codes, factors)["IRS"] == pytest.approx(
      0.01, abs=0.01)
  assert irs.compute_irs_from_codes(
      codes, factors, diff_quantile=1.0)["IRS"] == pytest.approx(0.0, abs=0.02)


def test_no_active_dimension_scores_zero():
  r = irs.compute_irs_from_codes(np.ones((10, 2)), np.arange(10)[:, None] % 2)
  assert r["IRS"] == r["score"] == 0.0
  assert r["num_active_dims"] == 0


def test_bad_input_raises(synthetic):
  gt = synthetic.FactorGroundTruth((2, 3))
  fn = synthetic.identity(gt)
  with pytest.raises(ValueError, match="num_train >= 2"):
    _run(gt, fn, num_train=1)
  with pytest.raises(ValueError, match=r"diff_quantile must be in \(0, 1\]"):
    _run(gt, fn, diff_quantile=0.0)
  with pytest.raises(ValueError, match="num_bins must be >= 1"):
    _run(gt, fn, num_bins=0)
  with pytest.raises(ValueError, match="equally many rows"):
    irs.compute_irs_from_codes(np.zeros((5, 2)), np.zeros((4, 2)))
