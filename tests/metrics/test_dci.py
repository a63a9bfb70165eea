import numpy as np
import pytest

from tf_betavae.metrics import dci


def test_scores_of_known_importance_matrices():
  assert dci.disentanglement(np.eye(3)) == pytest.approx(1.0)
  assert dci.completeness(np.eye(3)) == pytest.approx(1.0)
  assert dci.disentanglement(np.ones((3, 3))) == pytest.approx(0.0, abs=1e-9)
  assert dci.completeness(np.ones((3, 3))) == pytest.approx(0.0, abs=1e-9)
  # Each code splits its importance over 2 of 4 factors: 1 - log 2 / log 4.
  half = np.kron(np.eye(2), np.ones((2, 2)))
  assert dci.disentanglement(half) == pytest.approx(0.5)
  assert dci.completeness(half) == pytest.approx(0.5)
  # One code explains everything: disentangled, but factor 1 is spread.
  one = np.array([[1.0, 0.0], [0.0, 0.0]])
  assert dci.disentanglement(one) == pytest.approx(1.0)
  # An unused extra code does not change disentanglement (zero weight).
  np.testing.assert_allclose(dci.disentanglement(np.vstack([np.eye(3), 0 * np.eye(3)[:1]])), 1.0)
  # Per-code values.
  np.testing.assert_allclose(
      dci.disentanglement_per_code(np.array([[1., 0.], [1., 1.]])), [1., 0.],
      atol=1e-9)


def _run(gt, fn, seed=0):
  return dci.compute_dci(gt, fn, np.random.RandomState(seed), num_train=500,
                         num_test=250)


def test_synthetic_representations(synthetic):
  gt = synthetic.FactorGroundTruth((2, 3, 4, 4))
  ident = _run(gt, synthetic.identity(gt))
  assert ident["disentanglement"] > 0.99 and ident["completeness"] > 0.99
  assert ident["informativeness_test"] == 1.0
  rand = _run(gt, synthetic.random(4))
  assert rand["disentanglement"] < 0.1 and rand["completeness"] < 0.1
  extra = _run(gt, synthetic.extra_noise_dims(gt, extra=4))
  assert extra["disentanglement"] == pytest.approx(ident["disentanglement"],
                                                   abs=0.03)
  gt4 = synthetic.FactorGroundTruth((4, 4, 4, 4))
  mixed = _run(gt4, synthetic.mixed(gt4))
  assert mixed["disentanglement"] == pytest.approx(0.5, abs=0.1)
  assert mixed["completeness"] == pytest.approx(0.5, abs=0.1)
  assert ident["parameters"]["num_train"] == 500


def test_same_seed_same_score(synthetic):
  gt = synthetic.FactorGroundTruth((2, 3, 4))
  a = _run(gt, synthetic.noisy_identity(gt, 0.3, seed=2), seed=1)
  b = _run(gt, synthetic.noisy_identity(gt, 0.3, seed=2), seed=1)
  assert a["score"] == b["score"] and a["completeness"] == b["completeness"]
