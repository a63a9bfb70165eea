"""Our gradient-boosted trees against scikit-learn's GradientBoostingClassifier."""

import warnings

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier

from tf_betavae.metrics import dci
from tf_betavae.metrics import gbt


def _problem(seed, num_classes, n=3000, num_features=3):
  rs = np.random.RandomState(seed)
  x = rs.randn(n, num_features)
  y = np.round(2 * x[:, 0] + x[:, 1] + 0.7 * rs.randn(n)).astype(int)
  x_test = rs.randn(500, num_features)
  return x, y % num_classes, x_test


def _sklearn(x, y, stages):
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    return GradientBoostingClassifier(random_state=0,
                                      n_estimators=stages).fit(x, y)


@pytest.mark.parametrize("seed,num_classes", [(0, 4), (1, 2), (2, 7)])
def test_same_model_as_sklearn(seed, num_classes):
  x, y, x_test = _problem(seed, num_classes)
  theirs = _sklearn(x, y, 20)
  ours = gbt.GradientBoostedTrees(n_estimators=20).fit(x, y)
  # The same partitions of the training data: raw predictions on it equal
  # to rounding.
  np.testing.assert_allclose(ours.decision_function(x),
                             theirs.decision_function(x).reshape(len(x), -1),
                             atol=1e-9)
  np.testing.assert_array_equal(ours.predict(x), theirs.predict(x))
  # Where two features cut a node of a few samples identically, scikit-learn
  # picks one by a random feature order and we pick the first: the same
  # training partition, but importances and unseen points can differ there.
  np.testing.assert_allclose(ours.feature_importances_,
                             theirs.feature_importances_, atol=0.01)
  assert np.mean(ours.predict(x_test) == theirs.predict(x_test)) >= 0.9
  np.testing.assert_array_equal(ours.classes_, theirs.classes_)


def test_first_stage_importances_equal_sklearn():
  x, y, _ = _problem(3, 5)
  theirs = _sklearn(x, y, 1)
  ours = gbt.GradientBoostedTrees(n_estimators=1).fit(x, y)
  np.testing.assert_allclose(ours.feature_importances_,
                             theirs.feature_importances_, atol=1e-9)


def test_chunking_does_not_change_the_model():
  x, y, x_test = _problem(4, 6, n=800, num_features=4)
  whole = gbt.GradientBoostedTrees(n_estimators=5).fit(x, y)
  chunked = gbt.GradientBoostedTrees(n_estimators=5,
                                     chunk_elements=1600).fit(x, y)
  np.testing.assert_array_equal(whole.decision_function(x_test),
                                chunked.decision_function(x_test))
  np.testing.assert_array_equal(whole.feature_importances_,
                                chunked.feature_importances_)


def test_constant_features_and_one_class():
  x = np.zeros((50, 3))
  y = np.arange(50) % 3
  model = gbt.GradientBoostedTrees(n_estimators=3).fit(x, y)
  np.testing.assert_array_equal(model.feature_importances_, np.zeros(3))
  with pytest.raises(ValueError, match="at least 2 classes"):
    gbt.GradientBoostedTrees().fit(np.ones((5, 2)), np.zeros(5))


def test_dci_with_either_classifier(synthetic):
  gt = synthetic.FactorGroundTruth((3, 4, 5))
  results = {  # the same codes for both (a fresh, equally seeded noise)
      name: dci.compute_dci(gt, synthetic.noisy_identity(gt, 0.3, seed=2),
                            np.random.RandomState(0), num_train=600,
                            num_test=300, classifier=name)
      for name in dci.CLASSIFIERS}
  for key in ("disentanglement", "completeness", "informativeness_train",
              "informativeness_test"):
    assert results["gbt"][key] == pytest.approx(results["sklearn"][key],
                                                abs=0.02), key
  assert "GradientBoostedTrees" in results["gbt"]["parameters"]["classifier"]
  with pytest.raises(ValueError, match="classifier must be one of"):
    dci.compute_dci(gt, synthetic.identity(gt), np.random.RandomState(0),
                    num_train=20,
                    num_test=10, classifier="xgboost")


def test_dci_worker_processes_give_the_same_matrix():
  rs = np.random.RandomState(0)
  codes = rs.randn(dci.PROCESSES_FROM_SAMPLES, 3)
  factors = np.stack([np.digitize(codes[:, 0], [-1, 0, 1]),
                      (codes[:, 1] > 0).astype(int)], axis=1)
  test_codes, test_factors = codes[:200], factors[:200]
  parallel = dci.importance_gbt(codes, factors, test_codes, test_factors,
                                np.random.RandomState(1), n_jobs=2)
  serial = dci.importance_gbt(codes, factors, test_codes, test_factors,
                              np.random.RandomState(1), n_jobs=1)
  for a, b in zip(parallel, serial):
    np.testing.assert_array_equal(a, b)
  assert parallel[0][0, 0] > 0.5 and parallel[0][1, 1] > 0.5  # the right codes


def test_auto_classifier_by_code_width():
  assert dci.resolve_classifier("auto", dci.GBT_MAX_DIMENSIONS) == "gbt"
  assert dci.resolve_classifier("auto", 4096) == "sklearn"  # raw pixels
  assert dci.resolve_classifier("sklearn", 3) == "sklearn"
  rs = np.random.RandomState(0)
  wide = rs.randn(60, dci.GBT_MAX_DIMENSIONS + 1)
  factors = (wide[:, :1] > 0).astype(int)
  result = dci.compute_dci_from_codes(wide, factors, wide, factors,
                                      np.random.RandomState(0))
  assert result["informativeness_train"] == 1.0
