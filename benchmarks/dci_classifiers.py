"""DCI's classifiers compared: tf_betavae.metrics.gbt against scikit-learn.

Samples full-size DCI data (10,000 train / 5,000 test points of the dSprites
simulator) once, encodes it with an exported model through
``tf_betavae.metrics.representation``, and then fits the importance matrix
twice on the same codes:

* ``gbt``: ``dci.importance_gbt(..., classifier="gbt")`` (worker processes);
* ``sklearn``: ``GradientBoostingClassifier(random_state=seed)`` with its
  defaults, one factor per process in a ``ProcessPoolExecutor(n_jobs)``.

Prints the wall seconds and the DCI scores of each and writes them as JSON.
"""

import concurrent.futures
import multiprocessing
import os
import time

from absl import app
from absl import flags
import numpy as np

from tf_betavae import data
from tf_betavae import io_utils
from tf_betavae.metrics import dci
from tf_betavae.metrics import representation
from tf_betavae.metrics import sampling

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

flags.DEFINE_string("export", os.path.join(REPO_ROOT, "exported", "dsprites",
                                           "1"), "SavedModel to encode with.")
flags.DEFINE_integer("num_train", dci.DEFAULTS["num_train"], "Train points.")
flags.DEFINE_integer("num_test", dci.DEFAULTS["num_test"], "Test points.")
flags.DEFINE_integer("n_jobs", 2, "Worker processes for both variants.")
flags.DEFINE_integer("seed", 0, "Sampling and classifier seed.")
flags.DEFINE_string("variants", "gbt,sklearn", "Comma-separated variants.")
flags.DEFINE_string("output", None, "JSON file for the results.")
FLAGS = flags.FLAGS


def _fit_sklearn(codes_train, y_train, codes_test, y_test, seed):
  """Importance [D], train and test accuracy of one factor's classifier."""
  from sklearn.ensemble import GradientBoostingClassifier  # pylint: disable=g-import-not-at-top
  model = GradientBoostingClassifier(random_state=seed)
  model.fit(codes_train, y_train)
  return (np.abs(model.feature_importances_),
          float(np.mean(model.predict(codes_train) == y_train)),
          float(np.mean(model.predict(codes_test) == y_test)))


def importance_sklearn_processes(codes_train, factors_train, codes_test,
                                 factors_test, random_state, n_jobs):
  """``dci.importance_gbt`` with scikit-learn fits in worker processes."""
  num_factors = factors_train.shape[1]
  seeds = random_state.randint(2**31 - 1, size=num_factors)
  order = np.argsort([-len(np.unique(factors_train[:, k]))
                      for k in range(num_factors)], kind="stable")
  importance = np.zeros((codes_train.shape[1], num_factors))
  train_acc, test_acc = np.zeros(num_factors), np.zeros(num_factors)
  # Spawned, not forked: the parent has TensorFlow's threads running.
  context = multiprocessing.get_context("spawn")
  with concurrent.futures.ProcessPoolExecutor(n_jobs,
                                              mp_context=context) as pool:
    futures = {k: pool.submit(_fit_sklearn, codes_train, factors_train[:, k],
                              codes_test, factors_test[:, k], seeds[k])
               for k in order}
    for k, future in futures.items():
      importance[:, k], train_acc[k], test_acc[k] = future.result()
  return importance, train_acc, test_acc


def _scores(importance, train_acc, test_acc, seconds):
  return {"wall_seconds": round(seconds, 1),
          "disentanglement": dci.disentanglement(importance),
          "completeness": dci.completeness(importance),
          "informativeness_train": float(np.mean(train_acc)),
          "informativeness_test": float(np.mean(test_acc))}


def main(argv):
  del argv
  results = {"load_before": os.getloadavg(), "cpus": os.cpu_count(),
             "num_train": FLAGS.num_train, "num_test": FLAGS.num_test,
             "n_jobs": FLAGS.n_jobs}
  gt = data.ground_truth("dsprites")
  fn = representation.saved_model_representation(FLAGS.export)
  rs = np.random.RandomState(FLAGS.seed)
  codes_train, factors_train = sampling.sample_codes_and_factors(
      gt, fn, FLAGS.num_train, rs)
  codes_test, factors_test = sampling.sample_codes_and_factors(
      gt, fn, FLAGS.num_test, rs)
  arrays = (codes_train, factors_train, codes_test, factors_test)
  for variant in FLAGS.variants.split(","):
    start = time.perf_counter()
    if variant == "gbt":
      fitted = dci.importance_gbt(*arrays, np.random.RandomState(FLAGS.seed),
                                  n_jobs=FLAGS.n_jobs, classifier="gbt")
    elif variant == "sklearn":
      fitted = importance_sklearn_processes(
          *arrays, np.random.RandomState(FLAGS.seed), FLAGS.n_jobs)
    else:
      raise app.UsageError(f"unknown variant {variant!r}")
    results[variant] = _scores(*fitted, time.perf_counter() - start)
    print(variant, results[variant], flush=True)
  results["load_after"] = os.getloadavg()
  print("load before", results["load_before"], "after", results["load_after"])
  if FLAGS.output:
    io_utils.write_json_atomic(FLAGS.output, results)


if __name__ == "__main__":
  app.run(main)
