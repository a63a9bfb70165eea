"""Modularity and explicitness (Ridgeway & Mozer 2018), disentanglement_lib's.

Codes and factors of ``num_train`` (default 10,000) and ``num_test`` (5,000)
i.i.d. samples are drawn.

* modularity: the training codes are discretised per dimension into
  ``num_bins`` (20) equal-width histogram bins and the discrete mutual
  information m[j, k] (nats) of code j and factor k is computed (the same
  estimator as MIG, ``mig.py``).  With ``theta_j = max_k m[j, k]**2``, code
  j's deviation from an ideal one-factor code is
  ``delta_j = (sum_k m[j, k]**2 - theta_j) / (theta_j * (K - 1))`` and its
  modularity is ``1 - delta_j``; a code with no information about any factor
  (``theta_j == 0``) scores 0.  The score is the mean over *all* code
  dimensions, so unused dimensions pull it down.
* explicitness: codes are standardised with the training mean and standard
  deviation; for every factor a one-vs-rest L2 logistic regression
  (scikit-learn ``LogisticRegression`` with C=1 on the liblinear solver, the
  default of the scikit-learn that disentanglement_lib was released with) is
  fitted on the whole code, and its one-vs-rest ROC-AUC, averaged over the
  factor's classes (macro), is computed on the training and on the test
  codes.  The scores are the means over factors (0.5 is chance, 1 perfect).

``score`` is ``modularity_score``.
"""

import warnings

from absl import logging
import numpy as np

from tf_betavae.metrics import mig
from tf_betavae.metrics import sampling

DEFAULTS = {"num_train": 10000, "num_test": 5000, "num_bins": 20}

# run_metric's ``num_train`` / ``num_eval`` overrides -> the sizes they set.
SIZE_OVERRIDES = sampling.TRAIN_TEST_OVERRIDES
images_sampled = sampling.train_test_images_sampled

CLASSIFIER_NAME = ("sklearn.multiclass.OneVsRestClassifier(sklearn."
                   "linear_model.LogisticRegression(solver='liblinear'))")


def modularity_per_code(mutual_info):
  """Modularity of each code dimension.

  Args:
    mutual_info: float [D, K], mutual information (nats) of code j and
      factor k; K >= 2.

  Returns:
    float64 np.ndarray [D] in [0, 1] (0 for a code with no information).

  Raises:
    ValueError: fewer than 2 factors (the deviation divides by K - 1).
  """
  mutual_info = np.asarray(mutual_info, np.float64)
  if mutual_info.ndim != 2 or mutual_info.shape[1] < 2:
    raise ValueError(
        "modularity needs a [num_codes, num_factors] mutual-information "
        f"matrix with at least 2 factors, got shape {mutual_info.shape}")
  squared = mutual_info**2
  theta = squared.max(axis=1)
  informed = theta > 0
  per_code = np.zeros(len(squared))
  # Codes without information score 0, as in disentanglement_lib (its
  # division by zero gives NaN, which it then overwrites with 0).
  per_code[informed] = 1.0 - (
      (squared[informed].sum(axis=1) - theta[informed]) /
      (theta[informed] * (squared.shape[1] - 1.0)))
  return per_code


def modularity(mutual_info):
  """Mean modularity over all code dimensions; float in [0, 1]."""
  return float(np.mean(modularity_per_code(mutual_info)))


def standardize(codes_train, codes_test):
  """Standardises codes with the training mean and standard deviation.

  disentanglement_lib divides by the (ddof=0) standard deviation as it is;
  a constant code dimension would give NaN there and make the classifier
  fail, so such a dimension is only centred here (it becomes all zeros).

  Args:
    codes_train: float [N, D].
    codes_test: float [M, D].

  Returns:
    float64 [N, D] and [M, D].
  """
  codes_train = np.asarray(codes_train, np.float64)
  codes_test = np.asarray(codes_test, np.float64)
  mean = codes_train.mean(axis=0)
  std = codes_train.std(axis=0)
  std = np.where(std > 0, std, 1.0)
  return (codes_train - mean) / std, (codes_test - mean) / std


def macro_roc_auc(labels, probabilities, classes):
  """One-vs-rest ROC-AUC averaged over classes.

  Args:
    labels: int [N], true classes.
    probabilities: float [N, C], the classifier's score of each class.
    classes: [C], the class of each column.

  Returns:
    float: mean over the classes that occur in ``labels`` (and not in every
    row) of the ROC-AUC of ``labels == class`` against the class's column.
    disentanglement_lib's ``roc_auc_score`` of the binarised labels is this
    mean when every class of the training set occurs in ``labels``.
  """
  from sklearn import metrics  # pylint: disable=g-import-not-at-top
  labels = np.asarray(labels)
  aucs = []
  for c, value in enumerate(classes):
    positive = labels == value
    # An AUC needs both positives and negatives.
    if 0 < positive.sum() < len(labels):
      aucs.append(metrics.roc_auc_score(positive, probabilities[:, c]))
  return float(np.mean(aucs)) if aucs else float("nan")


def explicitness_per_factor(codes_train, y_train, codes_test, y_test):
  """Train and test ROC-AUC of a logistic regression for one factor.

  Args:
    codes_train: float [N, D], standardised codes.
    y_train: int [N], the factor's values (at least 2 distinct).
    codes_test: float [M, D].
    y_test: int [M].

  Returns:
    (train AUC, test AUC), floats in [0, 1].
  """
  from sklearn import linear_model  # pylint: disable=g-import-not-at-top
  from sklearn import multiclass  # pylint: disable=g-import-not-at-top
  classifier = multiclass.OneVsRestClassifier(
      linear_model.LogisticRegression(solver="liblinear"))
  with warnings.catch_warnings():
    # liblinear's iteration limit: disentanglement_lib keeps the defaults.
    warnings.simplefilter("ignore")
    classifier.fit(codes_train, y_train)
  classes = classifier.classes_
  return (macro_roc_auc(y_train, classifier.predict_proba(codes_train),
                        classes),
          macro_roc_auc(y_test, classifier.predict_proba(codes_test),
                        classes))


def compute_modularity_explicitness_from_codes(codes_train, factors_train,
                                               codes_test, factors_test,
                                               num_bins=DEFAULTS["num_bins"]):
  """Pure core of modularity and explicitness.

  Args:
    codes_train: float [N, D], latent means.
    factors_train: int [N, K], factor indices, K >= 2.
    codes_test: float [M, D].
    factors_test: int [M, K].
    num_bins: int, histogram bins per code dimension (modularity).

  Returns:
    dict: ``score`` (= ``modularity_score``), ``modularity_score``,
    ``explicitness_score_train``, ``explicitness_score_test`` (mean AUCs),
    ``per_code_modularity`` [D], ``mutual_info`` [D][K] (nats),
    ``per_factor_explicitness_train`` / ``_test`` [K].

  Raises:
    ValueError: mismatched shapes, fewer than 2 factors, fewer than 2
      samples, or a factor with a single value in the training samples.
  """
  codes_train = np.asarray(codes_train, np.float64)
  codes_test = np.asarray(codes_test, np.float64)
  factors_train = np.asarray(factors_train)
  factors_test = np.asarray(factors_test)
  _check_inputs(codes_train, factors_train, codes_test, factors_test,
                num_bins)
  discrete = mig.histogram_discretize(codes_train, num_bins)
  mutual_info = mig.discrete_mutual_info(discrete, factors_train)
  per_code = modularity_per_code(mutual_info)
  train_norm, test_norm = standardize(codes_train, codes_test)
  num_factors = factors_train.shape[1]
  auc_train, auc_test = np.zeros(num_factors), np.zeros(num_factors)
  for k in range(num_factors):
    auc_train[k], auc_test[k] = explicitness_per_factor(
        train_norm, factors_train[:, k], test_norm, factors_test[:, k])
  modularity_score = float(np.mean(per_code))
  return {
      "score": modularity_score,
      "modularity_score": modularity_score,
      "explicitness_score_train": float(np.mean(auc_train)),
      "explicitness_score_test": float(np.mean(auc_test)),
      "per_code_modularity": per_code.tolist(),
      "mutual_info": mutual_info.tolist(),
      "per_factor_explicitness_train": auc_train.tolist(),
      "per_factor_explicitness_test": auc_test.tolist(),
  }


def _check_inputs(codes_train, factors_train, codes_test, factors_test,
                  num_bins):
  """Raises ValueError naming what is wrong with the core's inputs."""
  if codes_train.ndim != 2 or factors_train.ndim != 2 or (
      len(codes_train) != len(factors_train)):
    raise ValueError(
        "codes_train [N, D] and factors_train [N, K] must be matrices with "
        f"equally many rows, got {codes_train.shape} and "
        f"{factors_train.shape}")
  if codes_test.ndim != 2 or factors_test.ndim != 2 or (
      len(codes_test) != len(factors_test)) or (
          codes_test.shape[1] != codes_train.shape[1]) or (
              factors_test.shape[1] != factors_train.shape[1]):
    raise ValueError(
        "codes_test [M, D] and factors_test [M, K] must match the training "
        f"shapes {codes_train.shape} and {factors_train.shape}, got "
        f"{codes_test.shape} and {factors_test.shape}")
  if factors_train.shape[1] < 2:
    raise ValueError(
        "modularity needs a ground truth with at least 2 factors, got "
        f"{factors_train.shape[1]}")
  if len(codes_train) < 2 or len(codes_test) < 2:
    raise ValueError(
        "modularity_explicitness needs num_train >= 2 and num_test >= 2, got "
        f"{len(codes_train)} and {len(codes_test)}")
  if num_bins < 1:
    raise ValueError(f"num_bins must be >= 1, got {num_bins}")
  for k in range(factors_train.shape[1]):
    if len(np.unique(factors_train[:, k])) < 2:
      raise ValueError(
          f"factor {k} takes a single value in the {len(factors_train)} "
          "training samples: explicitness cannot fit a classifier for it "
          "(use more training samples)")


def compute_modularity_explicitness(ground_truth, representation_fn,
                                    random_state,
                                    num_train=DEFAULTS["num_train"],
                                    num_test=DEFAULTS["num_test"],
                                    num_bins=DEFAULTS["num_bins"],
                                    chunk_images=sampling.DEFAULT_CHUNK_IMAGES,
                                    prefetch=True):
  """Modularity and explicitness of a representation.

  Args:
    ground_truth: ground-truth object (see ``sampling``), >= 2 factors.
    representation_fn: callable images [N, H, W, C] -> codes [N, D].
    random_state: np.random.RandomState.
    num_train: int, training samples (disentanglement_lib: 10,000).
    num_test: int, test samples (5,000).
    num_bins: int, histogram bins (20).
    chunk_images: int, images rendered and encoded per call.
    prefetch: see ``sampling.map_chunks``.

  Returns:
    dict of ``compute_modularity_explicitness_from_codes`` plus
    ``parameters``.

  Raises:
    ValueError: sizes too small or fewer than 2 factors.
  """
  if num_train < 2 or num_test < 2:
    raise ValueError(
        "modularity_explicitness needs num_train >= 2 and num_test >= 2, got "
        f"{num_train} and {num_test}")
  if ground_truth.num_factors < 2:
    raise ValueError(
        "modularity needs a ground truth with at least 2 factors, got "
        f"{ground_truth.num_factors}")
  logging.info("Modularity/explicitness: sampling %d train and %d test "
               "points.", num_train, num_test)
  codes_train, factors_train, codes_test, factors_test = (
      sampling.sample_train_and_test(ground_truth, representation_fn, num_train,
                                     num_test, random_state, chunk_images,
                                     prefetch))
  result = compute_modularity_explicitness_from_codes(
      codes_train, factors_train, codes_test, factors_test, num_bins)
  result["parameters"] = {
      "num_train": int(num_train), "num_test": int(num_test),
      "num_bins": int(num_bins), "discretizer": "histogram",
      "classifier": CLASSIFIER_NAME}
  return result
