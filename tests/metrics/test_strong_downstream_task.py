"""strong_downstream_task: interventions, known answers, a loop reference,
bad input."""

import numpy as np
import pytest

from tests.metrics import lr_reference
from tf_betavae.metrics import strong_downstream_task as sdt


def _run(gt, fn, seed=0, **kwargs):
  args = dict(num_train=[100], num_test=200, n_experiment=2)
  args.update(kwargs)
  return sdt.compute_strong_downstream_task(gt, fn,
                                            np.random.RandomState(seed),
                                            **args)


def _keys(size):
  return {f"{size}:mean_train_accuracy", f"{size}:mean_test_accuracy",
          f"{size}:mean_strong_train_accuracy",
          f"{size}:mean_strong_test_accuracy",
          f"{size}:strong_generalization_gap"}


def test_intervention_fixes_one_other_factor():
  rs = np.random.RandomState(0)
  train = rs.randint(4, size=(50, 3))
  test = rs.randint(4, size=(60, 3))
  for target in range(3):
    train_int, test_int, factor, value = sdt.intervene(
        train, test, target, [4, 4, 4], rs)
    assert factor != target
    assert (train_int[:, factor] == value).all()
    assert (test_int[:, factor] != value).all()
    others = [j for j in range(3) if j != factor]
    np.testing.assert_array_equal(train_int[:, others], train[:, others])
    np.testing.assert_array_equal(test_int[:, others], test[:, others])


def test_disentangled_codes_generalise_and_keys(synthetic):
  assert sdt.DEFAULTS == {"num_train": (10, 100, 1000, 10000),
                          "num_test": 5000, "n_experiment": 10,
                          "predictor": "gradient_boosting_classifier"}
  # Per size: the sets once plain and num_factors * n_experiment intervened.
  assert sdt.images_sampled({"num_train": [10], "num_test": 20,
                             "n_experiment": 2}, num_factors=3) == 30 * 7
  gt = synthetic.FactorGroundTruth((3, 4))
  rs = np.random.RandomState(0)
  result = sdt.compute_strong_downstream_task(
      gt, synthetic.identity(gt), rs, num_train=[100], num_test=200,
      n_experiment=2)
  assert set(result) == _keys(100) | {"score", "parameters", "interventions"}
  # (a) Codes = factors: the trees of factor i split only code i, so a shift
  # of another factor changes nothing: accuracy 1.0 and no gap.
  assert result["100:mean_test_accuracy"] == 1.0
  assert result["100:mean_strong_test_accuracy"] == 1.0
  assert result["100:strong_generalization_gap"] == 0.0
  assert result["score"] == 1.0
  assert len(result["interventions"]["100"]) == 2 * 2
  # The random state serves sampling only, as in disentanglement_lib: it
  # ends where drawing the two factor sets leaves it (the renderer here
  # draws nothing).
  check = np.random.RandomState(0)
  gt.sample_factors(100, check)
  gt.sample_factors(200, check)
  assert rs.randint(2**31) == check.randint(2**31)


def test_rotated_codes_fail_under_intervention(synthetic):
  # (b) With factor pairs rotated by 45 degrees, each code holds both
  # factors; fixing one in training and shifting it in testing moves the
  # codes the classifier reads: in-distribution accuracy stays high, the
  # strong accuracy drops.
  gt = synthetic.FactorGroundTruth((4, 4))
  result = _run(gt, synthetic.mixed(gt))
  assert result["100:mean_test_accuracy"] > 0.9
  assert result["100:mean_strong_test_accuracy"] < 0.7
  assert result["100:strong_generalization_gap"] > 0.2


def test_noise_codes_give_chance_accuracy(synthetic):
  # (c) Noise predicts each factor at about 1 / num_values.
  gt = synthetic.FactorGroundTruth((2, 4))
  result = _run(gt, synthetic.random(3), num_test=400)
  chance = (1 / 2 + 1 / 4) / 2
  assert result["100:mean_test_accuracy"] == pytest.approx(chance, abs=0.1)
  assert result["100:mean_strong_test_accuracy"] == pytest.approx(
      chance, abs=0.1)


_lr_accuracy = lr_reference.lr_accuracy


def test_core_matches_straightforward_reference():
  # (d) float64 reference of disentanglement_lib's loop with
  # scikit-learn's LogisticRegressionCV, the same intervention draws and a
  # fixed nonlinear encoder of the factors.
  num_values = [3, 4]
  weights = np.array([[1.0, 0.4, -0.3], [0.2, 0.7, 0.9]])

  def encode(factors):
    f = np.asarray(factors, np.float64)
    return np.tanh(0.5 * f @ weights) + 0.1 * np.sin(7.0 * f.sum(axis=1,
                                                                keepdims=True))

  rs = np.random.RandomState(2)
  factors_train = np.stack([rs.randint(n, size=50) for n in num_values], 1)
  factors_test = np.stack([rs.randint(n, size=30) for n in num_values], 1)
  result = sdt.compute_strong_downstream_task_from_codes(
      encode(factors_train), factors_train, encode(factors_test),
      factors_test, encode, num_values, np.random.RandomState(9),
      n_experiment=2, predictor="logistic_regression_cv")
  plain = [_lr_accuracy(encode(factors_train), factors_train[:, i],
                        encode(factors_test), factors_test[:, i])
           for i in range(2)]
  draws = np.random.RandomState(9)
  strong = []
  for i in range(2):
    for _ in range(2):
      factor = draws.choice([j for j in range(2) if j != i])
      values = list(range(num_values[factor]))
      value = draws.choice(values)
      values.remove(value)
      train, test = factors_train.copy(), factors_test.copy()
      train[:, factor] = value
      test[:, factor] = draws.choice(values, size=len(test))
      strong.append(_lr_accuracy(encode(train), train[:, i], encode(test),
                                 test[:, i]))
  assert result["50:mean_train_accuracy"] == pytest.approx(
      np.mean([a for a, _ in plain]))
  assert result["50:mean_test_accuracy"] == pytest.approx(
      np.mean([b for _, b in plain]))
  assert result["50:mean_strong_train_accuracy"] == pytest.approx(
      np.mean([a for a, _ in strong]))
  assert result["50:mean_strong_test_accuracy"] == pytest.approx(
      np.mean([b for _, b in strong]))
  assert result["50:strong_generalization_gap"] == pytest.approx(
      1 - np.mean([b for _, b in strong]) / np.mean([b for _, b in plain]))
  assert [r["test_accuracy"] for r in result["interventions"]] == [
      b for _, b in strong]


def test_accuracy_rises_with_num_train(synthetic):
  # (e) More training points, better in-distribution and strong accuracy.
  gt = synthetic.FactorGroundTruth((6, 8))
  result = _run(gt, synthetic.noisy_identity(gt, 0.05, seed=2),
                num_train=[10, 100], num_test=150, n_experiment=1)
  for key in ("mean_test_accuracy", "mean_strong_test_accuracy"):
    assert result[f"100:{key}"] > result[f"10:{key}"] + 0.2, key
  assert result["score"] == result["100:mean_strong_test_accuracy"]


def test_invalid_inputs_raise(synthetic):
  gt = synthetic.FactorGroundTruth((3, 3))
  fn = synthetic.identity(gt)
  with pytest.raises(ValueError, match="at least 2 factors"):
    _run(synthetic.FactorGroundTruth((3,)), fn)
  with pytest.raises(ValueError, match="factor 1 has 1 value"):
    _run(synthetic.FactorGroundTruth((3, 1)), fn)
  with pytest.raises(ValueError, match="n_experiment must be a positive"):
    _run(gt, fn, n_experiment=0)
  with pytest.raises(ValueError, match="at least 5 for logistic_regression"):
    _run(gt, fn, num_train=[4], predictor="logistic_regression_cv")
  with pytest.raises(ValueError, match="num_test must be a positive"):
    _run(gt, fn, num_test=-1)
