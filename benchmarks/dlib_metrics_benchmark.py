r"""Our newer metrics beside disentanglement_lib's code for them, in one run.

For each metric (the downstream task with logistic regression and with
gradient-boosted trees, modularity and explicitness, IRS, fairness and,
capped, the reduced downstream task) this program times, one after the
other on the same machine, with the same representation function (the
SavedModel --saved_model, default exported/dsprites/2) and the same
ground truth (the dSprites simulator):

* ours: ``tf_betavae.metrics.<module>.compute_*`` with the code table that
  production gives it (``tabulate_if_worth_it``, as tf_betavae/studies/job.py
  and tf_betavae/experiments/evaluations.py call it; --code_table);
* ours without the table (--also_no_table): every sampled image rendered and
  encoded, to separate the table's share of the gain from the rest;
* disentanglement_lib 1.4's ``compute_*`` for the same metric, configured as
  its study gin files configure it (sizes, predictor, discretiser, batch
  size 16).

It prints one row per metric: seconds of each side, the ratio dlib / ours,
and each side's headline score. The two sides draw their samples in a
different order (dlib draws 16 factor vectors per call), so the scores
agree only up to sampling noise. The table is built once and shared by all
of our metrics, as in production; its build time is its own row and is
added to ours in the total row.

disentanglement_lib is not a dependency of the package. Install it apart:

  pip install --no-deps disentanglement-lib==1.4 gin-config==0.5.0

(it needs numpy, scipy, scikit-learn and six besides). Its metric modules
``import gin.tf``, which needs TensorFlow 1's ``tf.estimator``; only
``gin.configurable`` is used from it, so this program registers an empty
``gin.tf`` module before importing them. disentanglement_lib 1.4 has no
strong downstream task, so that metric is not compared.

  python benchmarks/dlib_metrics_benchmark.py            # full sizes
  python benchmarks/dlib_metrics_benchmark.py --smoke    # tiny sizes
"""

import json
import os
import sys
import time
import types

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Benchmark the checkout this file is in, not whatever tf_betavae an
# editable install elsewhere points to (python puts benchmarks/, not the
# repository root, on the path).
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags
import numpy as np

from tf_betavae import data as data_lib
from tf_betavae import metrics
from tf_betavae.metrics import downstream_task
from tf_betavae.metrics import fairness
from tf_betavae.metrics import irs
from tf_betavae.metrics import modularity_explicitness
from tf_betavae.metrics import reduced_downstream_task

ALL_METRICS = ("downstream_lr", "downstream_gbt", "modularity_explicitness",
               "irs", "fairness", "reduced_downstream")

flags.DEFINE_string("saved_model", "exported/dsprites/2",
                    "SavedModel encoder (serving_default, latent_mean).")
flags.DEFINE_list("metrics", list(ALL_METRICS),
                  f"Metrics to compare, from {', '.join(ALL_METRICS)}.")
flags.DEFINE_integer("seed", 0, "Seed of each metric's RandomState (both "
                     "sides start from the same state).")
flags.DEFINE_list("downstream_num_train", ["10", "100", "1000", "10000"],
                  "Training-set sizes of the downstream task "
                  "(disentanglement_lib: 10,100,1000,10000).")
flags.DEFINE_integer("num_test", 5000, "Test points of the downstream "
                     "tasks and of modularity/explicitness (5,000).")
flags.DEFINE_integer("num_train", 10000, "Training points of modularity/"
                     "explicitness, IRS and fairness (10,000).")
flags.DEFINE_integer("num_test_points_per_class", 100,
                     "Fairness points per (target, sensitive) pair (100).")
# disentanglement_lib's reduced task fits 2 x num_factors gradient-boosted
# classifiers per factor (50 on dSprites) at every size; at 10,000 points
# that is ten times its five-fit downstream task (an estimated 40+ minutes
# on 2 cores), so the default stops at 1,000 (the same sizes for both sides).
flags.DEFINE_list("reduced_num_train", ["10", "100", "1000"],
                  "Training-set sizes of the reduced downstream task (a cap: "
                  "disentanglement_lib's default adds 10000).")
flags.DEFINE_integer("dlib_batch_size", 16, "Images per representation call "
                     "in disentanglement_lib (its default, 16).")
flags.DEFINE_enum("code_table", "always", ["auto", "always", "never"],
                  "Code table for our side. 'always': what a production "
                  "evaluation with the β-VAE metric among its metrics builds "
                  "('auto' would decide on these metrics' images alone).")
flags.DEFINE_bool("also_no_table", True, "Also time our side without the "
                  "code table.")
flags.DEFINE_bool("dlib", True, "Run disentanglement_lib's side.")
flags.DEFINE_bool("smoke", False, "Tiny sizes (a check that it runs).")
flags.DEFINE_string("output", "", "Write the results as JSON here.")
FLAGS = flags.FLAGS


def _sizes(values):
  return tuple(int(v) for v in values)


def _apply_smoke():
  """Overrides the sizes with small ones for a quick check."""
  FLAGS.downstream_num_train = ["20", "50"]
  FLAGS.reduced_num_train = ["20", "50"]
  # disentanglement_lib's explicitness fails (IndexError in roc_auc_score)
  # when a factor value seen in training is missing from the test set;
  # 600 points cover dSprites' 40 orientations almost surely.
  FLAGS.num_test = 600
  FLAGS.num_train = 600
  FLAGS.num_test_points_per_class = 5


def import_dlib():
  """disentanglement_lib's metric modules (with gin.tf stubbed), or None."""
  try:
    import gin  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    print(f"disentanglement_lib side skipped: {e}")
    return None
  # gin.tf imports TF1's tf.estimator (absent from TF 2.16+); the metric
  # modules use nothing from it but the name, so an empty module stands in.
  if "gin.tf" not in sys.modules:
    stub = types.ModuleType("gin.tf")
    sys.modules["gin.tf"] = stub
    gin.tf = stub
  try:
    # pylint: disable=g-import-not-at-top
    from disentanglement_lib.evaluation.metrics import downstream_task as d_ds
    from disentanglement_lib.evaluation.metrics import fairness as d_fair
    from disentanglement_lib.evaluation.metrics import irs as d_irs
    from disentanglement_lib.evaluation.metrics import (
        modularity_explicitness as d_mod)
    from disentanglement_lib.evaluation.metrics import (
        reduced_downstream_task as d_red)
    from disentanglement_lib.evaluation.metrics import utils as d_utils
  except ImportError as e:
    print(f"disentanglement_lib side skipped: {e}")
    return None
  return types.SimpleNamespace(gin=gin, downstream_task=d_ds, fairness=d_fair,
                               irs=d_irs, modularity_explicitness=d_mod,
                               reduced_downstream_task=d_red, utils=d_utils)


def _gin(dlib, lines):
  """Replaces disentanglement_lib's gin bindings with ``lines``."""
  dlib.gin.clear_config()
  dlib.gin.parse_config(lines)


class Metric:
  """One metric: how to run our side, dlib's side, and read their scores."""

  def __init__(self, name, ours, dlib, ours_score, dlib_score, images,
               note=""):
    self.name = name
    self.ours = ours            # (gt, fn, rs) -> result dict
    self.dlib = dlib            # (dlib, gt, fn, rs) -> result dict
    self.ours_score = ours_score
    self.dlib_score = dlib_score
    self.images = images        # images our side encodes without a table
    self.note = note


def make_metrics():
  """The compared metrics at the flags' sizes."""
  ds_sizes = _sizes(FLAGS.downstream_num_train)
  red_sizes = _sizes(FLAGS.reduced_num_train)
  num_test, num_train = FLAGS.num_test, FLAGS.num_train
  per_class = FLAGS.num_test_points_per_class
  bs = FLAGS.dlib_batch_size
  largest = max(ds_sizes)

  def downstream(predictor, gin_name):
    def ours(gt, fn, rs):
      return downstream_task.compute_downstream_task(
          gt, fn, rs, num_train=ds_sizes, num_test=num_test,
          predictor=predictor)

    def dlib_side(dlib, gt, fn, rs):
      _gin(dlib, [f"predictor.predictor_fn = @{gin_name}"])
      return dlib.downstream_task.compute_downstream_task(
          gt, fn, rs, num_train=list(ds_sizes), num_test=num_test,
          batch_size=bs)
    key = f"{largest}:mean_test_accuracy"
    return ours, dlib_side, key

  out = []
  for name, predictor, gin_name in (
      ("downstream_lr", "logistic_regression_cv", "logistic_regression_cv"),
      ("downstream_gbt", "gradient_boosting_classifier",
       "gradient_boosting_classifier")):
    ours, dlib_side, key = downstream(predictor, gin_name)
    out.append(Metric(
        name, ours, dlib_side, lambda r, k=key: r[k], lambda r, k=key: r[k],
        downstream_task.images_sampled({"num_train": ds_sizes,
                                        "num_test": num_test}),
        f"{key}; sizes {','.join(map(str, ds_sizes))} / {num_test}"))

  def mod_dlib(dlib, gt, fn, rs):
    _gin(dlib, ["discretizer.discretizer_fn = @histogram_discretizer",
                "discretizer.num_bins = 20"])
    return dlib.modularity_explicitness.compute_modularity_explicitness(
        gt, fn, rs, num_train=num_train, num_test=num_test, batch_size=bs)
  out.append(Metric(
      "modularity_explicitness",
      lambda gt, fn, rs: modularity_explicitness.compute_modularity_explicitness(
          gt, fn, rs, num_train=num_train, num_test=num_test),
      mod_dlib, lambda r: r["modularity_score"],
      lambda r: r["modularity_score"],
      modularity_explicitness.images_sampled({"num_train": num_train,
                                              "num_test": num_test}),
      f"modularity_score; {num_train} / {num_test}"))

  def irs_dlib(dlib, gt, fn, rs):
    _gin(dlib, ["discretizer.discretizer_fn = @histogram_discretizer",
                "discretizer.num_bins = 20"])
    return dlib.irs.compute_irs(gt, fn, rs, num_train=num_train,
                                batch_size=bs)
  out.append(Metric(
      "irs", lambda gt, fn, rs: irs.compute_irs(gt, fn, rs,
                                                num_train=num_train),
      irs_dlib, lambda r: r["IRS"], lambda r: r["IRS"],
      irs.images_sampled({"num_train": num_train}),
      f"IRS; {num_train}"))

  def fair_dlib(dlib, gt, fn, rs):
    _gin(dlib, ["predictor.predictor_fn = @gradient_boosting_classifier"])
    return dlib.fairness.compute_fairness(
        gt, fn, rs, num_train=num_train,
        num_test_points_per_class=per_class, batch_size=bs)
  fair_key = "mean_fairness:mean_pred:mean_sens"
  out.append(Metric(
      "fairness",
      lambda gt, fn, rs: fairness.compute_fairness(
          gt, fn, rs, num_train=num_train,
          num_test_points_per_class=per_class),
      fair_dlib, lambda r: r[fair_key], lambda r: r[fair_key],
      fairness.images_sampled({"num_train": num_train,
                               "num_test_points_per_class": per_class}),
      f"{fair_key}; {num_train} / {per_class} per class"))

  def red_dlib(dlib, gt, fn, rs):
    # The configuration of disentanglement_lib's reduced-task tests and our
    # DEFAULTS: one dimension removed by DCI (GBT) importance, GBT predictor.
    _gin(dlib, ["predictor.predictor_fn = @gradient_boosting_classifier",
                "reduced_representation.correlation_measure = "
                "@factorwise_dci"])
    return dlib.reduced_downstream_task.compute_reduced_downstream_task(
        gt, fn, rs, num_factors_to_remove=1, num_train=list(red_sizes),
        num_test=num_test, batch_size=bs)
  red_key = f"{max(red_sizes)}:mean_test_accuracy_other_factors"
  out.append(Metric(
      "reduced_downstream",
      lambda gt, fn, rs: reduced_downstream_task.compute_reduced_downstream_task(
          gt, fn, rs, num_train=red_sizes, num_test=num_test,
          num_factors_to_remove=1, predictor="gradient_boosting_classifier"),
      red_dlib, lambda r: r[red_key], lambda r: r[red_key],
      reduced_downstream_task.images_sampled({"num_train": red_sizes,
                                              "num_test": num_test}),
      f"{red_key}; sizes {','.join(map(str, red_sizes))} / {num_test} "
      "(capped)"))
  return out


def _timed(fn):
  start = time.perf_counter()
  result = fn()
  return result, time.perf_counter() - start


def _fmt(x, spec):
  return "–" if x is None else format(x, spec)


def main(argv):
  del argv
  if FLAGS.smoke:
    _apply_smoke()
  unknown = set(FLAGS.metrics) - set(ALL_METRICS)
  if unknown:
    raise app.UsageError(f"unknown metrics {sorted(unknown)}")
  print(f"load average at start: {os.getloadavg()}", flush=True)
  dlib = import_dlib() if FLAGS.dlib else None
  gt = data_lib.ground_truth("dsprites")
  fn = metrics.saved_model_representation(
      FLAGS.saved_model, observation_shape=gt.observation_shape)
  selected = [m for m in make_metrics() if m.name in FLAGS.metrics]

  # The table as production builds it: one for all pending metrics.
  planned = sum(m.images for m in selected)
  (table_fn, info), build = _timed(lambda: metrics.tabulate_if_worth_it(
      gt, fn, planned, code_table=FLAGS.code_table))
  print(f"code table ({FLAGS.code_table}): {info['reason']}; planned images "
        f"{planned}; {'built in %.1f s' % build if info['used'] else 'none'}",
        flush=True)

  rows = []
  for m in selected:
    row = {"metric": m.name, "note": m.note}
    r, row["ours_s"] = _timed(lambda: m.ours(
        gt, table_fn, np.random.RandomState(FLAGS.seed)))
    row["ours_score"] = float(m.ours_score(r))
    print(f"{m.name}: ours {row['ours_s']:.1f} s, score "
          f"{row['ours_score']:.4f}", flush=True)
    if FLAGS.also_no_table and info["used"]:
      r, row["ours_no_table_s"] = _timed(lambda: m.ours(
          gt, fn, np.random.RandomState(FLAGS.seed)))
      row["ours_no_table_score"] = float(m.ours_score(r))
      print(f"{m.name}: ours without table {row['ours_no_table_s']:.1f} s, "
            f"score {row['ours_no_table_score']:.4f}", flush=True)
    if dlib is not None:
      r, row["dlib_s"] = _timed(lambda: m.dlib(
          dlib, gt, fn, np.random.RandomState(FLAGS.seed)))
      row["dlib_score"] = float(m.dlib_score(r))
      print(f"{m.name}: disentanglement_lib {row['dlib_s']:.1f} s, score "
            f"{row['dlib_score']:.4f}", flush=True)
    row["load_average"] = os.getloadavg()
    rows.append(row)

  print()
  print("| metric | ours s (table) | ours s (no table) | dlib s | dlib / ours "
        "| ours score | dlib score | score, sizes |")
  print("|---|---:|---:|---:|---:|---:|---:|---|")
  if info["used"]:
    print(f"| code table build (once, shared) | {build:.1f} | – | – | – | – "
          "| – | every observation encoded once |")
  for row in rows:
    dl = row.get("dlib_s")
    ratio = dl / row["ours_s"] if dl is not None else None
    print(f"| {row['metric']} | {row['ours_s']:.1f} | "
          f"{_fmt(row.get('ours_no_table_s'), '.1f')} | {_fmt(dl, '.1f')} | "
          f"{_fmt(ratio, '.2f')}{'×' if ratio else ''} | "
          f"{row['ours_score']:.4f} | {_fmt(row.get('dlib_score'), '.4f')} | "
          f"{row['note']} |")
  ours_total = sum(r["ours_s"] for r in rows) + (build if info["used"] else 0)
  if dlib is not None:
    dlib_total = sum(r["dlib_s"] for r in rows)
    no_table = (sum(r["ours_no_table_s"] for r in rows)
                if all("ours_no_table_s" in r for r in rows) else None)
    print(f"| total (ours with the build) | {ours_total:.1f} | "
          f"{_fmt(no_table, '.1f')} | {dlib_total:.1f} | "
          f"{dlib_total / ours_total:.2f}× | | | |")
  print(f"\nload average at end: {os.getloadavg()}")
  if FLAGS.output:
    with open(FLAGS.output, "w") as f:
      json.dump({"rows": rows, "code_table": info, "build_s": build,
                 "flags": {k: FLAGS[k].value for k in (
                     "saved_model", "seed", "downstream_num_train",
                     "num_test", "num_train", "num_test_points_per_class",
                     "reduced_num_train", "dlib_batch_size", "code_table")}},
                f, indent=1, default=str)


if __name__ == "__main__":
  app.run(main)
