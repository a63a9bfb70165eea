"""Unfairness of downstream classifiers (Locatello et al. 2019), dlib's way.

As disentanglement_lib defines it (section 4 of the paper).

For every factor i (the *target*) a gradient-boosted classifier with
``sklearn.ensemble.GradientBoostingClassifier()``'s default settings (our
vectorised equal, ``gbt.GradientBoostedTrees``) is fitted on the codes of
``num_train`` (default 10,000) i.i.d. samples to predict factor i.  For every
other factor j (the *sensitive* factor) ``num_test_points_per_class`` (100)
factor vectors are drawn once; for every value c of factor j a copy of them
with factor j set to c is rendered and encoded (an intervention), and the
classifier's predictions give a distribution P(pred | do(v_j = c)).  The
unfairness of (i, j) is the total variation distance between each of these
distributions and their pooled distribution, averaged over c
(``mean_fairness``, weighted by the points per value, which are all equal)
or maximised over c (``max_fairness``).  0 is fair; 1 the most unfair.

The K x K matrices (diagonal unused) are reported entry by entry and reduced
over the target (pred) and the sensitive (sens) factor by means and maxima,
under disentanglement_lib's keys, e.g. ``mean_fairness:pred0:sens1``,
``mean_fairness:pred0:mean_sens``, ``mean_fairness:sens1:max_pred`` and
``mean_fairness:mean_pred:mean_sens``.  ``score`` is
``mean_fairness:mean_pred:mean_sens``, the score of the paper's section 4
(the mean over all (target, sensitive) pairs).
"""

import itertools

from absl import logging
import numpy as np

from tf_betavae.metrics import gbt
from tf_betavae.metrics import sampling

DEFAULTS = {"num_train": 10000, "num_test_points_per_class": 100}

# run_metric's ``num_train`` / ``num_eval`` overrides -> the sizes they set
# (num_eval is the points drawn per (target, sensitive) pair, each encoded
# once per value of the sensitive factor).
SIZE_OVERRIDES = {"num_train": ("num_train",),
                  "num_eval": ("num_test_points_per_class",)}

# The image count depends on the ground truth's factor sizes; without them in
# ``sizes`` it is planned for dSprites (the default data set).
DSPRITES_FACTORS_NUM_VALUES = (3, 6, 40, 32, 32)

PREDICTOR_NAME = ("tf_betavae.metrics.gbt.GradientBoostedTrees (= sklearn "
                  "GradientBoostingClassifier defaults)")

SCORE_KEY = "mean_fairness:mean_pred:mean_sens"


def images_sampled(sizes):
  """Images the metric renders and encodes at ``sizes`` (without a table).

  Args:
    sizes: dict with ``num_train``, ``num_test_points_per_class`` and
      optionally ``factors_num_values`` (default dSprites').

  Returns:
    int: num_train + (K - 1) * num_test_points_per_class * sum of the
    factors' value counts.
  """
  counts = sizes.get("factors_num_values", DSPRITES_FACTORS_NUM_VALUES)
  return sizes["num_train"] + ((len(counts) - 1) *
                               sizes["num_test_points_per_class"] *
                               int(sum(counts)))


def inter_group_fairness(counts):
  """Mean and maximum total variation of each sensitive group to the pool.

  Args:
    counts: int [P, S], counts of predicted class p among the points with
      sensitive value s (every column non-empty).

  Returns:
    (mean, max): floats in [0, 1]; mean weights each column by its count.
  """
  counts = np.asarray(counts, np.float64)
  per_group = counts.sum(axis=0)
  pooled = counts.sum(axis=1) / per_group.sum()
  total_variation = 0.5 * np.abs(counts / per_group - pooled[:, None]).sum(
      axis=0)
  return (float(np.sum(total_variation * per_group) / per_group.sum()),
          float(np.max(total_variation)))


def scores_dict(matrix, prefix):
  """disentanglement_lib's flattening and reductions of a fairness matrix.

  Args:
    matrix: float [K, K], entry [i, j] for target i and sensitive j (the
      diagonal is ignored); K >= 2.
    prefix: str, e.g. "mean_fairness".

  Returns:
    dict of floats: ``{prefix}:pred{i}:sens{j}`` (i != j),
    ``{prefix}:pred{i}:mean_sens`` / ``:max_sens`` (row reductions),
    ``{prefix}:sens{j}:mean_pred`` / ``:max_pred`` (column reductions) and
    the 8 ``{prefix}:{mean|max}_{sens|pred}:{mean|max}_{pred|sens}``
    reductions of those (the outer name is applied to the row or column
    reductions of the inner one).
  """
  matrix = np.asarray(matrix, np.float64)
  k = matrix.shape[0]
  off = ~np.eye(k, dtype=bool)
  result = {}
  for i in range(k):
    for j in range(k):
      if i != j:
        result[f"{prefix}:pred{i}:sens{j}"] = float(matrix[i, j])
  rows = [matrix[i, off[i]] for i in range(k)]
  cols = [matrix[off[:, j], j] for j in range(k)]
  row_mean = np.array([r.mean() for r in rows])
  row_max = np.array([r.max() for r in rows])
  col_mean = np.array([c.mean() for c in cols])
  col_max = np.array([c.max() for c in cols])
  for i in range(k):
    result[f"{prefix}:pred{i}:mean_sens"] = float(row_mean[i])
    result[f"{prefix}:pred{i}:max_sens"] = float(row_max[i])
  for j in range(k):
    result[f"{prefix}:sens{j}:mean_pred"] = float(col_mean[j])
    result[f"{prefix}:sens{j}:max_pred"] = float(col_max[j])
  result[f"{prefix}:mean_sens:mean_pred"] = float(col_mean.mean())
  result[f"{prefix}:mean_sens:max_pred"] = float(col_max.mean())
  result[f"{prefix}:max_sens:mean_pred"] = float(col_mean.max())
  result[f"{prefix}:max_sens:max_pred"] = float(col_max.max())
  result[f"{prefix}:mean_pred:mean_sens"] = float(row_mean.mean())
  result[f"{prefix}:mean_pred:max_sens"] = float(row_max.mean())
  result[f"{prefix}:max_pred:mean_sens"] = float(row_mean.max())
  result[f"{prefix}:max_pred:max_sens"] = float(row_max.max())
  return result


def _check_factors(num_factors):
  if num_factors < 2:
    raise ValueError(
        "fairness needs a ground truth with at least 2 factors (a target and "
        f"a different sensitive factor), got {num_factors}")


def _check_sizes(num_train, num_test_points_per_class):
  if num_train < 2 or num_test_points_per_class < 1:
    raise ValueError(
        "fairness needs num_train >= 2 and num_test_points_per_class >= 1, "
        f"got {num_train} and {num_test_points_per_class}")


def compute_fairness_from_codes(codes_train, factors_train, intervened_codes,
                                factors_num_values, predictor_fn=None):
  """Pure core of the fairness metric.

  Args:
    codes_train: float [N, D], latent means of the training samples.
    factors_train: int [N, K], their factor indices, K >= 2.
    intervened_codes: {(i, j): float [factors_num_values[j], n, D]} for every
      target i != sensitive j: the codes of the pair's n points with factor
      j set to each of its values.
    factors_num_values: sequence of K ints, the values of each factor.
    predictor_fn: callable () -> unfitted classifier with ``fit(x, y)`` and
      ``predict(x)``; None for ``gbt.GradientBoostedTrees``.

  Returns:
    dict: ``score`` (= ``mean_fairness:mean_pred:mean_sens``), the keys of
    ``scores_dict`` for "mean_fairness" and "max_fairness", and the
    matrices ``mean_fairness_matrix`` / ``max_fairness_matrix`` [K][K]
    (diagonal 0).

  Raises:
    ValueError: fewer than 2 factors, mismatched shapes, or a target factor
      with a single value in the training samples.
  """
  codes_train = np.asarray(codes_train, np.float64)
  factors_train = np.asarray(factors_train)
  factors_num_values = [int(n) for n in factors_num_values]
  num_factors = len(factors_num_values)
  _check_factors(num_factors)
  if (codes_train.ndim != 2 or factors_train.ndim != 2 or
      len(codes_train) != len(factors_train) or
      factors_train.shape[1] != num_factors):
    raise ValueError(
        "codes_train [N, D] and factors_train [N, K] must be matrices with "
        f"equally many rows and K = {num_factors} factors, got "
        f"{codes_train.shape} and {factors_train.shape}")
  if predictor_fn is None:
    predictor_fn = gbt.GradientBoostedTrees
  mean_fairness = np.zeros((num_factors, num_factors))
  max_fairness = np.zeros((num_factors, num_factors))
  # All checks before the first (slow) fit.
  for i in range(num_factors):
    if len(np.unique(factors_train[:, i])) < 2:
      raise ValueError(
          f"factor {i} takes a single value in the {len(factors_train)} "
          "training samples: no classifier can be fitted to predict it (use "
          "more training samples)")
  for i, j in itertools.permutations(range(num_factors), 2):
    if (i, j) not in intervened_codes:
      raise ValueError(f"intervened_codes lacks the pair ({i}, {j}) "
                       "(target, sensitive)")
  for i in range(num_factors):
    logging.info("Fairness: fitting the classifier of factor %d of %d.",
                 i + 1, num_factors)
    model = predictor_fn()
    model.fit(codes_train, factors_train[:, i])
    for j in range(num_factors):
      if i == j:
        continue
      codes = np.asarray(intervened_codes[(i, j)], np.float64)
      if codes.ndim != 3 or codes.shape[0] != factors_num_values[j]:
        raise ValueError(
            f"intervened_codes[({i}, {j})] must be [{factors_num_values[j]}, "
            f"n, D], got shape {codes.shape}")
      predictions = np.asarray(model.predict(
          codes.reshape(-1, codes.shape[-1]))).reshape(codes.shape[:2])
      # counts[p, c]: points predicted p when factor j is set to c.
      counts = np.stack(
          [np.bincount(row.astype(np.int64), minlength=factors_num_values[i])
           for row in predictions], axis=1)
      mean_fairness[i, j], max_fairness[i, j] = inter_group_fairness(counts)
  result = {}
  result.update(scores_dict(mean_fairness, "mean_fairness"))
  result.update(scores_dict(max_fairness, "max_fairness"))
  result["score"] = result[SCORE_KEY]
  result["mean_fairness_matrix"] = mean_fairness.tolist()
  result["max_fairness_matrix"] = max_fairness.tolist()
  return result


def _intervened_factor_sets(ground_truth, num_points, random_state):
  """Yields ((i, j), factors [num_values[j] * num_points, K]) per pair.

  The points of a pair are drawn when the pair is reached (the random state
  is used in the order of disentanglement_lib: pairs row by row); the copies
  with factor j set to 0, 1, ... follow one another.
  """
  num_factors = ground_truth.num_factors
  for i in range(num_factors):
    for j in range(num_factors):
      if i == j:
        continue
      original = np.asarray(
          ground_truth.sample_factors(num_points, random_state), np.int64)
      copies = np.repeat(original[None], ground_truth.factors_num_values[j],
                         axis=0)
      copies[:, :, j] = np.arange(ground_truth.factors_num_values[j])[:, None]
      yield (i, j), copies.reshape(-1, num_factors)


def compute_fairness(ground_truth, representation_fn, random_state,
                     num_train=DEFAULTS["num_train"],
                     num_test_points_per_class=DEFAULTS[
                         "num_test_points_per_class"],
                     chunk_images=sampling.DEFAULT_CHUNK_IMAGES,
                     prefetch=True, predictor_fn=None):
  """Unfairness scores of classifiers on a representation.

  Args:
    ground_truth: ground-truth object (see ``sampling``) with >= 2 factors.
    representation_fn: callable images [N, H, W, C] -> codes [N, D].
    random_state: np.random.RandomState.
    num_train: int, training samples (disentanglement_lib: 10,000).
    num_test_points_per_class: int, points per (target, sensitive) pair,
      each encoded once per value of the sensitive factor (100).
    chunk_images: int, training images rendered and encoded per call (the
      intervened copies of one (target, sensitive) pair are one call).
    prefetch: see ``sampling.map_chunks``.
    predictor_fn: see ``compute_fairness_from_codes``.

  Returns:
    dict of ``compute_fairness_from_codes`` plus ``parameters``.

  Raises:
    ValueError: fewer than 2 factors or sizes too small.
  """
  _check_factors(ground_truth.num_factors)
  _check_sizes(num_train, num_test_points_per_class)
  counts = [int(n) for n in ground_truth.factors_num_values]
  logging.info("Fairness: sampling %d train points and %d intervened points.",
               num_train, images_sampled({
                   "num_train": 0, "factors_num_values": counts,
                   "num_test_points_per_class": num_test_points_per_class}))
  codes_train, factors_train = sampling.sample_codes_and_factors(
      ground_truth, representation_fn, num_train, random_state, chunk_images,
      prefetch)
  pairs = []

  def factor_sets():
    for pair, factors in _intervened_factor_sets(
        ground_truth, num_test_points_per_class, random_state):
      pairs.append(pair)
      yield factors

  intervened = {}
  encoded = sampling.map_chunks(
      ground_truth, representation_fn, factor_sets(), random_state, prefetch,
      total_images=images_sampled({
          "num_train": 0, "factors_num_values": counts,
          "num_test_points_per_class": num_test_points_per_class}),
      what="encoding intervened points for the fairness metric")
  for number, codes in enumerate(encoded):
    i, j = pairs[number]
    intervened[(i, j)] = codes.reshape(counts[j], num_test_points_per_class,
                                       -1)
  result = compute_fairness_from_codes(codes_train, factors_train, intervened,
                                       counts, predictor_fn)
  result["parameters"] = {
      "num_train": int(num_train),
      "num_test_points_per_class": int(num_test_points_per_class),
      "predictor": PREDICTOR_NAME if predictor_fn is None else repr(
          predictor_fn)}
  return result
