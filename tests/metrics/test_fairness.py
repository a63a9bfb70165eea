"""fairness: known answers, loop references of the core and its keys, bad
input."""

import itertools

import numpy as np
import pytest

from tf_betavae.metrics import fairness


def _run(gt, fn, seed=0, num_train=300, points=20, **kwargs):
  return fairness.compute_fairness(gt, fn, np.random.RandomState(seed),
                                   num_train=num_train,
                                   num_test_points_per_class=points, **kwargs)


# -- independent loop references ---------------------------------------------


def _reference_tv(counts):
  """(count-weighted mean, max) over columns of TV(column dist, pooled)."""
  rows, cols = len(counts), len(counts[0])
  total = sum(sum(r) for r in counts)
  pooled = [sum(counts[p]) / total for p in range(rows)]
  tvs, sizes = [], []
  for c in range(cols):
    size = sum(counts[p][c] for p in range(rows))
    tvs.append(sum(abs(counts[p][c] / size - pooled[p])
                   for p in range(rows)) / 2)
    sizes.append(size)
  return sum(t * s for t, s in zip(tvs, sizes)) / total, max(tvs)


def _reference_scores(m, prefix):
  k = len(m)
  out = {}
  row_mean, row_max, col_mean, col_max = [], [], [], []
  for i in range(k):
    vals = [m[i][j] for j in range(k) if j != i]
    row_mean.append(sum(vals) / len(vals))
    row_max.append(max(vals))
    out[f"{prefix}:pred{i}:mean_sens"] = row_mean[-1]
    out[f"{prefix}:pred{i}:max_sens"] = row_max[-1]
    for j in range(k):
      if j != i:
        out[f"{prefix}:pred{i}:sens{j}"] = m[i][j]
  for j in range(k):
    vals = [m[i][j] for i in range(k) if i != j]
    col_mean.append(sum(vals) / len(vals))
    col_max.append(max(vals))
    out[f"{prefix}:sens{j}:mean_pred"] = col_mean[-1]
    out[f"{prefix}:sens{j}:max_pred"] = col_max[-1]
  mean = lambda v: sum(v) / len(v)
  out.update({
      f"{prefix}:mean_sens:mean_pred": mean(col_mean),
      f"{prefix}:mean_sens:max_pred": mean(col_max),
      f"{prefix}:max_sens:mean_pred": max(col_mean),
      f"{prefix}:max_sens:max_pred": max(col_max),
      f"{prefix}:mean_pred:mean_sens": mean(row_mean),
      f"{prefix}:mean_pred:max_sens": mean(row_max),
      f"{prefix}:max_pred:mean_sens": max(row_mean),
      f"{prefix}:max_pred:max_sens": max(row_max),
  })
  return out


def test_inter_group_fairness_matches_loop_reference():
  rs = np.random.RandomState(0)
  for shape in [(2, 2), (3, 5), (6, 4)]:
    counts = rs.randint(0, 9, size=shape)
    counts[0] += 1  # no empty column
    mean, worst = fairness.inter_group_fairness(counts)
    ref_mean, ref_max = _reference_tv(counts.tolist())
    assert mean == pytest.approx(ref_mean, abs=1e-12)
    assert worst == pytest.approx(ref_max, abs=1e-12)
  # Identical columns are fair; disjoint predictions per group are not.
  assert fairness.inter_group_fairness([[5, 5], [3, 3]]) == (0.0, 0.0)
  assert fairness.inter_group_fairness([[4, 0], [0, 4]]) == (0.5, 0.5)


def test_scores_dict_matches_loop_reference():
  m = np.random.RandomState(1).rand(4, 4)
  ours = fairness.scores_dict(m, "mean_fairness")
  ref = _reference_scores(m.tolist(), "mean_fairness")
  assert set(ours) == set(ref)
  for key in ref:
    assert ours[key] == pytest.approx(ref[key], abs=1e-12), key


class _Threshold:
  """A deterministic classifier: predicts round(x[:, 0]) clipped to the
  training classes (independent of gbt.py)."""

  def fit(self, x, y):
    self.lo, self.hi = int(np.min(y)), int(np.max(y))
    return self

  def predict(self, x):
    return np.clip(np.rint(np.asarray(x)[:, 0]), self.lo, self.hi).astype(int)


def test_core_matches_loop_reference():
  rs = np.random.RandomState(2)
  num_values = [2, 3, 4]
  n = 7
  factors_train = np.stack([rs.randint(v, size=50) for v in num_values], 1)
  codes_train = rs.randn(50, 2)
  intervened = {(i, j): 1.5 * rs.randn(num_values[j], n, 2)
                for i, j in itertools.permutations(range(3), 2)}
  r = fairness.compute_fairness_from_codes(
      codes_train, factors_train, intervened, num_values,
      predictor_fn=_Threshold)
  mean_m = [[0.0] * 3 for _ in range(3)]
  max_m = [[0.0] * 3 for _ in range(3)]
  for (i, j), codes in intervened.items():
    counts = [[0] * num_values[j] for _ in range(num_values[i])]
    for c in range(num_values[j]):
      for point in range(n):
        p = int(min(max(round(codes[c, point, 0]), 0), num_values[i] - 1))
        counts[p][c] += 1
    mean_m[i][j], max_m[i][j] = _reference_tv(counts)
  ref = _reference_scores(mean_m, "mean_fairness")
  ref.update(_reference_scores(max_m, "max_fairness"))
  for key in ref:
    assert r[key] == pytest.approx(ref[key], abs=1e-12), key
  assert r["score"] == r["mean_fairness:mean_pred:mean_sens"]
  np.testing.assert_allclose(r["mean_fairness_matrix"], mean_m, atol=1e-12)


def test_result_keys(synthetic):
  gt = synthetic.FactorGroundTruth((2, 3, 2))
  r = _run(gt, synthetic.identity(gt), num_train=100, points=5)
  keys = set(_reference_scores(np.zeros((3, 3)).tolist(), "mean_fairness"))
  keys |= set(_reference_scores(np.zeros((3, 3)).tolist(), "max_fairness"))
  keys |= {"score", "mean_fairness_matrix", "max_fairness_matrix",
           "parameters"}
  assert set(r) == keys
  assert len(keys) == 2 * (6 + 6 + 6 + 8) + 4


def test_identity_is_fair(synthetic):
  # Each classifier reads its own factor's code; an intervention on another
  # factor leaves that code and so the predictions unchanged: TV is 0.
  gt = synthetic.FactorGroundTruth((2, 3, 4))
  r = _run(gt, synthetic.identity(gt))
  assert r["score"] == 0.0
  assert r["max_fairness:max_pred:max_sens"] == 0.0
  # Every intervened point was encoded once per sensitive value.
  assert sum(gt.render_calls) == fairness.images_sampled({
      "num_train": 300, "num_test_points_per_class": 20,
      "factors_num_values": (2, 3, 4)})


def test_code_mixing_target_and_sensitive_is_unfair(synthetic):
  # The code is f0 + f1 (both two-valued).  The classifier of f0 predicts 0
  # from code 0, 1 from code 2 and one class, say 0, from the ambiguous 1.
  # do(f1 = 0): codes 0, 1 -> all 0; do(f1 = 1): codes 1, 2 -> half 0, half
  # 1.  Pooled: 3/4, 1/4, so each group is at TV 1/4: unfairness 0.25 (the
  # other choice for code 1 is symmetric).
  gt = synthetic.FactorGroundTruth((2, 2))
  fn = lambda images: images.reshape(len(images), -1)[:, :1] + images.reshape(
      len(images), -1)[:, 1:]
  r = _run(gt, fn, num_train=400, points=200)
  assert r["mean_fairness:pred0:sens1"] == pytest.approx(0.25, abs=0.05)
  assert r["max_fairness:pred0:sens1"] == pytest.approx(0.25, abs=0.05)
  assert r["score"] == pytest.approx(0.25, abs=0.05)


def test_noise_is_near_fair(synthetic):
  # Codes independent of the images: predictions do not depend on the
  # intervention; only finite-sample differences between groups remain.
  gt = synthetic.FactorGroundTruth((2, 2))
  r = _run(gt, synthetic.random(dim=2), num_train=200, points=400)
  assert r["score"] < 0.06


def test_bad_input_raises(synthetic):
  one = synthetic.FactorGroundTruth((4,))
  with pytest.raises(ValueError, match="at least 2 factors"):
    _run(one, synthetic.identity(one))
  with pytest.raises(ValueError, match="at least 2 factors"):
    fairness.compute_fairness_from_codes(
        np.zeros((4, 1)), np.zeros((4, 1), int), {}, [4])
  gt = synthetic.FactorGroundTruth((2, 3))
  with pytest.raises(ValueError, match="num_test_points_per_class >= 1"):
    _run(gt, synthetic.identity(gt), points=0)
  with pytest.raises(ValueError, match="num_train >= 2"):
    _run(gt, synthetic.identity(gt), num_train=1)
  with pytest.raises(ValueError, match="factor 1 takes a single value"):
    fairness.compute_fairness_from_codes(
        np.zeros((4, 1)), np.array([[0, 0], [1, 0], [0, 0], [1, 0]]),
        {}, [2, 3])
