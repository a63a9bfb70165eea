"""Gradient-boosted trees for DCI, vectorised over the trees of a stage.

DCI in disentanglement_lib fits ``sklearn.ensemble.GradientBoostingClassifier()``
with its defaults to each factor.  With 10,000 samples that is 100 stages x
(one regression tree per class) -- 11,300 depth-3 trees for dSprites'
3 + 6 + 40 + 32 + 32 classes -- and scikit-learn builds each tree alone,
sorting every node's samples again (timings: benchmarks/README.md).

``GradientBoostedTrees`` fits the same model: the log-loss (multinomial for
more than two classes, binomial for two) gradient boosting of scikit-learn's
defaults -- ``n_estimators=100``, ``learning_rate=0.1``, ``max_depth=3``,
``min_samples_split=2``, ``min_samples_leaf=1``, ``subsample=1.0``, all
features considered at every split, squared-error regression trees on the
negative gradient, the prior as initial prediction (symmetric multinomial
logit / logit), one Newton step per leaf (times (K - 1) / K for K > 2
classes, as scikit-learn keeps it), float32 features, split thresholds
halfway between neighbouring values more than 1e-7 apart, and impurity-based
feature importances averaged over the trees that split at all.  The
difference is the computation: every feature is sorted once, and the K trees
of a stage grow together, level by level, as array operations.

The result equals scikit-learn's up to floating-point rounding of the sums
and up to the choice between candidate splits of exactly equal quality,
which scikit-learn makes by a random feature order (disentanglement_lib
does not even seed it).  tests/metrics/test_gbt.py compares the two.
"""

import numpy as np

FEATURE_THRESHOLD = 1e-7  # values closer than this are not split apart
EPSILON = np.finfo(np.float64).eps  # a node with impurity <= this is a leaf


class GradientBoostedTrees:
  """Gradient-boosted regression trees for classification.

  Attributes after ``fit``:
    classes_: np.ndarray [K], the sorted class labels.
    feature_importances_: float64 np.ndarray [F], summing to 1 (zeros when
      no tree split).
  """

  def __init__(self, n_estimators=100, learning_rate=0.1, max_depth=3,
               chunk_elements=32768):
    self.chunk_elements = chunk_elements
    self.n_estimators = n_estimators
    self.learning_rate = learning_rate
    self.max_depth = max_depth

  # -- fitting ---------------------------------------------------------------

  def fit(self, x, y):
    """Fits the model.

    Args:
      x: float array [N, F] (cast to float32 like scikit-learn).
      y: array [N] of class labels (at least 2 classes).

    Returns:
      self.
    """
    x = np.asarray(x, np.float32)
    self.classes_, y_index = np.unique(np.asarray(y), return_inverse=True)
    num_classes = len(self.classes_)
    if num_classes < 2:
      raise ValueError("GradientBoostedTrees needs at least 2 classes, got "
                       f"{num_classes}")
    n, num_features = x.shape
    self._num_trees = 1 if num_classes == 2 else num_classes
    self._num_features = num_features
    targets = (y_index == 1)[None, :] if num_classes == 2 else (
        y_index[None, :] == np.arange(num_classes)[:, None])
    targets = targets.astype(np.float64)  # [T, N]
    self._init = self._initial_raw(np.bincount(y_index, minlength=num_classes)
                                   / n)
    raw = np.repeat(self._init[:, None], n, axis=1)  # [T, N]
    x64 = x.astype(np.float64)
    order = np.argsort(x, axis=0, kind="stable").T  # [F, N]
    sorted_values = np.take_along_axis(x64.T, order, axis=1)  # [F, N]
    self._stages = []
    importances = np.zeros((0, num_features))
    for _ in range(self.n_estimators):
      residual = targets - self._probabilities(raw)  # negative gradient
      tree = self._grow_in_chunks(x64, order, sorted_values, residual)
      leaf_values = self._leaf_values(tree, residual, targets)
      tree["value"] = leaf_values
      raw += self.learning_rate * np.take_along_axis(
          leaf_values, tree["leaf_of_sample"], axis=1)
      del tree["leaf_of_sample"]
      self._stages.append(tree)
      splits = tree["feature"][:, 1] >= 0  # trees whose root splits
      importances = np.concatenate([importances, tree["importance"][splits]])
    self.train_raw_ = raw
    if len(importances):
      mean = importances.mean(axis=0)
      self.feature_importances_ = mean / mean.sum()
    else:
      self.feature_importances_ = np.zeros(num_features)
    return self

  def _initial_raw(self, prior):
    prior = np.clip(prior, EPSILON, 1 - EPSILON)
    if len(prior) == 2:
      return np.array([np.log(prior[1] / (1 - prior[1]))])
    logs = np.log(prior)
    return logs - logs.mean()

  def _probabilities(self, raw):
    if self._num_trees == 1:
      return 1.0 / (1.0 + np.exp(-raw))
    shifted = np.exp(raw - raw.max(axis=0, keepdims=True))
    return shifted / shifted.sum(axis=0, keepdims=True)

  def _grow_in_chunks(self, x64, order, sorted_values, residual):
    """``_grow`` on groups of trees small enough to stay in the CPU cache."""
    num_trees, n = residual.shape
    chunk = max(1, self.chunk_elements // n)
    if chunk >= num_trees:
      return self._grow(x64, order, sorted_values, residual)
    parts = [self._grow(x64, order, sorted_values, residual[i:i + chunk])
             for i in range(0, num_trees, chunk)]
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}

  # One function on purpose: the level loop shares a dozen [T, nodes]
  # arrays whose indexing only reads correctly side by side.
  def _grow(self, x64, order, sorted_values, residual):
    """Grows the T trees of one stage on ``residual`` [T, N], level by level.

    Nodes use heap numbering: the root is 1, the children of h are 2h and
    2h + 1; a tree of depth d has nodes 1 .. 2^(d+1) - 1.

    Returns:
      dict: ``feature`` int [T, H] (-1: leaf or absent), ``threshold``
      float64 [T, H], ``leaf_of_sample`` int [T, N] (heap index of each
      sample's leaf), ``importance`` float64 [T, F] (impurity decrease per
      feature, divided by N, as scikit-learn's unnormalised importances).
    """
    num_trees, n = residual.shape
    heap_size = 2 ** (self.max_depth + 1)
    feature = np.full((num_trees, heap_size), -1, np.int64)
    threshold = np.zeros((num_trees, heap_size))
    importance = np.zeros((num_trees, self._num_features))
    node = np.ones((num_trees, n), np.int64)  # heap index of each sample
    active = np.ones((num_trees, n), bool)  # sample in a node still growing
    squared = residual * residual
    tree_rows = np.arange(num_trees)[:, None]
    for depth in range(self.max_depth):
      first = 2 ** depth  # heap indices of this level: first .. 2*first - 1
      width = first
      local = np.where(active, node - first, width)  # width: not growing
      slots = width + 1
      flat = (tree_rows * slots + local).ravel()
      counts = np.bincount(flat, minlength=num_trees * slots).reshape(
          num_trees, slots).astype(np.float64)
      sums = np.bincount(flat, residual.ravel(), num_trees * slots).reshape(
          num_trees, slots)
      sq_sums = np.bincount(flat, squared.ravel(), num_trees * slots).reshape(
          num_trees, slots)
      with np.errstate(invalid="ignore", divide="ignore"):
        impurity = sq_sums / counts - (sums / counts) ** 2
      can_split = (counts >= 2) & (impurity > EPSILON)
      can_split[:, width] = False
      best_gain = np.full((num_trees, slots), -np.inf)
      best_feature = np.full((num_trees, slots), -1, np.int64)
      best_threshold = np.zeros((num_trees, slots))
      for f in range(self._num_features):
        gain, thr = self._best_split_of_feature(
            order[f], sorted_values[f], local, residual, sums, counts, width)
        better = can_split & (gain > best_gain)
        best_gain = np.where(better, gain, best_gain)
        best_feature = np.where(better, f, best_feature)
        best_threshold = np.where(better, thr, best_threshold)
      splits = best_feature >= 0
      splits[:, width] = False
      t_index, slot = np.nonzero(splits)
      heap = first + slot
      feature[t_index, heap] = best_feature[t_index, slot]
      threshold[t_index, heap] = best_threshold[t_index, slot]
      # Move the samples of split nodes to their children.
      sample_slot = np.minimum(local, width)
      moving = active & splits[tree_rows, sample_slot]
      feat_of_sample = best_feature[tree_rows, sample_slot]
      thr_of_sample = best_threshold[tree_rows, sample_slot]
      values = x64[np.arange(n)[None, :], np.maximum(feat_of_sample, 0)]
      go_right = values > thr_of_sample
      node = np.where(moving, 2 * node + go_right, node)
      active = moving
      # Impurity decrease of each split from its children's statistics.
      child = np.where(moving, 2 * (node // 2 - first) + (node % 2), 2 * width)
      child_flat = (tree_rows * (2 * width + 1) + child).ravel()
      size = num_trees * (2 * width + 1)
      c_count = np.bincount(child_flat, minlength=size).reshape(
          num_trees, -1)[:, :2 * width].astype(np.float64)
      c_sum = np.bincount(child_flat, residual.ravel(), size).reshape(
          num_trees, -1)[:, :2 * width]
      c_sq = np.bincount(child_flat, squared.ravel(), size).reshape(
          num_trees, -1)[:, :2 * width]
      with np.errstate(invalid="ignore", divide="ignore"):
        c_weighted = np.where(c_count > 0, c_sq - c_sum ** 2 / c_count, 0.0)
      parent = counts[:, :width] * impurity[:, :width]
      decrease = (parent - c_weighted[:, 0::2] - c_weighted[:, 1::2]) / n
      np.add.at(importance, (t_index, best_feature[t_index, slot]),
                decrease[t_index, slot])
    return {"feature": feature, "threshold": threshold,
            "leaf_of_sample": node, "importance": importance}

  def _best_split_of_feature(self, order, values, local, residual, sums,
                             counts, width):
    """Best split of every growing node on one feature.

    All T trees are handled at once on flattened [T * N] arrays in which the
    samples of each (tree, node) form one contiguous run, sorted by the
    feature's value.

    Args:
      order: int [N], samples sorted by this feature.
      values: float64 [N], the feature's sorted values.
      local: int [T, N], each sample's node slot at this level (``width`` for
        samples not in a growing node).
      residual: float64 [T, N].
      sums, counts: float64 [T, width + 1], node totals.
      width: int, nodes of the level.

    Returns:
      gain [T, width + 1] (the proxy sum_l^2/n_l + sum_r^2/n_r of the best
      split; -inf where there is none) and threshold [T, width + 1].
    """
    num_trees, n = residual.shape
    flat_position, values_flat = _node_runs(order, values, local, width)
    runs = _Runs(counts, n)
    gain = _split_gains(residual, flat_position, values_flat, sums, runs,
                        width)
    best, position = _best_position_per_run(gain, runs)
    threshold = _midpoint_thresholds(values_flat, best, position)
    slots = width + 1
    return (best.reshape(num_trees, slots),
            threshold.reshape(num_trees, slots))

  def _leaf_values(self, tree, residual, targets):
    """One Newton step per leaf: [T, H] values by heap index."""
    num_trees, n = residual.shape
    heap_size = tree["feature"].shape[1]
    flat = (np.arange(num_trees)[:, None] * heap_size +
            tree["leaf_of_sample"]).ravel()
    size = num_trees * heap_size
    count = np.bincount(flat, minlength=size)
    numerator = np.bincount(flat, residual.ravel(), size)
    prob = targets - residual
    denominator = np.bincount(flat, (prob * (1 - prob)).ravel(), size)
    scale = 1.0 if num_trees == 1 else (num_trees - 1) / num_trees
    with np.errstate(invalid="ignore", divide="ignore"):
      value = np.where(np.abs(denominator / np.maximum(count, 1)) < 1e-150,
                       0.0, scale * numerator / denominator)
    value = np.where(count > 0, value, 0.0)
    return value.reshape(num_trees, heap_size)

  # -- prediction ------------------------------------------------------------

  def decision_function(self, x):
    """Raw predictions [N, T] (T = 1 for two classes)."""
    x = np.asarray(x, np.float32).astype(np.float64)
    n = len(x)
    raw = np.repeat(self._init[:, None], n, axis=1)
    samples = np.arange(n)[None, :]
    for tree in self._stages:
      feature, threshold = tree["feature"], tree["threshold"]
      rows = np.arange(feature.shape[0])[:, None]
      node = np.ones((feature.shape[0], n), np.int64)
      for _ in range(self.max_depth):
        f = feature[rows, node]
        inner = f >= 0
        right = x[samples, np.maximum(f, 0)] > threshold[rows, node]
        node = np.where(inner, 2 * node + right, node)
      raw += self.learning_rate * tree["value"][rows, node]
    return raw.T

  def predict(self, x):
    """Class labels [N]."""
    raw = self.decision_function(x)
    if raw.shape[1] == 1:
      return self.classes_[(raw[:, 0] > 0).astype(np.int64)]
    return self.classes_[np.argmax(raw, axis=1)]


# -- the split search of one feature, on flattened [T * N] runs --------------
# Position p of the flattened arrays is row p // N (a tree) and, within that
# row, the samples of each node slot in turn, sorted by the feature's value:
# one contiguous run per (tree, slot), the non-growing slot last.


def _node_runs(order, values, local, width):
  """Flattened sample positions and values, grouped by node, then sorted.

  Args:
    order: int [N], samples sorted by the feature.
    values: float64 [N], the feature's sorted values.
    local: int [T, N], each sample's node slot (``width``: not growing).
    width: int, nodes of the level.

  Returns:
    flat_position: int [T * N], index into ``residual.ravel()`` of each
      position; values_flat: float64 [T * N], the feature's value there.
  """
  num_trees, n = local.shape
  row_offset = (np.arange(num_trees) * n)[:, None]
  if width == 1 and np.all(local == 0):
    # The root of every tree: the feature order is the node order.
    flat_position = (order[None, :] + row_offset).ravel()
    return flat_position, np.tile(values, num_trees)
  # A stable sort of the node slots along the feature order keeps the
  # values sorted within each node (small integers: a radix sort).
  slot_in_order = np.take(local, order, axis=1).astype(np.int16)
  within = np.argsort(slot_in_order, axis=1, kind="stable")
  return (order[within] + row_offset).ravel(), values[within].ravel()


class _Runs:
  """Where each (tree, slot) run lies in the flattened [T * N] arrays.

  Attributes:
    count, start, end: int [T * (width + 1)], the run of (tree, slot) spans
      positions [start, end) and holds count samples.
    nonempty: bool [T * (width + 1)].
    n: int, samples per tree (row length).
  """

  def __init__(self, counts, n):
    row_offset = (np.arange(counts.shape[0]) * n)[:, None]
    self.n = n
    self.count = counts.ravel().astype(np.int64)
    self.end = (np.cumsum(counts, axis=1).astype(np.int64) +
                row_offset).ravel()
    self.start = self.end - self.count
    self.nonempty = self.count > 0

  def per_position(self, per_run):
    """[T * (width + 1)] values of the runs -> [T * N], one per position."""
    return np.repeat(per_run, self.count)


def _split_gains(residual, flat_position, values_flat, sums, runs, width):
  """Gain proxy of a split after every position: float64 [T * N].

  The gain is sum_l^2 / n_l + sum_r^2 / n_r of the residuals left and right
  of the split within the position's run; -inf where no split may follow
  (the run's last sample, the non-growing slot, or a next value within
  FEATURE_THRESHOLD of this one).
  """
  num_trees, n = residual.shape
  res_sorted = np.take(residual.ravel(), flat_position).reshape(num_trees, n)
  cum = np.cumsum(res_sorted, axis=1).ravel()
  # Sum of the residuals before each run within its row (cumsum is per row).
  prefix = np.where(runs.start % n > 0, cum[np.maximum(runs.start - 1, 0)],
                    0.0)
  index = np.arange(num_trees * n)
  s_left = cum - runs.per_position(prefix)
  n_left = (index - runs.per_position(runs.start) + 1).astype(np.float64)
  n_right = (runs.per_position(runs.end) - index - 1).astype(np.float64)
  s_right = runs.per_position(sums.ravel()) - s_left
  # The non-growing slot is the last run of each row.
  row_start = np.arange(num_trees) * n
  last_run = runs.start.reshape(num_trees, width + 1)[:, width] - row_start
  valid = (np.arange(n)[None, :] < last_run[:, None]).ravel()
  valid[:-1] &= values_flat[1:] > values_flat[:-1] + FEATURE_THRESHOLD
  valid &= n_right >= 1
  # In place: these [T * N] temporaries are the scan's largest arrays.
  with np.errstate(invalid="ignore", divide="ignore"):
    s_left *= s_left
    s_left /= n_left
    s_right *= s_right
    s_right /= n_right
    gain = s_left
    gain += s_right
  gain[~valid] = -np.inf
  return gain


def _best_position_per_run(gain, runs):
  """The best gain of each run and the first position that reaches it.

  Ties go to the lowest value, like scikit-learn's strict comparison in
  increasing order.

  Returns:
    best: float64 [T * (width + 1)], -inf for runs without a split;
    position: int [T * (width + 1)], the split follows this position
      (0 where there is none).
  """
  best = np.full(len(runs.count), -np.inf)
  starts = runs.start[runs.nonempty]
  best[runs.nonempty] = np.maximum.reduceat(gain, starts)
  beyond = len(gain)  # larger than every position
  candidate = np.where(gain == runs.per_position(best), np.arange(beyond),
                       beyond)
  first = np.full(len(runs.count), beyond)
  first[runs.nonempty] = np.minimum.reduceat(candidate, starts)
  return best, np.where(np.isfinite(best), first, 0)


def _midpoint_thresholds(values_flat, best, position):
  """Thresholds [T * (width + 1)] halfway between the value at ``position``
  and the next one; 0 for runs without a split (best = -inf)."""
  following = np.minimum(position + 1, len(values_flat) - 1)
  threshold = values_flat[position] / 2.0 + values_flat[following] / 2.0
  return np.where(np.isfinite(best), threshold, 0.0)
