"""reduced_downstream_task: known answers, a loop reference, bad input."""

import numpy as np
import pytest

from tests.metrics import lr_reference
from tf_betavae.metrics import gbt
from tf_betavae.metrics import reduced_downstream_task as rdt


def _run(gt, fn, seed=0, **kwargs):
  args = dict(num_train=[100], num_test=200)
  args.update(kwargs)
  return rdt.compute_reduced_downstream_task(gt, fn,
                                             np.random.RandomState(seed),
                                             **args)


def _keys(size, num_factors):
  s = str(size)
  keys = {f"{s}:mean_train_accuracy_reduced_factor",
          f"{s}:mean_test_accuracy_reduced_factor",
          f"{s}:mean_train_accuracy_other_factors",
          f"{s}:mean_test_accuracy_other_factors"}
  for f in range(num_factors):
    p = f"{s}:reduced_factor_{f}:"
    keys |= {p + "mean_train_accuracy_reduced_factor",
             p + "mean_test_accuracy_reduced_factor",
             p + "mean_train_accuracy_non_reduced_factor",
             p + "mean_test_accuracy_non_reduced_factor"}
    for i in range(num_factors):
      keys |= {p + f"mean_train_accuracy_factor_{i}",
               p + f"mean_test_accuracy_factor_{i}"}
  return keys


def test_disentangled_codes_lose_only_the_removed_factor(synthetic):
  assert rdt.DEFAULTS == {"num_train": (10, 100, 1000, 10000),
                          "num_test": 5000, "num_factors_to_remove": 1,
                          "predictor": "gradient_boosting_classifier"}
  assert rdt.images_sampled({"num_train": [10, 100], "num_test": 50}) == 210
  gt = synthetic.FactorGroundTruth((4, 3))
  result = _run(gt, synthetic.identity(gt))
  assert set(result) == _keys(100, 2) | {"score", "parameters",
                                         "removed_codes"}
  # (a) Codes = factors: the removed code is the factor's own; the other
  # factors are still predicted exactly (the maximum, 1.0) ...
  assert result["removed_codes"] == {"100": [[0], [1]]}
  assert result["100:mean_test_accuracy_other_factors"] == 1.0
  assert result["score"] == 1.0
  # ... and the reduced factor only at chance (about 1/4 and 1/3).
  for f, n in enumerate(gt.factors_num_values):
    p = f"100:reduced_factor_{f}:"
    assert result[p + "mean_test_accuracy_reduced_factor"] == pytest.approx(
        1.0 / n, abs=0.12)
    assert result[p + "mean_test_accuracy_reduced_factor"] == result[
        p + f"mean_test_accuracy_factor_{f}"]


def test_rotated_codes_leak_into_other_factors(synthetic):
  # (b) With factor pairs rotated by 45 degrees, the code removed for one
  # factor also carries half of its partner: the other factors lose
  # accuracy, which the disentangled codes do not.
  gt = synthetic.FactorGroundTruth((4, 4))
  mixed = _run(gt, synthetic.mixed(gt))
  assert mixed["score"] < 0.8
  assert mixed["100:mean_test_accuracy_reduced_factor"] < 0.8


def test_noise_codes_give_chance_accuracy(synthetic):
  # (c) Nothing to remove and nothing to predict: chance everywhere.
  gt = synthetic.FactorGroundTruth((2, 4))
  result = _run(gt, synthetic.random(3), num_test=400)
  assert result["100:mean_test_accuracy_other_factors"] == pytest.approx(
      (1 / 2 + 1 / 4) / 2, abs=0.1)
  assert result["100:mean_test_accuracy_reduced_factor"] == pytest.approx(
      (1 / 2 + 1 / 4) / 2, abs=0.1)


_lr_accuracy = lr_reference.lr_accuracy


def test_core_matches_straightforward_reference():
  # (d) float64 reference: delete the argmax of GBT importance (refitted
  # after each deletion), then fit scikit-learn's LogisticRegressionCV per
  # factor directly.
  rs = np.random.RandomState(1)
  # Two-valued factors: one tree per boosting stage keeps the fits fast.
  factors_train = rs.randint(2, size=(60, 2))
  factors_test = rs.randint(2, size=(40, 2))
  mix = np.array([[1.0, 0.3, 0.0, 0.5], [0.0, 0.4, 1.0, 0.5]])
  codes_train = factors_train @ mix + 0.5 * rs.randn(60, 4)
  codes_test = factors_test @ mix + 0.5 * rs.randn(40, 4)
  result = rdt.compute_reduced_downstream_task_from_codes(
      codes_train, factors_train, codes_test, factors_test,
      num_factors_to_remove=2, predictor="logistic_regression_cv")
  for f in range(2):
    kept, removed = list(range(4)), []
    for _ in range(2):
      importance = gbt.GradientBoostedTrees().fit(
          codes_train[:, kept], factors_train[:, f]).feature_importances_
      removed.append(kept.pop(int(np.argmax(importance))))
    assert result["removed_codes"][f] == removed
    accuracies = [_lr_accuracy(codes_train[:, kept], factors_train[:, i],
                               codes_test[:, kept], factors_test[:, i])
                  for i in range(2)]
    p = f"60:reduced_factor_{f}:"
    for i in range(2):
      assert result[p + f"mean_train_accuracy_factor_{i}"] == accuracies[i][0]
      assert result[p + f"mean_test_accuracy_factor_{i}"] == accuracies[i][1]
    assert result[p + "mean_test_accuracy_non_reduced_factor"] == (
        accuracies[1 - f][1])
  assert result["60:mean_test_accuracy_other_factors"] == pytest.approx(
      np.mean([result["60:reduced_factor_0:mean_test_accuracy_factor_1"],
               result["60:reduced_factor_1:mean_test_accuracy_factor_0"]]))
  # Not a trivial case: the codes removed differ by factor of interest.
  assert result["removed_codes"][0] != result["removed_codes"][1]


def test_accuracy_rises_with_num_train(synthetic):
  # (e) The factors not reduced are predicted better from more points.
  gt = synthetic.FactorGroundTruth((6, 8))
  result = _run(gt, synthetic.noisy_identity(gt, 0.05, seed=2),
                num_train=[10, 100], num_test=150)
  assert result["100:mean_test_accuracy_other_factors"] > (
      result["10:mean_test_accuracy_other_factors"] + 0.2)
  assert result["score"] == result["100:mean_test_accuracy_other_factors"]


def test_invalid_inputs_raise(synthetic):
  gt = synthetic.FactorGroundTruth((3, 3))
  fn = synthetic.identity(gt)
  with pytest.raises(ValueError, match=r"num_factors_to_remove \(2\) must "
                     r"be smaller than the code dimensions \(2\)"):
    _run(gt, fn, num_train=[20], num_test=20, num_factors_to_remove=2)
  with pytest.raises(ValueError, match="non-negative integer"):
    _run(gt, fn, num_factors_to_remove=-1)
  with pytest.raises(ValueError, match="at least 2 factors"):
    _run(synthetic.FactorGroundTruth((3,)), fn)
  with pytest.raises(ValueError, match="positive integers"):
    _run(gt, fn, num_train=[-5])
