"""modularity_explicitness: known answers, a loop reference of the core,
bad input."""

import math

import numpy as np
import pytest
from sklearn import linear_model

from tf_betavae.metrics import modularity_explicitness as me


def _run(gt, fn, seed=0, num_train=1000, num_test=500):
  return me.compute_modularity_explicitness(
      gt, fn, np.random.RandomState(seed), num_train=num_train,
      num_test=num_test)


# -- independent float64 loop references ------------------------------------


def _reference_bins(column, num_bins):
  """Equal-width bin number 1..num_bins of each value (left edges <= value)."""
  lo, hi = min(column), max(column)
  if lo == hi:  # np.histogram's range for a constant column
    lo, hi = lo - 0.5, hi + 0.5
  edges = [lo + (hi - lo) * b / num_bins for b in range(num_bins)]
  return [sum(1 for e in edges if e <= v) for v in column]


def _reference_mutual_info(x, y):
  """I(x; y) in nats from joint counts of two label lists."""
  n = len(x)
  joint, px, py = {}, {}, {}
  for a, b in zip(x, y):
    joint[(a, b)] = joint.get((a, b), 0) + 1
    px[a] = px.get(a, 0) + 1
    py[b] = py.get(b, 0) + 1
  return sum(c / n * math.log(c * n / (px[a] * py[b]))
             for (a, b), c in joint.items())


def _reference_auc(positive, score):
  """P(score of a positive > score of a negative), ties count 1/2."""
  pos = [s for p, s in zip(positive, score) if p]
  neg = [s for p, s in zip(positive, score) if not p]
  wins = sum(1.0 if a > b else 0.5 if a == b else 0.0
             for a in pos for b in neg)
  return wins / (len(pos) * len(neg))


def _reference(codes_train, factors_train, codes_test, factors_test,
               num_bins):
  n, d = codes_train.shape
  k = factors_train.shape[1]
  mi = np.zeros((d, k))
  for j in range(d):
    bins = _reference_bins(list(codes_train[:, j]), num_bins)
    for f in range(k):
      mi[j, f] = _reference_mutual_info(bins, list(factors_train[:, f]))
  per_code = []
  for j in range(d):
    sq = [m * m for m in mi[j]]
    best = max(sq)
    per_code.append(0.0 if best == 0 else
                    1.0 - (sum(sq) - best) / (best * (k - 1)))
  # Standardise with the training mean and (ddof 0) std, column by column.
  train, test = codes_train.copy(), codes_test.copy()
  for j in range(d):
    mean = sum(codes_train[:, j]) / n
    std = math.sqrt(sum((v - mean)**2 for v in codes_train[:, j]) / n)
    train[:, j] = (codes_train[:, j] - mean) / std
    test[:, j] = (codes_test[:, j] - mean) / std
  aucs_train, aucs_test = [], []
  for f in range(k):
    classes = sorted(set(factors_train[:, f]))
    # One binary liblinear logistic regression per class; rows normalised.
    raw_train = np.zeros((n, len(classes)))
    raw_test = np.zeros((len(test), len(classes)))
    for c, value in enumerate(classes):
      model = linear_model.LogisticRegression(solver="liblinear").fit(
          train, factors_train[:, f] == value)
      raw_train[:, c] = model.predict_proba(train)[:, 1]
      raw_test[:, c] = model.predict_proba(test)[:, 1]
    if len(classes) == 2:
      raw_train[:, 0], raw_test[:, 0] = 1 - raw_train[:, 1], 1 - raw_test[:, 1]
    raw_train /= raw_train.sum(axis=1, keepdims=True)
    raw_test /= raw_test.sum(axis=1, keepdims=True)
    aucs_train.append(np.mean([
        _reference_auc(factors_train[:, f] == v, raw_train[:, c])
        for c, v in enumerate(classes)]))
    aucs_test.append(np.mean([
        _reference_auc(factors_test[:, f] == v, raw_test[:, c])
        for c, v in enumerate(classes)]))
  return mi, per_code, np.mean(aucs_train), np.mean(aucs_test)


def test_core_matches_loop_reference():
  rs = np.random.RandomState(3)
  factors_train = rs.randint(3, size=(60, 3))
  factors_test = rs.randint(3, size=(40, 3))
  mix = rs.randn(3, 4)
  codes_train = factors_train @ mix + 0.7 * rs.randn(60, 4)
  codes_test = factors_test @ mix + 0.7 * rs.randn(40, 4)
  r = me.compute_modularity_explicitness_from_codes(
      codes_train, factors_train, codes_test, factors_test, num_bins=5)
  mi, per_code, auc_train, auc_test = _reference(
      codes_train, factors_train, codes_test, factors_test, 5)
  np.testing.assert_allclose(r["mutual_info"], mi, atol=1e-12)
  np.testing.assert_allclose(r["per_code_modularity"], per_code, atol=1e-12)
  assert r["modularity_score"] == pytest.approx(np.mean(per_code), abs=1e-12)
  assert r["score"] == r["modularity_score"]
  assert r["explicitness_score_train"] == pytest.approx(auc_train, abs=1e-9)
  assert r["explicitness_score_test"] == pytest.approx(auc_test, abs=1e-9)


def test_modularity_of_hand_made_matrices():
  # One informative factor per code -> 1; equal information about both of 2
  # factors -> 0; no information -> 0 (disentanglement_lib's convention).
  mi = np.array([[0.7, 0.0], [0.0, 0.3], [0.5, 0.5], [0.0, 0.0]])
  np.testing.assert_allclose(me.modularity_per_code(mi), [1, 1, 0, 0])
  # 3 factors, squared MI (4, 1, 1): delta = 2 / (4 * 2).
  assert me.modularity([[2.0, 1.0, 1.0]]) == pytest.approx(0.75)


# -- known answers on synthetic ground truths -------------------------------


def test_identity_is_perfect(synthetic):
  gt = synthetic.FactorGroundTruth((2, 3, 2))
  r = _run(gt, synthetic.identity(gt))
  # Independent factors still share a small positive estimated MI.
  assert r["modularity_score"] == pytest.approx(1.0, abs=1e-3)
  assert r["score"] == r["modularity_score"]
  # Two-valued factors are linearly separable from their own code.
  assert r["explicitness_score_train"] > 0.97
  assert r["explicitness_score_test"] > 0.97
  assert r["parameters"]["num_bins"] == 20


def test_rotated_codes_lose_modularity(synthetic):
  gt = synthetic.FactorGroundTruth((4, 4))
  ident = _run(gt, synthetic.identity(gt))["modularity_score"]
  # 45-degree rotation: each code knows both factors equally well, so
  # delta ~ 1 and modularity ~ 0 with 2 factors; information is kept.
  rotated = _run(gt, synthetic.mixed(gt, weight=1.0))
  assert ident > 0.99
  assert rotated["modularity_score"] < 0.1
  assert rotated["explicitness_score_test"] > 0.6


def test_noise_is_chance(synthetic):
  gt = synthetic.FactorGroundTruth((2, 3, 2))
  r = _run(gt, synthetic.random(dim=3), num_train=1000, num_test=2000)
  assert r["explicitness_score_test"] == pytest.approx(0.5, abs=0.03)


def test_bad_input_raises(synthetic):
  gt = synthetic.FactorGroundTruth((2, 3))
  fn = synthetic.identity(gt)
  with pytest.raises(ValueError, match="num_train >= 2 and num_test >= 2"):
    _run(gt, fn, num_train=1)
  with pytest.raises(ValueError, match="num_train >= 2 and num_test >= 2"):
    _run(gt, fn, num_test=1)
  one = synthetic.FactorGroundTruth((4,))
  with pytest.raises(ValueError, match="at least 2 factors"):
    _run(one, synthetic.identity(one))
  with pytest.raises(ValueError, match="at least 2 factors"):
    me.modularity([[0.5], [0.1]])
  with pytest.raises(ValueError, match="factor 1 takes a single value"):
    me.compute_modularity_explicitness_from_codes(
        np.arange(8.0)[:, None], np.stack([np.arange(8) % 2, np.zeros(8)], 1),
        np.arange(4.0)[:, None], np.zeros((4, 2)))
  with pytest.raises(ValueError, match="must match the training shapes"):
    me.compute_modularity_explicitness_from_codes(
        np.zeros((8, 2)), np.zeros((8, 2)), np.zeros((4, 3)),
        np.zeros((4, 2)))


def test_constant_code_dimension_is_allowed(synthetic):
  # disentanglement_lib divides by a zero std here (NaN -> classifier error);
  # a collapsed dimension only scores modularity 0 and is ignored otherwise.
  gt = synthetic.FactorGroundTruth((2, 2))
  ident = synthetic.identity(gt)
  fn = lambda images: np.concatenate(
      [ident(images), np.zeros((len(images), 1), np.float32)], axis=1)
  r = _run(gt, fn, num_train=400, num_test=200)
  assert r["per_code_modularity"][2] == 0.0
  assert r["modularity_score"] == pytest.approx(2 / 3, abs=1e-3)
  assert r["explicitness_score_test"] > 0.97
