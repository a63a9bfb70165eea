import numpy as np
import pytest

from tf_betavae.metrics import factor_vae


def test_votes_known_answer():
  # Two examples, 3 dims; dim 2 is inactive (would otherwise win).
  group_codes = np.array([
      [[0., 1., 5.], [0., 2., 5.], [0., 3., 5.]],   # dim 0 constant
      [[1., 7., 5.], [2., 7., 5.], [3., 7., 5.]],   # dim 1 constant
  ])
  votes = factor_vae.factor_vae_votes(
      group_codes, np.array([1, 0]), np.array([1., 1., 1.]),
      np.array([True, True, False]), num_factors=2)
  np.testing.assert_array_equal(votes, [[0, 1, 0], [1, 0, 0]])


def test_votes_normalise_by_global_variance():
  # Local variances 1 and 4, but dim 1 has a 100x larger global variance.
  group_codes = np.array([[[0., 0.], [1., 2.], [2., 4.]]])
  votes = factor_vae.factor_vae_votes(group_codes, np.array([0]),
                                      np.array([1., 100.]),
                                      np.array([True, True]), 1)
  np.testing.assert_array_equal(votes, [[0, 1]])


def test_majority_vote_accuracy():
  train = np.array([[8, 1, 0], [2, 9, 5]])
  evaluation = np.array([[4, 1, 1], [1, 3, 1]])
  r = factor_vae.compute_factor_vae_from_votes(train, evaluation)
  assert r["dimension_to_factor"] == [0, 1, 1]
  assert r["train_accuracy"] == pytest.approx((8 + 9 + 5) / 25)
  assert r["eval_accuracy"] == pytest.approx((4 + 3 + 1) / 11)


def test_pruning_threshold():
  np.testing.assert_array_equal(
      factor_vae.active_dimensions(np.array([0.0, 0.05**2 * 0.99, 0.05**2])),
      [False, False, True])


def _run(gt, fn, seed=0, **kwargs):
  return factor_vae.compute_factor_vae(
      gt, fn, np.random.RandomState(seed), num_train=1000, num_eval=500,
      num_variance_estimate=2000, **kwargs)


def test_synthetic_representations(gt, synthetic):
  assert _run(gt, synthetic.identity(gt))["score"] == 1.0
  rand = _run(gt, synthetic.random())["score"]
  assert rand == pytest.approx(1 / 5, abs=0.07)
  extra = _run(gt, synthetic.extra_noise_dims(gt))
  assert extra["score"] == 1.0 and extra["num_active_dims"] == 10
  gt4 = synthetic.FactorGroundTruth((8, 8, 8, 8))
  mixed = _run(gt4, synthetic.mixed(gt4))["score"]
  assert mixed == pytest.approx(0.5, abs=0.07)


def test_collapsed_dimensions_are_pruned(gt, synthetic):
  ident = synthetic.identity(gt)
  # Dim 5 is constant (collapsed): it has zero local variance everywhere and
  # would win every argmin if it were not pruned.
  fn = lambda x: np.concatenate([ident(x), np.zeros((len(x), 1), np.float32)],
                                axis=1)
  r = _run(gt, fn)
  assert r["active_dims"] == [0, 1, 2, 3, 4]
  assert r["score"] == 1.0
  r = _run(gt, lambda x: np.zeros((len(x), 3), np.float32))
  assert r["score"] == 0.0 and r["num_active_dims"] == 0


def test_same_seed_same_score(gt, synthetic):
  a = _run(gt, synthetic.noisy_identity(gt, noise=1.0), seed=3)
  b = _run(gt, synthetic.noisy_identity(gt, noise=1.0), seed=3)
  assert a["score"] == b["score"] and 0.3 < a["score"] < 1.0
