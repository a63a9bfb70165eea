"""SAP score (Kumar et al. 2018, section 3), as disentanglement_lib defines it.

A score matrix S [D, K] rates how well each single code dimension predicts
each factor; SAP is the mean over factors of the gap between the largest and
the second largest entry of the factor's column.

* discrete factors (disentanglement_lib's setting for dSprites,
  ``continuous_factors=False``): S[j, k] is the test accuracy (on
  ``num_test`` = 5,000 samples) of
  ``sklearn.svm.LinearSVC(C=0.01, class_weight="balanced")`` trained on
  ``num_train`` = 10,000 samples to predict factor k from code j alone;
* continuous factors: S[j, k] is the squared Pearson correlation of code j
  and factor k (0 for a code with variance <= 1e-12).
"""

import warnings

from absl import logging
import numpy as np

from tf_betavae.metrics import sampling

DEFAULTS = {"num_train": 10000, "num_test": 5000, "continuous_factors": False}

# run_metric's ``num_train`` / ``num_eval`` overrides -> the sizes they set.
SIZE_OVERRIDES = sampling.TRAIN_TEST_OVERRIDES
images_sampled = sampling.train_test_images_sampled


def score_matrix(codes_train, factors_train, codes_test, factors_test,
                 continuous_factors=False, random_state=None):
  """Predictiveness of every factor from every single code dimension.

  Args:
    codes_train: float [N, D].
    factors_train: int [N, K].
    codes_test: float [M, D] (used for discrete factors).
    factors_test: int [M, K].
    continuous_factors: bool.
    random_state: np.random.RandomState or None, seeds LinearSVC.

  Returns:
    float64 np.ndarray [D, K]: accuracies (discrete) or squared correlations.
  """
  codes_train = np.asarray(codes_train, np.float64)
  factors_train = np.asarray(factors_train)
  num_codes, num_factors = codes_train.shape[1], factors_train.shape[1]
  if continuous_factors:
    ys = factors_train.astype(np.float64)
    mc = codes_train - codes_train.mean(axis=0)
    my = ys - ys.mean(axis=0)
    n = len(codes_train)
    cov = mc.T @ my / (n - 1)
    var_c = (mc**2).sum(axis=0) / (n - 1)
    var_y = (my**2).sum(axis=0) / (n - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
      scores = cov**2 / (var_c[:, None] * var_y[None, :])
    scores[var_c <= 1e-12, :] = 0.0
    return np.nan_to_num(scores)
  from sklearn import exceptions
  from sklearn import svm
  codes_test = np.asarray(codes_test, np.float64)
  factors_test = np.asarray(factors_test)
  seed = None if random_state is None else random_state.randint(2**31 - 1)
  scores = np.zeros((num_codes, num_factors))
  with warnings.catch_warnings():
    warnings.simplefilter("ignore", exceptions.ConvergenceWarning)
    for j in range(num_codes):
      for k in range(num_factors):
        classifier = svm.LinearSVC(C=0.01, class_weight="balanced",
                                   random_state=seed)
        classifier.fit(codes_train[:, j:j + 1], factors_train[:, k])
        predicted = classifier.predict(codes_test[:, j:j + 1])
        scores[j, k] = np.mean(predicted == factors_test[:, k])
  return scores


def top_two_gap(matrix):
  """Per column, largest minus second largest entry; float64 [K]."""
  ordered = np.sort(np.asarray(matrix, np.float64), axis=0)
  if len(ordered) < 2:
    return ordered[-1]
  return ordered[-1] - ordered[-2]


def compute_sap_from_codes(codes_train, factors_train, codes_test,
                           factors_test, continuous_factors=False,
                           random_state=None):
  """Pure core of SAP.

  Returns:
    dict: ``score`` (SAP, mean top-two gap), ``per_factor_gap`` [K] and
    ``score_matrix`` [D][K].
  """
  scores = score_matrix(codes_train, factors_train, codes_test, factors_test,
                        continuous_factors, random_state)
  gap = top_two_gap(scores)
  return {"score": float(np.mean(gap)), "per_factor_gap": gap.tolist(),
          "score_matrix": scores.tolist()}


def compute_sap(ground_truth, representation_fn, random_state,
                num_train=DEFAULTS["num_train"], num_test=DEFAULTS["num_test"],
                continuous_factors=DEFAULTS["continuous_factors"],
                chunk_images=sampling.DEFAULT_CHUNK_IMAGES, prefetch=True):
  """SAP score of a representation.

  Args:
    ground_truth: ground-truth object (see ``sampling``).
    representation_fn: callable images [N, H, W, C] -> codes [N, D].
    random_state: np.random.RandomState.
    num_train: int, training samples (10,000).
    num_test: int, test samples (5,000).
    continuous_factors: bool (False for dSprites in disentanglement_lib).
    chunk_images: int, images rendered and encoded per call.
    prefetch: see ``sampling.map_chunks``.

  Returns:
    dict of ``compute_sap_from_codes`` plus ``parameters``.
  """
  logging.info("SAP: sampling %d train and %d test points.", num_train,
               num_test)
  codes_train, factors_train, codes_test, factors_test = (
      sampling.sample_train_and_test(ground_truth, representation_fn, num_train,
                                     num_test, random_state, chunk_images,
                                     prefetch))
  result = compute_sap_from_codes(codes_train, factors_train, codes_test,
                                  factors_test, continuous_factors,
                                  random_state)
  result["parameters"] = {
      "num_train": int(num_train), "num_test": int(num_test),
      "continuous_factors": bool(continuous_factors),
      "classifier": 'sklearn.svm.LinearSVC(C=0.01, class_weight="balanced")'}
  return result
