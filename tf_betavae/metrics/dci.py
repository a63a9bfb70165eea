"""DCI: disentanglement, completeness, informativeness (Eastwood & Williams 2018).

As in disentanglement_lib: for every factor a gradient-boosted classifier
with ``sklearn.ensemble.GradientBoostingClassifier()``'s default settings is
trained to predict the factor index from the code on ``num_train`` (10,000)
samples (by default, for codes of up to 64 dimensions, our vectorised
implementation of that same model, ``gbt.py``; wider codes such as raw pixels
and ``classifier="sklearn"`` use scikit-learn's own);
``|feature_importances_|`` form the column of that factor in the importance
matrix R [D, K].  With ``P[j, k] = R[j, k] / sum_k R[j, k]``:

* disentanglement of code j: ``1 - H_K(P[j, :])`` (entropy with log base K);
  the score weights codes by their share of the total importance;
* completeness of factor k: ``1 - H_D(R[:, k] / sum_j R[j, k])``, weighted by
  the factor's share of the total importance;
* informativeness: the classifiers' mean accuracy on the training samples and
  on ``num_test`` (5,000) test samples (disentanglement_lib reports accuracy,
  not error).

``1e-11`` is added to R inside the entropies, like disentanglement_lib, so an
all-zero row or column has entropy 1 (score 0).  The factors are fitted in
parallel (``n_jobs``): threads for scikit-learn and for small fits, worker
processes for gbt.py on 2,000 samples or more.
"""

import time

from absl import logging
import numpy as np
import scipy.stats

from tf_betavae import progress
from tf_betavae import tf_startup
from tf_betavae.metrics import predictors
from tf_betavae.metrics import sampling

DEFAULTS = {"num_train": 10000, "num_test": 5000}

# run_metric's ``num_train`` / ``num_eval`` overrides -> the sizes they set.
SIZE_OVERRIDES = sampling.TRAIN_TEST_OVERRIDES
images_sampled = sampling.train_test_images_sampled


def _entropy_complement(matrix, axis_size):
  """1 - entropy (base ``axis_size``) of each column of ``matrix``."""
  if axis_size < 2:
    return np.ones(matrix.shape[1])
  return 1.0 - scipy.stats.entropy(matrix + 1e-11, base=axis_size)


def disentanglement_per_code(importance):
  """Disentanglement of each code dimension.

  Args:
    importance: float [D, K], non-negative.

  Returns:
    float64 np.ndarray [D] in [0, 1].
  """
  importance = np.asarray(importance, np.float64)
  return _entropy_complement(importance.T, importance.shape[1])


def disentanglement(importance):
  """Importance-weighted mean disentanglement; float in [0, 1]."""
  importance = np.asarray(importance, np.float64)
  per_code = disentanglement_per_code(importance)
  weights = importance if importance.sum() > 0 else np.ones_like(importance)
  weights = weights.sum(axis=1) / weights.sum()
  return float(np.sum(per_code * weights))


def completeness_per_factor(importance):
  """Completeness of each factor; float64 np.ndarray [K] in [0, 1]."""
  importance = np.asarray(importance, np.float64)
  return _entropy_complement(importance, importance.shape[0])


def completeness(importance):
  """Importance-weighted mean completeness; float in [0, 1]."""
  importance = np.asarray(importance, np.float64)
  per_factor = completeness_per_factor(importance)
  weights = importance if importance.sum() > 0 else np.ones_like(importance)
  weights = weights.sum(axis=0) / weights.sum()
  return float(np.sum(per_factor * weights))


CLASSIFIERS = ("auto", "gbt", "sklearn")
# "auto" uses gbt.py up to this many code dimensions and scikit-learn above
# (gbt.py loops over dimensions in Python; scikit-learn is faster on wide
# inputs such as raw pixels).  Both fit the same model.
GBT_MAX_DIMENSIONS = 64
# gbt fits on at least this many samples run in worker processes.
PROCESSES_FROM_SAMPLES = 2000
# Each classifier by its name in the predictor registry (predictors.py),
# which the downstream tasks share.
PREDICTOR_OF = {"gbt": "gradient_boosting_classifier",
                "sklearn": predictors.SKLEARN_GRADIENT_BOOSTING}
CLASSIFIER_NAMES = {name: predictors.PREDICTOR_NAMES[predictor]
                    for name, predictor in PREDICTOR_OF.items()}


def resolve_classifier(classifier, num_dimensions):
  """"auto" -> "gbt" for at most GBT_MAX_DIMENSIONS code dimensions, else
  "sklearn"; other names are returned as they are."""
  if classifier != "auto":
    return classifier
  return "gbt" if num_dimensions <= GBT_MAX_DIMENSIONS else "sklearn"


def _fit_factor(k, codes_train, y_train, codes_test, y_test, seed,
                classifier):
  """(k, importances [D], train accuracy, test accuracy) of factor k's fit."""
  model = predictors.make_predictor(PREDICTOR_OF[classifier], seed)
  model.fit(codes_train, y_train)
  return (k, np.abs(model.feature_importances_),
          float(np.mean(model.predict(codes_train) == y_train)),
          float(np.mean(model.predict(codes_test) == y_test)))


def importance_gbt(codes_train, factors_train, codes_test, factors_test,
                   random_state, n_jobs=-1, classifier="auto"):
  """Importance matrix and accuracies from one GBT classifier per factor.

  Args:
    codes_train: float [N, D].
    factors_train: int [N, K].
    codes_test: float [M, D].
    factors_test: int [M, K].
    random_state: np.random.RandomState, seeds the classifiers (tie-breaking
      only: subsample=1 and all features are used).
    n_jobs: int, parallel workers (-1: all cores).
    classifier: "gbt" (tf_betavae.metrics.gbt, the same model as
      scikit-learn's GradientBoostingClassifier defaults, faster on codes;
      see benchmarks/README.md), "sklearn" (GradientBoostingClassifier
      itself, the code disentanglement_lib runs) or "auto" (gbt up to
      GBT_MAX_DIMENSIONS code dimensions, sklearn above).

  Returns:
    importance [D, K], per-factor train accuracy [K], test accuracy [K].
  """
  import joblib  # pylint: disable=g-import-not-at-top
  if classifier not in CLASSIFIERS:
    raise ValueError(f"classifier must be one of {CLASSIFIERS}, got "
                     f"{classifier!r}")
  classifier = resolve_classifier(classifier, codes_train.shape[1])
  num_factors = factors_train.shape[1]
  seeds = random_state.randint(2**31 - 1, size=num_factors)
  classes = [len(np.unique(factors_train[:, k])) for k in range(num_factors)]
  # Most classes first, so the slowest fits start first.
  order = np.argsort([-c for c in classes], kind="stable")
  # scikit-learn's trees release the GIL, so threads run them in parallel;
  # gbt.py is many numpy calls on cache-sized arrays and holds the GIL
  # between them, so large fits go to worker processes.
  processes = (classifier == "gbt" and
               len(codes_train) >= PROCESSES_FROM_SAMPLES)
  # Worker processes load TensorFlow again (this module's imports do); they
  # start as quietly as the program.  Threads need nothing.
  quiet_start = ({"initializer": tf_startup.quiet_worker_start}
                 if processes else {})
  logging.info("DCI: fitting %d classifiers (%s) in %s.", num_factors,
               classifier, "worker processes" if processes else "threads")
  start = time.monotonic()
  # In the order they finish, so that each is reported when it is done.
  fits = joblib.Parallel(n_jobs=n_jobs,
                         prefer="processes" if processes else "threads",
                         return_as="generator_unordered", **quiet_start)(
      joblib.delayed(_fit_factor)(k, codes_train, factors_train[:, k],
                                  codes_test, factors_test[:, k], seeds[k],
                                  classifier)
      for k in order)
  importance = np.zeros((codes_train.shape[1], num_factors))
  train_acc = np.zeros(num_factors)
  test_acc = np.zeros(num_factors)
  # The fits take minutes at full size: a line per fitted factor.  A fit's
  # cost grows with its classes (a tree per class and stage), so the time
  # left is counted in classes.
  classes_done = 0
  for done, (k, imp, tr, te) in enumerate(fits, start=1):
    importance[:, k], train_acc[k], test_acc[k] = imp, tr, te
    classes_done += classes[k]
    logging.info("DCI: classifier %d of %d fitted (factor %d, %d classes): "
                 "%s", done, num_factors, k, classes[k],
                 progress.eta_text(classes_done, sum(classes),
                                   time.monotonic() - start))
  return importance, train_acc, test_acc


def compute_dci_from_codes(codes_train, factors_train, codes_test,
                           factors_test, random_state, n_jobs=-1,
                           classifier="auto"):
  """Pure core of DCI.

  Args:
    codes_train: float [N, D], latent means.
    factors_train: int [N, K], factor indices.
    codes_test: float [M, D].
    factors_test: int [M, K].
    random_state: np.random.RandomState.
    n_jobs: int, parallel workers.
    classifier: "auto", "gbt" or "sklearn" (see ``importance_gbt``).

  Returns:
    dict: ``score`` (= disentanglement), ``disentanglement``,
    ``completeness``, ``informativeness_train``, ``informativeness_test``
    (mean accuracies), ``importance_matrix`` [D][K] and per-factor
    accuracies.
  """
  importance, train_acc, test_acc = importance_gbt(
      np.asarray(codes_train, np.float64), np.asarray(factors_train),
      np.asarray(codes_test, np.float64), np.asarray(factors_test),
      random_state, n_jobs, classifier)
  d = disentanglement(importance)
  return {
      "score": d,
      "disentanglement": d,
      "completeness": completeness(importance),
      "informativeness_train": float(np.mean(train_acc)),
      "informativeness_test": float(np.mean(test_acc)),
      "per_factor_train_accuracy": train_acc.tolist(),
      "per_factor_test_accuracy": test_acc.tolist(),
      "importance_matrix": importance.tolist(),
  }


def compute_dci(ground_truth, representation_fn, random_state,
                num_train=DEFAULTS["num_train"], num_test=DEFAULTS["num_test"],
                n_jobs=-1, chunk_images=sampling.DEFAULT_CHUNK_IMAGES,
                prefetch=True, classifier="auto"):
  """DCI of a representation.

  Args:
    ground_truth: ground-truth object (see ``sampling``).
    representation_fn: callable images [N, H, W, C] -> codes [N, D].
    random_state: np.random.RandomState.
    num_train: int, training samples (10,000).
    num_test: int, test samples (5,000).
    n_jobs: int, parallel workers for the classifiers.
    chunk_images: int, images rendered and encoded per call.
    prefetch: see ``sampling.map_chunks``.
    classifier: "auto" (default), "gbt" or "sklearn" (see
      ``importance_gbt``).

  Returns:
    dict of ``compute_dci_from_codes`` plus ``parameters``.
  """
  logging.info("DCI: sampling %d train and %d test points.", num_train,
               num_test)
  codes_train, factors_train, codes_test, factors_test = (
      sampling.sample_train_and_test(ground_truth, representation_fn, num_train,
                                     num_test, random_state, chunk_images,
                                     prefetch))
  result = compute_dci_from_codes(codes_train, factors_train, codes_test,
                                  factors_test, random_state, n_jobs,
                                  classifier)
  result["parameters"] = {
      "num_train": int(num_train), "num_test": int(num_test),
      "classifier": CLASSIFIER_NAMES[resolve_classifier(
          classifier, codes_train.shape[1])]}
  return result
