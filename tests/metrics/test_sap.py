import numpy as np
import pytest

from tf_betavae.metrics import sap


def test_top_two_gap():
  m = np.array([[0.9, 0.1], [0.2, 0.5], [0.4, 0.4]])
  np.testing.assert_allclose(sap.top_two_gap(m), [0.5, 0.1])


def test_continuous_score_matrix_is_squared_correlation():
  rs = np.random.RandomState(0)
  codes = rs.randn(400, 3)
  codes[:, 2] = 1.0  # constant code -> 0
  factors = rs.randint(5, size=(400, 2))
  s = sap.score_matrix(codes, factors, None, None, continuous_factors=True)
  for j in range(2):
    for k in range(2):
      assert s[j, k] == pytest.approx(np.corrcoef(codes[:, j], factors[:, k])[0, 1]**2)
  np.testing.assert_array_equal(s[2], 0.0)


def _run(gt, fn, continuous=False, seed=0):
  return sap.compute_sap(gt, fn, np.random.RandomState(seed), num_train=2000,
                         num_test=1000, continuous_factors=continuous)


def test_synthetic_representations(gt, synthetic):
  ident_c = _run(gt, synthetic.identity(gt), continuous=True)["score"]
  assert ident_c > 0.98
  assert _run(gt, synthetic.random(), continuous=True)["score"] < 0.02
  mixed = _run(gt, synthetic.mixed(gt, weight=0.5), continuous=True)["score"]
  assert 0.1 < mixed < ident_c - 0.1
  extra = _run(gt, synthetic.extra_noise_dims(gt), continuous=True)["score"]
  assert extra == pytest.approx(ident_c, abs=0.02)
  # Discrete factors (disentanglement_lib's dSprites setting): a linear SVM
  # on one code dimension separates few classes, so even the identity scores
  # far below 1, but clearly above a random code; noise dims change nothing.
  ident = _run(gt, synthetic.identity(gt))
  assert ident["parameters"]["continuous_factors"] is False
  rand = _run(gt, synthetic.random())["score"]
  assert rand < 0.03 and ident["score"] > rand + 0.05
  assert _run(gt, synthetic.extra_noise_dims(gt))["score"] == pytest.approx(
      ident["score"], abs=0.02)


def test_same_seed_same_score(gt, synthetic):
  a = _run(gt, synthetic.noisy_identity(gt, seed=3), seed=2)["score"]
  b = _run(gt, synthetic.noisy_identity(gt, seed=3), seed=2)["score"]
  assert a == b
