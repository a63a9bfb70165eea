"""Reduced downstream classification task, as disentanglement_lib defines it.

How much information about the factors leaks out of the code dimensions
that hold a factor?  For every training-set size in ``num_train`` a fresh
training set and then a fresh test set (``num_test`` points) are sampled, as
in ``downstream_task``.  Then, for every factor f ("factor of interest"):

1. ``num_factors_to_remove`` (default 1) times, gradient-boosted trees
   (scikit-learn's ``GradientBoostingClassifier()`` defaults, ``gbt.py``)
   are fitted on the training codes to predict f, and the code dimension with
   the largest ``|feature_importances_|`` (DCI's importance, column f;
   ties go to the lowest index) is deleted from both sets; the importances
   are refitted on the reduced codes before each further deletion;
2. one classifier per factor (``predictor``) is fitted on the reduced
   training codes and scored (accuracy, fraction in [0, 1]) on the training
   and the test set, for every factor including f.

For a disentangled representation, removing f's dimension brings f's
accuracy down to chance and leaves the other factors' accuracy intact.

Result keys, per size ``s`` and factor of interest ``f``:
``"s:reduced_factor_f:mean_train_accuracy_reduced_factor"`` and
``..._test_...`` (the accuracy of f itself),
``"s:reduced_factor_f:mean_train_accuracy_factor_i"`` and ``..._test_...``
for every factor i (one accuracy each, despite "mean"),
``"s:reduced_factor_f:mean_train_accuracy_non_reduced_factor"`` and
``..._test_...`` (mean over i != f); per size,
``"s:mean_train_accuracy_reduced_factor"``,
``"s:mean_test_accuracy_reduced_factor"`` (means over f),
``"s:mean_train_accuracy_other_factors"`` and
``"s:mean_test_accuracy_other_factors"`` (means over f of the non-reduced
means).  ``score`` is ``"s:mean_test_accuracy_other_factors"`` at the largest
size (higher is better: the other factors survive the removal).
"""

from absl import logging
import numpy as np

from tf_betavae.metrics import downstream_task
from tf_betavae.metrics import predictors
from tf_betavae.metrics import sampling

DEFAULTS = {"num_train": (10, 100, 1000, 10000), "num_test": 5000,
            "num_factors_to_remove": 1,
            "predictor": "gradient_boosting_classifier"}

# run_metric's ``num_train`` / ``num_eval`` overrides -> the sizes they set.
SIZE_OVERRIDES = sampling.TRAIN_TEST_OVERRIDES
images_sampled = downstream_task.images_sampled


def most_important_code(codes_train, factor_train):
  """The code dimension with the largest GBT importance for one factor.

  Args:
    codes_train: float [N, D].
    factor_train: int [N], one factor's indices.

  Returns:
    int in [0, D): argmax of ``|feature_importances_|`` of gradient-boosted
    trees fitted to predict the factor (the first on ties, all-zero
    importances included).
  """
  model = predictors.make_predictor("gradient_boosting_classifier")
  model.fit(codes_train, factor_train)
  return int(np.argmax(np.abs(model.feature_importances_)))


def reduce_codes(codes_train, codes_test, factor_train,
                 num_factors_to_remove):
  """Deletes the code dimensions most informative of one factor.

  Args:
    codes_train: float [N, D].
    codes_test: float [M, D].
    factor_train: int [N], the factor's indices on the training points.
    num_factors_to_remove: int r in [0, D), dimensions to delete one by one
      (the importances are refitted after each deletion).

  Returns:
    reduced_train float64 [N, D - r], reduced_test float64 [M, D - r] and
    removed: list of r original dimension indices, in deletion order.
  """
  reduced_train = np.asarray(codes_train, np.float64)
  reduced_test = np.asarray(codes_test, np.float64)
  remaining = list(range(reduced_train.shape[1]))
  removed = []
  for _ in range(num_factors_to_remove):
    j = most_important_code(reduced_train, factor_train)
    reduced_train = np.delete(reduced_train, j, axis=1)
    reduced_test = np.delete(reduced_test, j, axis=1)
    removed.append(remaining.pop(j))
  return reduced_train, reduced_test, removed


def _check_num_to_remove(num_factors_to_remove, num_codes):
  if (isinstance(num_factors_to_remove, (bool, np.bool_)) or
      not isinstance(num_factors_to_remove, (int, np.integer)) or
      num_factors_to_remove < 0):
    raise ValueError(f"num_factors_to_remove must be a non-negative integer, "
                     f"got {num_factors_to_remove!r}")
  if num_codes is not None and num_factors_to_remove >= num_codes:
    raise ValueError(
        f"num_factors_to_remove ({num_factors_to_remove}) must be smaller "
        f"than the code dimensions ({num_codes}): at least one dimension "
        f"must remain to predict from")


def compute_reduced_downstream_task_from_codes(
    codes_train, factors_train, codes_test, factors_test,
    num_factors_to_remove=DEFAULTS["num_factors_to_remove"],
    predictor=DEFAULTS["predictor"], random_state=None):
  """Pure core of the reduced downstream task for one training-set size.

  Args:
    codes_train: float [N, D], latent means.
    factors_train: int [N, K], factor indices (K >= 2).
    codes_test: float [M, D].
    factors_test: int [M, K].
    num_factors_to_remove: int in [0, D), dimensions deleted per factor.
    predictor: a name of ``predictors.PREDICTORS``, the classifier scored
      on the reduced codes.
    random_state: handed to the predictor (not drawn from).

  Returns:
    dict: the result keys of size N (see the module docstring) and
    ``removed_codes``: [K] lists of the original code dimensions deleted for
    each factor of interest, in deletion order.

  Raises:
    ValueError: invalid sizes, fewer than 2 factors, or a factor with a
      single value in the training set.
  """
  predictors.check_predictor(predictor)
  codes_train = np.asarray(codes_train, np.float64)
  codes_test = np.asarray(codes_test, np.float64)
  factors_train = np.asarray(factors_train)
  factors_test = np.asarray(factors_test)
  num_factors = factors_train.shape[1]
  if num_factors < 2:
    raise ValueError(f"the reduced downstream task needs at least 2 factors "
                     f"(it scores the factors not reduced), got {num_factors}")
  _check_num_to_remove(num_factors_to_remove, codes_train.shape[1])
  downstream_task.check_trainable(factors_train)
  s = str(len(codes_train))
  scores = {}
  reduced_train_acc, reduced_test_acc = [], []
  other_train_acc, other_test_acc = [], []
  removed_codes = []
  for f in range(num_factors):
    reduced_train, reduced_test, removed = reduce_codes(
        codes_train, codes_test, factors_train[:, f], num_factors_to_remove)
    removed_codes.append(removed)
    train_acc, test_acc = downstream_task.factor_accuracies(
        reduced_train, factors_train, reduced_test, factors_test, predictor,
        random_state)
    prefix = f"{s}:reduced_factor_{f}:"
    scores[prefix + "mean_train_accuracy_reduced_factor"] = float(train_acc[f])
    scores[prefix + "mean_test_accuracy_reduced_factor"] = float(test_acc[f])
    for i in range(num_factors):
      scores[prefix + f"mean_train_accuracy_factor_{i}"] = float(train_acc[i])
      scores[prefix + f"mean_test_accuracy_factor_{i}"] = float(test_acc[i])
    others = np.arange(num_factors) != f
    scores[prefix + "mean_train_accuracy_non_reduced_factor"] = float(
        np.mean(train_acc[others]))
    scores[prefix + "mean_test_accuracy_non_reduced_factor"] = float(
        np.mean(test_acc[others]))
    reduced_train_acc.append(train_acc[f])
    reduced_test_acc.append(test_acc[f])
    other_train_acc.append(np.mean(train_acc[others]))
    other_test_acc.append(np.mean(test_acc[others]))
  scores[f"{s}:mean_train_accuracy_reduced_factor"] = float(
      np.mean(reduced_train_acc))
  scores[f"{s}:mean_test_accuracy_reduced_factor"] = float(
      np.mean(reduced_test_acc))
  scores[f"{s}:mean_train_accuracy_other_factors"] = float(
      np.mean(other_train_acc))
  scores[f"{s}:mean_test_accuracy_other_factors"] = float(
      np.mean(other_test_acc))
  scores["removed_codes"] = removed_codes
  return scores


def compute_reduced_downstream_task(
    ground_truth, representation_fn, random_state,
    num_train=DEFAULTS["num_train"], num_test=DEFAULTS["num_test"],
    num_factors_to_remove=DEFAULTS["num_factors_to_remove"],
    predictor=DEFAULTS["predictor"],
    chunk_images=sampling.DEFAULT_CHUNK_IMAGES, prefetch=True):
  """Reduced downstream task of a representation.

  Args:
    ground_truth: ground-truth object (see ``sampling``), at least 2 factors.
    representation_fn: callable images [N, H, W, C] -> codes [N, D].
    random_state: np.random.RandomState; drawn from only to sample points.
    num_train: int or sequence of int, training-set sizes; each gets a
      freshly sampled training and test set.
    num_test: int, test points per size.
    num_factors_to_remove: int, code dimensions deleted per factor
      (disentanglement_lib's test config: 1).
    predictor: "gradient_boosting_classifier" (default, disentanglement_lib's
      config) or "logistic_regression_cv".
    chunk_images: int, images rendered and encoded per call.
    prefetch: see ``sampling.map_chunks``.

  Returns:
    dict: ``score`` (``"s:mean_test_accuracy_other_factors"`` at the largest
    size s), the result keys of every size, ``removed_codes`` ({str(size):
    [K] lists of deleted code dimensions}) and ``parameters``.

  Raises:
    ValueError: invalid sizes or predictor.
  """
  sizes = downstream_task.train_sizes(num_train)
  num_test = downstream_task.check_num_test(num_test)
  predictors.check_predictor(predictor)
  downstream_task.check_predictor_sizes(predictor, sizes)
  _check_num_to_remove(num_factors_to_remove, None)
  if ground_truth.num_factors < 2:
    raise ValueError(f"the reduced downstream task needs at least 2 factors, "
                     f"got {ground_truth.num_factors}")
  result = {}
  removed_codes = {}
  for size in sizes:
    logging.info("Reduced downstream task: sampling %d train and %d test "
                 "points.", size, num_test)
    codes_train, factors_train, codes_test, factors_test = (
        sampling.sample_train_and_test(ground_truth, representation_fn, size,
                                       num_test, random_state, chunk_images,
                                       prefetch))
    scores = compute_reduced_downstream_task_from_codes(
        codes_train, factors_train, codes_test, factors_test,
        num_factors_to_remove, predictor)
    removed_codes[str(size)] = scores.pop("removed_codes")
    result.update(scores)
  result["score"] = result[f"{max(sizes)}:mean_test_accuracy_other_factors"]
  result["removed_codes"] = removed_codes
  result["parameters"] = {
      "num_train": list(sizes), "num_test": num_test,
      "num_factors_to_remove": int(num_factors_to_remove),
      "predictor": predictor,
      "classifier": predictors.PREDICTOR_NAMES[predictor],
      "importance": predictors.PREDICTOR_NAMES[
          "gradient_boosting_classifier"]}
  return result
