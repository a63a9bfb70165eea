"""downstream_task: known answers (disentangled, mixed, noise), a scikit-learn
reference of the core, accuracy rising with num_train, bad input."""

import warnings

import numpy as np
import pytest
from sklearn import exceptions
from sklearn import linear_model
from sklearn import model_selection
import threadpoolctl

from tf_betavae.metrics import downstream_task as dt
from tf_betavae.metrics import sampling

SIZES = dict(num_train=[10, 100], num_test=200)


def _run(gt, fn, seed=0, **kwargs):
  args = dict(SIZES, **kwargs)
  return dt.compute_downstream_task(gt, fn, np.random.RandomState(seed),
                                    **args)


def _rotated(gt, synthetic, seed=3):
  """Identity codes times a random orthogonal matrix."""
  q, _ = np.linalg.qr(np.random.RandomState(seed).randn(gt.num_factors,
                                                         gt.num_factors))
  ident = synthetic.identity(gt)
  return lambda images: (ident(images) @ q).astype(np.float32)


def _packed(gt):
  """Factors 0 and 1 packed into one code, f0 * n1 + f1 (invertible but
  not linearly separable for f1); the other factors kept."""
  n1 = gt.factors_num_values[1]

  def fn(images):
    f = images.reshape(len(images), -1).astype(np.float64)
    return np.concatenate([f[:, :1] * n1 + f[:, 1:2], f[:, 2:]], axis=1)

  return fn


def test_defaults_and_keys_match_disentanglement_lib(synthetic):
  assert dt.DEFAULTS == {"num_train": (10, 100, 1000, 10000),
                         "num_test": 5000,
                         "predictor": "logistic_regression_cv"}
  assert dt.images_sampled({"num_train": [10, 100], "num_test": 200}) == 510
  # run_metric's integer num_train override is one size.
  assert dt.images_sampled({"num_train": 500, "num_test": 100}) == 600
  gt = synthetic.FactorGroundTruth((2, 3, 4))
  result = _run(gt, synthetic.identity(gt))
  expected = {"score", "parameters"}
  for s in ("10", "100"):
    expected |= {f"{s}:mean_train_accuracy", f"{s}:mean_test_accuracy",
                 f"{s}:min_train_accuracy", f"{s}:min_test_accuracy"}
    for i in range(3):
      expected |= {f"{s}:train_accuracy_factor_{i}",
                   f"{s}:test_accuracy_factor_{i}"}
  assert set(result) == expected
  assert result["parameters"]["num_train"] == [10, 100]
  # (a) Codes = factors: every factor is predicted exactly.
  for key in expected - {"score", "parameters"}:
    if key.startswith("100:"):
      assert result[key] == 1.0, key
  assert result["score"] == result["100:mean_test_accuracy"] == 1.0


def test_rotation_keeps_accuracy_nonlinear_packing_lowers_it(synthetic):
  # (b) A classifier on the whole code does not care how the factors are
  # spread over dimensions: a random rotation keeps the accuracy ...
  gt = synthetic.FactorGroundTruth((2, 3, 4))
  rotated = _run(gt, _rotated(gt, synthetic), num_train=[100])
  assert rotated["score"] >= 0.95
  # ... but an encoding a linear classifier cannot undo lowers it, while
  # gradient-boosted trees still decode it.
  packed_lr = _run(gt, _packed(gt), num_train=[100])
  packed_gbt = _run(gt, _packed(gt), num_train=[100],
                    predictor="gradient_boosting_classifier")
  assert packed_lr["100:test_accuracy_factor_1"] < 0.8
  assert packed_lr["score"] < rotated["score"] - 0.1
  assert packed_gbt["score"] == 1.0


def test_noise_codes_give_chance_accuracy(synthetic):
  # (c) Each factor is predicted at about 1 / num_values.
  gt = synthetic.FactorGroundTruth((2, 4, 8))
  result = _run(gt, synthetic.random(3), num_train=[100], num_test=400)
  for i, n in enumerate(gt.factors_num_values):
    assert result[f"100:test_accuracy_factor_{i}"] == pytest.approx(
        1.0 / n, abs=0.1)


def test_core_matches_straightforward_sklearn_reference():
  # (d) float64 reference: one scikit-learn LogisticRegressionCV per
  # factor, fitted directly with disentanglement_lib's settings.
  rs = np.random.RandomState(0)
  factors_train = rs.randint(3, size=(60, 2))
  factors_test = rs.randint(3, size=(40, 2))
  mix = rs.randn(2, 3)
  codes_train = factors_train @ mix + 0.8 * rs.randn(60, 3)
  codes_test = factors_test @ mix + 0.8 * rs.randn(40, 3)
  result = dt.compute_downstream_task_from_codes(
      codes_train, factors_train, codes_test, factors_test)
  train_acc, test_acc = [], []
  for k in range(2):
    model = linear_model.LogisticRegressionCV(
        Cs=10, cv=model_selection.KFold(n_splits=5), scoring="accuracy")
    with warnings.catch_warnings(), threadpoolctl.threadpool_limits(1, "blas"):
      warnings.simplefilter("ignore", exceptions.ConvergenceWarning)
      warnings.simplefilter("ignore", FutureWarning)
      model.fit(codes_train, factors_train[:, k])
    train_acc.append(np.mean(model.predict(codes_train) ==
                             factors_train[:, k]))
    test_acc.append(np.mean(model.predict(codes_test) == factors_test[:, k]))
  for k in range(2):
    assert result[f"60:train_accuracy_factor_{k}"] == train_acc[k]
    assert result[f"60:test_accuracy_factor_{k}"] == test_acc[k]
  assert result["60:mean_test_accuracy"] == pytest.approx(np.mean(test_acc))
  assert result["60:min_train_accuracy"] == np.min(train_acc)
  # Not a trivial case: some points are misclassified.
  assert 0.4 < result["60:mean_test_accuracy"] < 1.0


def test_accuracy_rises_with_num_train_and_sampling_order(synthetic):
  # (e) More training points, better test accuracy.
  gt = synthetic.FactorGroundTruth((4, 6))
  fn = synthetic.noisy_identity(gt, 0.15, seed=2)
  result = _run(gt, fn, num_train=[10, 150])
  assert result["150:mean_test_accuracy"] > (
      result["10:mean_test_accuracy"] + 0.1)
  assert result["score"] == result["150:mean_test_accuracy"]
  # disentanglement_lib's order: per size a fresh training set, then a fresh
  # test set, from the one random state.
  rs = np.random.RandomState(4)
  expected = {}
  for size in (10, 30):
    train = sampling.sample_codes_and_factors(gt, synthetic.identity(gt),
                                              size, rs)
    test = sampling.sample_codes_and_factors(gt, synthetic.identity(gt), 50,
                                             rs)
    expected.update(dt.compute_downstream_task_from_codes(*train, *test))
  got = dt.compute_downstream_task(gt, synthetic.identity(gt),
                                   np.random.RandomState(4),
                                   num_train=[10, 30], num_test=50)
  for key, value in expected.items():
    assert got[key] == value, key


def test_invalid_sizes_raise(synthetic):
  gt = synthetic.FactorGroundTruth((2, 3))
  fn = synthetic.identity(gt)
  rs = np.random.RandomState(0)
  with pytest.raises(ValueError, match="at least one training-set size"):
    dt.compute_downstream_task(gt, fn, rs, num_train=[])
  with pytest.raises(ValueError, match="positive integers, got 0"):
    dt.compute_downstream_task(gt, fn, rs, num_train=[10, 0])
  with pytest.raises(ValueError, match="distinct"):
    dt.compute_downstream_task(gt, fn, rs, num_train=[10, 10])
  with pytest.raises(ValueError, match="num_test must be a positive"):
    dt.compute_downstream_task(gt, fn, rs, num_train=[10], num_test=0)
  with pytest.raises(ValueError, match="unknown predictor"):
    dt.compute_downstream_task(gt, fn, rs, num_train=[10], predictor="svm")
  with pytest.raises(ValueError, match="at least 5 for logistic_regression"):
    dt.compute_downstream_task(gt, fn, rs, num_train=[3], num_test=10)
  # A factor that takes one value in the training set cannot be fitted.
  codes = np.zeros((6, 2))
  factors = np.stack([np.arange(6) % 2, np.zeros(6, int)], axis=1)
  with pytest.raises(ValueError, match="factor 1 takes a single value"):
    dt.compute_downstream_task_from_codes(codes, factors, codes, factors)
