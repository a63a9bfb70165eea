"""Classifiers of the downstream-task metrics, by disentanglement_lib's names.

disentanglement_lib's downstream tasks fit one classifier per factor, chosen
by name in their gin configs:

* ``"logistic_regression_cv"``: ``sklearn.linear_model.LogisticRegressionCV``
  with ``Cs=10`` (ten inverse regularisation strengths on a log grid from
  1e-4 to 1e4) chosen by accuracy in an unshuffled 5-fold ``KFold``, other
  settings at their defaults (l2 penalty, lbfgs, 100 iterations);
* ``"gradient_boosting_classifier"``:
  ``sklearn.ensemble.GradientBoostingClassifier()`` with its defaults; here
  the same model fitted by ``gbt.GradientBoostedTrees`` (much faster on
  codes; tests/metrics/test_gbt.py compares the two).

Both are deterministic given the data (lbfgs and an unshuffled KFold draw no
random numbers; gbt.py breaks ties without them), so fitting them never
advances a metric's random state.
"""

import warnings

import numpy as np

from tf_betavae.metrics import gbt

PREDICTORS = ("logistic_regression_cv", "gradient_boosting_classifier")
# scikit-learn's own GradientBoostingClassifier(): the same model as
# "gradient_boosting_classifier", faster on wide codes such as raw pixels
# (DCI picks it there); not one of disentanglement_lib's predictor names.
SKLEARN_GRADIENT_BOOSTING = "sklearn_gradient_boosting_classifier"
# What "parameters" records for each predictor.
PREDICTOR_NAMES = {
    "logistic_regression_cv": (
        "sklearn.linear_model.LogisticRegressionCV(Cs=10, "
        "cv=KFold(n_splits=5), scoring='accuracy')"),
    "gradient_boosting_classifier": (
        "tf_betavae.metrics.gbt.GradientBoostedTrees (= sklearn "
        "GradientBoostingClassifier defaults)"),
    SKLEARN_GRADIENT_BOOSTING: (
        "sklearn.ensemble.GradientBoostingClassifier(defaults)"),
}
# LogisticRegressionCV's folds: a fit needs at least this many samples.
NUM_FOLDS = 5


class LogisticRegressionCV:
  """LogisticRegressionCV(Cs=10, cv=KFold(5)) that fits without warnings.

  ``scoring="accuracy"`` is stated explicitly: it is the default
  disentanglement_lib ran with, and newer scikit-learn releases announce a
  change of that default.  Convergence and deprecation warnings are
  silenced during ``fit``: disentanglement_lib fits with the default 100
  lbfgs iterations, which often stop short on unscaled codes.

  Attributes after ``fit``:
    classes_: np.ndarray [C], the sorted class labels.
    C_: np.ndarray, the chosen inverse regularisation strength(s).
  """

  def __init__(self, random_state=None):
    """Args: random_state: passed to scikit-learn (lbfgs does not use it)."""
    self.random_state = random_state
    self._model = None

  def fit(self, x, y):
    """Fits on codes ``x`` float [N, D] and labels ``y`` int [N]; -> self."""
    from sklearn import exceptions  # pylint: disable=g-import-not-at-top
    from sklearn import linear_model  # pylint: disable=g-import-not-at-top
    from sklearn import model_selection  # pylint: disable=g-import-not-at-top
    import threadpoolctl  # pylint: disable=g-import-not-at-top
    x = np.asarray(x, np.float64)
    y = np.asarray(y)
    if len(x) < NUM_FOLDS:
      raise ValueError(
          f"logistic_regression_cv needs at least {NUM_FOLDS} training points "
          f"for its {NUM_FOLDS}-fold cross-validation, got {len(x)}")
    self._model = linear_model.LogisticRegressionCV(
        Cs=10, cv=model_selection.KFold(n_splits=NUM_FOLDS),
        scoring="accuracy", random_state=self.random_state)
    # One BLAS thread: lbfgs on a few dozen weights makes thousands of tiny
    # BLAS calls, and waking a pool of BLAS threads for each made fits ~10x
    # slower (measured on 100 points x 3 codes).
    with warnings.catch_warnings(), threadpoolctl.threadpool_limits(
        limits=1, user_api="blas"):
      warnings.simplefilter("ignore", exceptions.ConvergenceWarning)
      warnings.simplefilter("ignore", FutureWarning)
      self._model.fit(x, y)
    self.classes_ = self._model.classes_
    self.C_ = self._model.C_
    return self

  def predict(self, x):
    """Predicted labels [M] of codes ``x`` float [M, D]."""
    if self._model is None:
      raise ValueError("predict called before fit")
    return self._model.predict(np.asarray(x, np.float64))


def make_predictor(name, random_state=None):
  """A new, unfitted classifier by disentanglement_lib's name.

  Args:
    name: one of ``PREDICTORS``, or SKLEARN_GRADIENT_BOOSTING.
    random_state: np.random.RandomState, int or None; handed to
      scikit-learn's logistic regression, which does not draw from it with
      lbfgs (gbt.py takes none).

  Returns:
    An object with ``fit(x [N, D], y [N]) -> self`` and ``predict(x [M, D])
    -> [M]``; the gradient-boosted trees also have ``feature_importances_``
    [D] after fitting.

  Raises:
    ValueError: unknown name.
  """
  if name == "logistic_regression_cv":
    return LogisticRegressionCV(random_state)
  if name == "gradient_boosting_classifier":
    return gbt.GradientBoostedTrees()
  if name == SKLEARN_GRADIENT_BOOSTING:
    from sklearn import ensemble  # pylint: disable=g-import-not-at-top
    return ensemble.GradientBoostingClassifier(random_state=random_state)
  raise ValueError(f"unknown predictor {name!r}; choose from {PREDICTORS}")


def check_predictor(name):
  """Raises ValueError unless ``name`` is one of ``PREDICTORS``."""
  if name not in PREDICTORS:
    raise ValueError(f"unknown predictor {name!r}; choose from {PREDICTORS}")
