"""The split search of tf_betavae.metrics.gbt against a plain loop."""

import numpy as np
import pytest

from tf_betavae.metrics import gbt


def _reference(values_by_sample, local, residual, width):
  """Best gain and threshold of each (tree, node slot), one split at a time.

  Args:
    values_by_sample: float64 [N], the feature.
    local: int [T, N], node slot of each sample (``width``: not growing).
    residual: float64 [T, N].
    width: int, node slots of the level.

  Returns:
    gain, threshold: float64 [T, width + 1] (-inf and 0 without a split).
  """
  num_trees = residual.shape[0]
  gain = np.full((num_trees, width + 1), -np.inf)
  threshold = np.zeros((num_trees, width + 1))
  for t in range(num_trees):
    for slot in range(width):
      members = np.flatnonzero(local[t] == slot)
      members = members[np.argsort(values_by_sample[members], kind="stable")]
      values, res = values_by_sample[members], residual[t, members]
      for i in range(len(members) - 1):
        if values[i + 1] <= values[i] + gbt.FEATURE_THRESHOLD:
          continue
        left, right = res[:i + 1], res[i + 1:]
        candidate = (left.sum() ** 2 / len(left)
                     + right.sum() ** 2 / len(right))
        if candidate > gain[t, slot] * (1 + 1e-12):
          gain[t, slot] = candidate
          threshold[t, slot] = values[i] / 2 + values[i + 1] / 2
  return gain, threshold


def _node_totals(local, residual, width):
  num_trees = residual.shape[0]
  flat = (np.arange(num_trees)[:, None] * (width + 1) + local).ravel()
  size = num_trees * (width + 1)
  counts = np.bincount(flat, minlength=size).reshape(num_trees, -1)
  sums = np.bincount(flat, residual.ravel(), size).reshape(num_trees, -1)
  return sums, counts.astype(np.float64)


@pytest.mark.parametrize("width, seed", [(1, 0), (2, 1), (4, 2), (4, 3)])
def test_best_split_of_every_node_matches_a_plain_loop(width, seed):
  rs = np.random.RandomState(seed)
  num_trees, n = 3, 60
  # Repeated and near-equal values: splits between them are not allowed.
  feature = np.round(rs.randn(n), 1)
  feature[:5] = feature[5] + 1e-8
  residual = rs.randn(num_trees, n)
  local = rs.randint(0, width + 1, size=(num_trees, n))
  if width == 1:
    local[:] = 0  # the root: every sample grows
  local[0, local[0] == 0] = width  # tree 0's first node holds nothing
  order = np.argsort(feature, kind="stable")
  sums, counts = _node_totals(local, residual, width)
  model = gbt.GradientBoostedTrees()
  gain, threshold = model._best_split_of_feature(  # pylint: disable=protected-access
      order, feature[order], local, residual, sums, counts, width)
  expected_gain, expected_threshold = _reference(feature, local, residual,
                                                 width)
  np.testing.assert_array_equal(np.isfinite(gain),
                                np.isfinite(expected_gain))
  finite = np.isfinite(gain)
  np.testing.assert_allclose(gain[finite], expected_gain[finite], rtol=1e-9)
  np.testing.assert_array_equal(threshold, expected_threshold)
  assert not np.isfinite(gain[:, width]).any()  # the non-growing slot


def test_a_node_of_equal_values_has_no_split():
  residual = np.array([[1.0, -1.0, 2.0, 0.5]])
  feature = np.array([3.0, 3.0, 3.0 + 1e-8, 3.0])
  order = np.argsort(feature, kind="stable")
  local = np.zeros((1, 4), np.int64)
  sums, counts = _node_totals(local, residual, 1)
  gain, threshold = gbt.GradientBoostedTrees()._best_split_of_feature(  # pylint: disable=protected-access
      order, feature[order], local, residual, sums, counts, 1)
  assert np.all(gain == -np.inf) and np.all(threshold == 0)
