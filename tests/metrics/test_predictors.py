"""The predictor registry the downstream tasks share with DCI."""

import warnings

import numpy as np
import pytest
from sklearn import exceptions
from sklearn import linear_model
from sklearn import model_selection
import threadpoolctl

from tf_betavae.metrics import gbt
from tf_betavae.metrics import predictors


def _data(n=120, seed=0):
  rs = np.random.RandomState(seed)
  y = rs.randint(3, size=n)
  x = np.stack([y + 0.6 * rs.randn(n), rs.randn(n)], axis=1)
  return x, y


def test_registry_names_and_interface():
  assert predictors.PREDICTORS == ("logistic_regression_cv",
                                   "gradient_boosting_classifier")
  x, y = _data()
  tree = predictors.make_predictor("gradient_boosting_classifier")
  assert isinstance(tree, gbt.GradientBoostedTrees)
  tree.fit(x, y)
  assert tree.feature_importances_.shape == (2,)
  # The informative code dimension carries the importance.
  assert tree.feature_importances_[0] > tree.feature_importances_[1]
  assert tree.predict(x).shape == (len(x),)
  with pytest.raises(ValueError, match="unknown predictor 'svm'"):
    predictors.make_predictor("svm")


def test_logistic_regression_cv_is_sklearns_with_dlib_settings():
  # Reference: scikit-learn's LogisticRegressionCV fitted directly with
  # disentanglement_lib's arguments (Cs=10, KFold(5), accuracy scoring).
  x, y = _data()
  x_test, _ = _data(60, seed=1)
  reference = linear_model.LogisticRegressionCV(
      Cs=10, cv=model_selection.KFold(n_splits=5), scoring="accuracy")
  # One BLAS thread only for speed (see predictors.py); results are equal.
  with warnings.catch_warnings(), threadpoolctl.threadpool_limits(1, "blas"):
    warnings.simplefilter("ignore", exceptions.ConvergenceWarning)
    warnings.simplefilter("ignore", FutureWarning)
    reference.fit(x, y)
  rs = np.random.RandomState(5)
  state = rs.get_state()[1].copy()
  with warnings.catch_warnings():
    warnings.simplefilter("error")  # the wrapper fits silently
    ours = predictors.make_predictor("logistic_regression_cv", rs).fit(x, y)
  np.testing.assert_array_equal(ours.predict(x_test),
                                reference.predict(x_test))
  np.testing.assert_allclose(ours.C_, reference.C_)
  # lbfgs and an unshuffled KFold draw nothing from the random state.
  np.testing.assert_array_equal(rs.get_state()[1], state)


def test_logistic_regression_cv_needs_five_points():
  x, y = _data(4)
  with pytest.raises(ValueError, match="at least 5 training points"):
    predictors.make_predictor("logistic_regression_cv").fit(x, y)
