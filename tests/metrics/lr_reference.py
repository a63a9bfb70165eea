"""A straightforward logistic-regression fit for the downstream tasks'
references: scikit-learn's LogisticRegressionCV as disentanglement_lib
configures it, fitted directly (not through tf_betavae.metrics.predictors)."""

import warnings

import numpy as np
from sklearn import exceptions
from sklearn import linear_model
from sklearn import model_selection
import threadpoolctl


def lr_accuracy(x_train, y_train, x_test, y_test):
  """(train accuracy, test accuracy) of LogisticRegressionCV(Cs=10, 5-fold
  KFold, accuracy scoring) fitted on the training set."""
  model = linear_model.LogisticRegressionCV(
      Cs=10, cv=model_selection.KFold(n_splits=5), scoring="accuracy")
  with warnings.catch_warnings(), threadpoolctl.threadpool_limits(1, "blas"):
    warnings.simplefilter("ignore", exceptions.ConvergenceWarning)
    warnings.simplefilter("ignore", FutureWarning)
    model.fit(x_train, y_train)
  return (np.mean(model.predict(x_train) == y_train),
          np.mean(model.predict(x_test) == y_test))
