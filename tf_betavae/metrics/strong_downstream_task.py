"""Strong (out-of-distribution) downstream task, as disentanglement_lib has it.

Does a classifier of one factor still work when another factor takes values
never seen in training?  For every training-set size in ``num_train``, the
factors of ``size`` training points and then of ``num_test`` test points are
sampled, the training and then the test observations are rendered and
encoded, and:

1. in distribution: one classifier per factor (``predictor``) is fitted on
   the training codes; its accuracy (fraction in [0, 1]) on the training and
   the test codes is averaged over factors;
2. under intervention: for every factor i (the target) and ``n_experiment``
   (default 10) times: another factor j != i is drawn uniformly, then a value
   v of j uniformly; every training point gets j = v, every test point gets
   j drawn uniformly from the other values of j (so the test set holds no
   point with j = v); training and then test observations of these factors
   are rendered and encoded, a classifier of factor i is fitted on the
   intervened training codes and scored on both intervened sets.  The
   accuracies are averaged over targets and repetitions.

Result keys, per size ``s``: ``"s:mean_train_accuracy"``,
``"s:mean_test_accuracy"`` (in distribution),
``"s:mean_strong_train_accuracy"``, ``"s:mean_strong_test_accuracy"`` (under
intervention) and ``"s:strong_generalization_gap"`` = 1 -
mean_strong_test_accuracy / mean_test_accuracy.  ``score`` is
``"s:mean_strong_test_accuracy"`` at the largest size.

disentanglement_lib draws the interventions from numpy's global random
generator, unseeded, so its runs do not repeat; here they come from a
generator of their own (``intervention_seed``), and ``random_state`` is drawn
from only for sampling and rendering, in disentanglement_lib's order.
"""

import copy

from absl import logging
import numpy as np

from tf_betavae.metrics import downstream_task
from tf_betavae.metrics import predictors
from tf_betavae.metrics import sampling

DEFAULTS = {"num_train": (10, 100, 1000, 10000), "num_test": 5000,
            "n_experiment": 10, "predictor": "gradient_boosting_classifier"}

# run_metric's ``num_train`` / ``num_eval`` overrides -> the sizes they set.
SIZE_OVERRIDES = sampling.TRAIN_TEST_OVERRIDES

# images_sampled's assumption when the ground truth is not at hand: the five
# factors of dSprites (shape, scale, orientation, x, y).
DEFAULT_NUM_FACTORS = 5


def images_sampled(sizes, num_factors=DEFAULT_NUM_FACTORS):
  """Images the metric renders and encodes at ``sizes`` (without a table).

  Args:
    sizes: dict with ``num_train`` (int or sequence), ``num_test`` and
      ``n_experiment``.
    num_factors: int, the ground truth's factors (default: dSprites' 5).

  Returns:
    int: per size, the training and test sets once in distribution and
    ``num_factors * n_experiment`` times intervened.
  """
  repeats = 1 + num_factors * sizes.get("n_experiment",
                                        DEFAULTS["n_experiment"])
  return sum((n + sizes["num_test"]) * repeats
             for n in downstream_task.train_sizes(sizes["num_train"]))


def intervene(factors_train, factors_test, target, factors_num_values,
              random_state):
  """One random intervention: a factor fixed in training, shifted in test.

  Draws from ``random_state`` in disentanglement_lib's order: the intervened
  factor (uniform over the factors other than ``target``), its training
  value (uniform over its values), then one test value per test point
  (uniform over the other values).

  Args:
    factors_train: int [N, K] (not modified).
    factors_test: int [M, K] (not modified).
    target: int, the factor to be predicted (never intervened on).
    factors_num_values: sequence of K ints, values per factor (each >= 2).
    random_state: np.random.RandomState.

  Returns:
    train int64 [N, K], test int64 [M, K], the intervened factor (int) and
    its training value (int).
  """
  num_factors = len(factors_num_values)
  others = [j for j in range(num_factors) if j != target]
  factor = int(random_state.choice(others))
  values = list(range(factors_num_values[factor]))
  train_value = int(random_state.choice(values))
  values.remove(train_value)
  train = np.array(factors_train, np.int64)
  test = np.array(factors_test, np.int64)
  train[:, factor] = train_value
  test[:, factor] = random_state.choice(values, size=len(test))
  return train, test, factor, train_value


def check_factors(factors_num_values):
  """ValueError unless there are >= 2 factors, each with >= 2 values."""
  values = list(factors_num_values)
  if len(values) < 2:
    raise ValueError(f"the strong downstream task needs at least 2 factors "
                     f"(one to predict, one to intervene on), got "
                     f"{len(values)}")
  for k, n in enumerate(values):
    if n < 2:
      raise ValueError(
          f"factor {k} has {n} value(s); the strong downstream task "
          f"intervenes on every factor and needs at least 2 values each "
          f"(one for training, the others for testing)")


def _check_n_experiment(n_experiment):
  if (isinstance(n_experiment, (bool, np.bool_)) or
      not isinstance(n_experiment, (int, np.integer)) or n_experiment < 1):
    raise ValueError(
        f"n_experiment must be a positive integer, got {n_experiment!r}")
  return int(n_experiment)


def compute_strong_downstream_task_from_codes(
    codes_train, factors_train, codes_test, factors_test, codes_of_factors,
    factors_num_values, intervention_random_state,
    n_experiment=DEFAULTS["n_experiment"], predictor=DEFAULTS["predictor"]):
  """Core of the strong downstream task for one training-set size.

  The intervened sets need new codes, so besides arrays the core takes a
  function that encodes factor vectors.

  Args:
    codes_train: float [N, D], codes of ``factors_train``.
    factors_train: int [N, K], factor indices.
    codes_test: float [M, D], codes of ``factors_test``.
    factors_test: int [M, K].
    codes_of_factors: callable int [n, K] -> float [n, D], the codes of the
      observations of given factors (called for the intervened training set,
      then the intervened test set, for each intervention).
    factors_num_values: sequence of K ints, values per factor.
    intervention_random_state: np.random.RandomState for the interventions.
    n_experiment: int, interventions per target factor.
    predictor: a name of ``predictors.PREDICTORS``.

  Returns:
    dict: the five result keys of size N (see the module docstring) and
    ``interventions``: K * n_experiment dicts (``factor``,
    ``intervened_factor``, ``train_value``, ``train_accuracy``,
    ``test_accuracy``).

  Raises:
    ValueError: fewer than 2 factors, a factor with fewer than 2 values or a
      target with a single value in the training set.
  """
  predictors.check_predictor(predictor)
  check_factors(factors_num_values)
  n_experiment = _check_n_experiment(n_experiment)
  factors_train = np.asarray(factors_train, np.int64)
  factors_test = np.asarray(factors_test, np.int64)
  downstream_task.check_trainable(factors_train)
  train_acc, test_acc = downstream_task.factor_accuracies(
      codes_train, factors_train, codes_test, factors_test, predictor)
  interventions = []
  for i in range(factors_train.shape[1]):
    for _ in range(n_experiment):
      train_int, test_int, factor, value = intervene(
          factors_train, factors_test, i, factors_num_values,
          intervention_random_state)
      codes_train_int = codes_of_factors(train_int)
      codes_test_int = codes_of_factors(test_int)
      tr, te = downstream_task.factor_accuracies(
          codes_train_int, train_int, codes_test_int, test_int, predictor,
          targets=[i])
      interventions.append({"factor": i, "intervened_factor": factor,
                            "train_value": value,
                            "train_accuracy": float(tr[0]),
                            "test_accuracy": float(te[0])})
  s = str(len(factors_train))
  mean_test = float(np.mean(test_acc))
  strong_test = float(np.mean([r["test_accuracy"] for r in interventions]))
  with np.errstate(divide="ignore", invalid="ignore"):
    # As disentanglement_lib: inf or nan when no test point is predicted.
    gap = float(1.0 - np.float64(strong_test) / np.float64(mean_test))
  return {
      f"{s}:mean_train_accuracy": float(np.mean(train_acc)),
      f"{s}:mean_test_accuracy": mean_test,
      f"{s}:mean_strong_train_accuracy": float(
          np.mean([r["train_accuracy"] for r in interventions])),
      f"{s}:mean_strong_test_accuracy": strong_test,
      f"{s}:strong_generalization_gap": gap,
      "interventions": interventions,
  }


def _codes(ground_truth, representation_fn, factors, random_state,
           chunk_images, prefetch):
  """float64 [n, D], the codes of the observations of ``factors``."""
  chunks = (factors[i:i + chunk_images]
            for i in range(0, len(factors), chunk_images))
  return np.concatenate(list(sampling.map_chunks(
      ground_truth, representation_fn, chunks, random_state, prefetch,
      total_images=len(factors), what="encoding for the strong downstream "
      "task")), axis=0)


def intervention_random_state(random_state, intervention_seed=None):
  """The generator of the interventions.

  Args:
    random_state: np.random.RandomState of the metric (not advanced).
    intervention_seed: int or None.

  Returns:
    np.random.RandomState seeded with ``intervention_seed``, or, when None,
    with a number drawn from a copy of ``random_state``: reproducible for a
    given random state while leaving its own stream to sampling and
    rendering, as in disentanglement_lib.
  """
  if intervention_seed is None:
    intervention_seed = copy.deepcopy(random_state).randint(2**31 - 1)
  return np.random.RandomState(intervention_seed)


def compute_strong_downstream_task(
    ground_truth, representation_fn, random_state,
    num_train=DEFAULTS["num_train"], num_test=DEFAULTS["num_test"],
    n_experiment=DEFAULTS["n_experiment"], predictor=DEFAULTS["predictor"],
    intervention_seed=None, chunk_images=sampling.DEFAULT_CHUNK_IMAGES,
    prefetch=True):
  """Strong downstream task of a representation.

  Args:
    ground_truth: ground-truth object (see ``sampling``): at least 2
      factors, each with at least 2 values.
    representation_fn: callable images [N, H, W, C] -> codes [N, D].
    random_state: np.random.RandomState; drawn from only to sample factors
      and render observations.
    num_train: int or sequence of int, training-set sizes.
    num_test: int, test points per size.
    n_experiment: int, interventions per target factor (the default of
      disentanglement_lib's helper: 10).
    predictor: "gradient_boosting_classifier" (default, disentanglement_lib's
      config) or "logistic_regression_cv".
    intervention_seed: int or None, see ``intervention_random_state``.
    chunk_images: int, images rendered and encoded per call.
    prefetch: see ``sampling.map_chunks``.

  Returns:
    dict: ``score`` (``"s:mean_strong_test_accuracy"`` at the largest size
    s), the result keys of every size, ``interventions`` ({str(size): list
    of the core's intervention records}) and ``parameters``.

  Raises:
    ValueError: invalid sizes, predictor or ground truth (before anything is
      sampled).
  """
  sizes = downstream_task.train_sizes(num_train)
  num_test = downstream_task.check_num_test(num_test)
  n_experiment = _check_n_experiment(n_experiment)
  predictors.check_predictor(predictor)
  downstream_task.check_predictor_sizes(predictor, sizes)
  factors_num_values = [int(n) for n in ground_truth.factors_num_values]
  check_factors(factors_num_values)
  interventions_rs = intervention_random_state(random_state,
                                               intervention_seed)

  def codes_of_factors(factors):
    return _codes(ground_truth, representation_fn, factors, random_state,
                  chunk_images, prefetch)

  result = {}
  interventions = {}
  for size in sizes:
    logging.info("Strong downstream task: %d train and %d test points, %d "
                 "interventions.", size, num_test,
                 len(factors_num_values) * n_experiment)
    # disentanglement_lib's order: both factor sets, then both renderings.
    factors_train = np.asarray(
        ground_truth.sample_factors(size, random_state), np.int64)
    factors_test = np.asarray(
        ground_truth.sample_factors(num_test, random_state), np.int64)
    codes_train = codes_of_factors(factors_train)
    codes_test = codes_of_factors(factors_test)
    scores = compute_strong_downstream_task_from_codes(
        codes_train, factors_train, codes_test, factors_test,
        codes_of_factors, factors_num_values, interventions_rs, n_experiment,
        predictor)
    interventions[str(size)] = scores.pop("interventions")
    result.update(scores)
  result["score"] = result[f"{max(sizes)}:mean_strong_test_accuracy"]
  result["interventions"] = interventions
  result["parameters"] = {
      "num_train": list(sizes), "num_test": num_test,
      "n_experiment": n_experiment, "predictor": predictor,
      "classifier": predictors.PREDICTOR_NAMES[predictor]}
  return result
