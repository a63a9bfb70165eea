"""Downstream classification task, as disentanglement_lib defines it.

For every training-set size in ``num_train`` (default 10, 100, 1,000 and
10,000) a fresh training set of that many i.i.d. points and a fresh test set
of ``num_test`` (5,000) points are sampled, in that order.  For every factor
one classifier (``predictors.py``: logistic regression with 5-fold
cross-validated regularisation, or gradient-boosted trees) is fitted to
predict the factor index from the whole code on the training set; its
accuracy (fraction in [0, 1]) on the training and on the test set is
reported per factor, with the mean and the minimum over factors.

Result keys, per size ``s`` (written as the integer, e.g. ``"100"``):
``"s:mean_train_accuracy"``, ``"s:mean_test_accuracy"``,
``"s:min_train_accuracy"``, ``"s:min_test_accuracy"``, and for factor ``i``
``"s:train_accuracy_factor_i"``, ``"s:test_accuracy_factor_i"``.  ``score``
is the mean test accuracy at the largest size.
"""

from absl import logging
import numpy as np

from tf_betavae.metrics import predictors
from tf_betavae.metrics import sampling

DEFAULTS = {"num_train": (10, 100, 1000, 10000), "num_test": 5000,
            "predictor": "logistic_regression_cv"}

# run_metric's ``num_train`` / ``num_eval`` overrides -> the sizes they set.
# An integer ``num_train`` override is one training-set size.
SIZE_OVERRIDES = sampling.TRAIN_TEST_OVERRIDES


def train_sizes(num_train):
  """The training-set sizes as a tuple of positive ints.

  Args:
    num_train: int or sequence of ints.

  Returns:
    tuple of int, in the given order.

  Raises:
    ValueError: empty, or a size that is not a positive integer.
  """
  sizes = (num_train,) if np.ndim(num_train) == 0 else tuple(num_train)
  if not sizes:
    raise ValueError("num_train must name at least one training-set size")
  for size in sizes:
    if (isinstance(size, (bool, np.bool_)) or
        not isinstance(size, (int, np.integer)) or size < 1):
      raise ValueError(
          f"num_train sizes must be positive integers, got {size!r}")
  if len(set(sizes)) != len(sizes):
    # The result keys are named by size: a repeated size would overwrite.
    raise ValueError(f"num_train sizes must be distinct, got {list(sizes)}")
  return tuple(int(s) for s in sizes)


def check_num_test(num_test):
  """Returns ``num_test`` as int; ValueError unless a positive integer."""
  if (isinstance(num_test, (bool, np.bool_)) or
      not isinstance(num_test, (int, np.integer)) or num_test < 1):
    raise ValueError(f"num_test must be a positive integer, got {num_test!r}")
  return int(num_test)


def images_sampled(sizes):
  """Images the metric renders and encodes at ``sizes`` (without a table).

  Args:
    sizes: dict with ``num_train`` (int or sequence) and ``num_test``.

  Returns:
    int: a training and a test set per training-set size.
  """
  return sum(n + sizes["num_test"] for n in train_sizes(sizes["num_train"]))


def check_trainable(factors_train, what="training"):
  """Raises ValueError if a factor takes a single value among the points.

  No classifier can be fitted to one class (disentanglement_lib would fail
  inside scikit-learn); this names the factor and the cure.

  Args:
    factors_train: int [N, K].
    what: the set's name for the message.
  """
  for k in range(factors_train.shape[1]):
    if len(np.unique(factors_train[:, k])) < 2:
      raise ValueError(
          f"factor {k} takes a single value in the {len(factors_train)} "
          f"{what} points; a classifier needs at least 2 classes (use more "
          f"training points or a factor with more values)")


def factor_accuracies(codes_train, factors_train, codes_test, factors_test,
                      predictor="logistic_regression_cv", random_state=None,
                      targets=None):
  """Accuracy of one classifier per factor, fitted on the training codes.

  Args:
    codes_train: float [N, D].
    factors_train: int [N, K], factor indices.
    codes_test: float [M, D].
    factors_test: int [M, K].
    predictor: a name of ``predictors.PREDICTORS``.
    random_state: handed to ``predictors.make_predictor`` (not drawn from).
    targets: factor indices to predict (default: all K).

  Returns:
    train_accuracy, test_accuracy: float64 np.ndarray [len(targets)], each
    the fraction of points whose factor the classifier predicts exactly.
  """
  codes_train = np.asarray(codes_train, np.float64)
  codes_test = np.asarray(codes_test, np.float64)
  factors_train = np.asarray(factors_train)
  factors_test = np.asarray(factors_test)
  targets = range(factors_train.shape[1]) if targets is None else targets
  train_acc, test_acc = [], []
  for k in targets:
    model = predictors.make_predictor(predictor, random_state)
    model.fit(codes_train, factors_train[:, k])
    train_acc.append(np.mean(model.predict(codes_train) == factors_train[:, k]))
    test_acc.append(np.mean(model.predict(codes_test) == factors_test[:, k]))
  return np.asarray(train_acc, np.float64), np.asarray(test_acc, np.float64)


def size_scores(size, train_accuracy, test_accuracy):
  """disentanglement_lib's result keys of one training-set size.

  Args:
    size: int, the training-set size.
    train_accuracy: float [K], per-factor training accuracy.
    test_accuracy: float [K], per-factor test accuracy.

  Returns:
    dict of str -> float (see the module docstring for the keys).
  """
  s = str(size)
  scores = {
      f"{s}:mean_train_accuracy": float(np.mean(train_accuracy)),
      f"{s}:mean_test_accuracy": float(np.mean(test_accuracy)),
      f"{s}:min_train_accuracy": float(np.min(train_accuracy)),
      f"{s}:min_test_accuracy": float(np.min(test_accuracy)),
  }
  for i, (tr, te) in enumerate(zip(train_accuracy, test_accuracy)):
    scores[f"{s}:train_accuracy_factor_{i}"] = float(tr)
    scores[f"{s}:test_accuracy_factor_{i}"] = float(te)
  return scores


def compute_downstream_task_from_codes(codes_train, factors_train, codes_test,
                                       factors_test,
                                       predictor=DEFAULTS["predictor"],
                                       random_state=None):
  """Pure core of the downstream task for one training-set size.

  Args:
    codes_train: float [N, D], latent means.
    factors_train: int [N, K], factor indices.
    codes_test: float [M, D].
    factors_test: int [M, K].
    predictor: a name of ``predictors.PREDICTORS``.
    random_state: handed to the predictor (not drawn from).

  Returns:
    dict: ``size_scores(N, ...)``'s keys.

  Raises:
    ValueError: unknown predictor, mismatched shapes, or a factor with a
      single value in the training set.
  """
  predictors.check_predictor(predictor)
  factors_train = np.asarray(factors_train)
  factors_test = np.asarray(factors_test)
  if (len(codes_train) != len(factors_train) or
      len(codes_test) != len(factors_test) or
      factors_train.shape[1] != factors_test.shape[1]):
    raise ValueError(
        f"codes and factors disagree: train {np.shape(codes_train)} vs "
        f"{factors_train.shape}, test {np.shape(codes_test)} vs "
        f"{factors_test.shape}")
  check_trainable(factors_train)
  train_acc, test_acc = factor_accuracies(codes_train, factors_train,
                                          codes_test, factors_test, predictor,
                                          random_state)
  return size_scores(len(codes_train), train_acc, test_acc)


def check_predictor_sizes(predictor, sizes):
  """ValueError if ``predictor`` cannot be fitted on the smallest size."""
  if (predictor == "logistic_regression_cv" and
      min(sizes) < predictors.NUM_FOLDS):
    raise ValueError(
        f"num_train sizes must be at least {predictors.NUM_FOLDS} for "
        f"logistic_regression_cv's {predictors.NUM_FOLDS}-fold "
        f"cross-validation, got {list(sizes)}")


def compute_downstream_task(ground_truth, representation_fn, random_state,
                            num_train=DEFAULTS["num_train"],
                            num_test=DEFAULTS["num_test"],
                            predictor=DEFAULTS["predictor"],
                            chunk_images=sampling.DEFAULT_CHUNK_IMAGES,
                            prefetch=True):
  """Downstream classification accuracy of a representation.

  Args:
    ground_truth: ground-truth object (see ``sampling``).
    representation_fn: callable images [N, H, W, C] -> codes [N, D].
    random_state: np.random.RandomState; drawn from only to sample points.
    num_train: int or sequence of int, training-set sizes (disentanglement_lib:
      10, 100, 1,000, 10,000); each gets its own freshly sampled training and
      test set.
    num_test: int, test points per size (5,000).
    predictor: "logistic_regression_cv" (default) or
      "gradient_boosting_classifier" (disentanglement_lib's two configs).
    chunk_images: int, images rendered and encoded per call.
    prefetch: see ``sampling.map_chunks``.

  Returns:
    dict: ``score`` (mean test accuracy at the largest training size), the
    keys of ``size_scores`` for every size, and ``parameters``.

  Raises:
    ValueError: invalid sizes or predictor (before anything is sampled).
  """
  sizes = train_sizes(num_train)
  num_test = check_num_test(num_test)
  predictors.check_predictor(predictor)
  check_predictor_sizes(predictor, sizes)
  result = {}
  for size in sizes:
    # disentanglement_lib samples a new training set and then a new test set
    # for every size, from the one random state.
    logging.info("Downstream task: sampling %d train and %d test points.",
                 size, num_test)
    codes_train, factors_train, codes_test, factors_test = (
        sampling.sample_train_and_test(ground_truth, representation_fn, size,
                                       num_test, random_state, chunk_images,
                                       prefetch))
    result.update(compute_downstream_task_from_codes(
        codes_train, factors_train, codes_test, factors_test, predictor))
  result["score"] = result[f"{max(sizes)}:mean_test_accuracy"]
  result["parameters"] = {"num_train": list(sizes), "num_test": num_test,
                          "predictor": predictor,
                          "classifier": predictors.PREDICTOR_NAMES[predictor]}
  return result
