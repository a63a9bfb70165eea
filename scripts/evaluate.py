r"""Disentanglement metrics of a SavedModel encoder or of a baseline.

  python scripts/evaluate.py --saved_model exported/run/1 --output results.json
  python scripts/evaluate.py --baseline pca --metrics beta_vae,mig \
      --protocol paper --seed 3

Writes a JSON object mapping each metric name to {"score": ..., details,
"parameters": ...} and prints a short table.  When the SavedModel is an
export of this project (an integer version directory with a
serving_default: images -> latent_mean signature) the results are also
written to metrics.json beside its saved_model.pb.

Usage errors (not a SavedModel, unknown signature or output key, input shape
not matching the dataset, bad flags) print one line and exit with status 2.
"""

import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags
from absl import logging
import numpy as np

# scripts/_cli.py: the usage-error convention shared by these programs.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _cli  # pylint: disable=g-import-not-at-top,wrong-import-position

METRIC_NAMES = ("beta_vae", "mig", "factor_vae", "dci", "sap")

flags.DEFINE_string("saved_model", None, "SavedModel directory to evaluate.")
flags.DEFINE_string("signature", "serving_default", "Signature key.")
flags.DEFINE_string("output_key", "latent_mean", "Output used as the code.")
flags.DEFINE_enum("baseline", None, ["pca", "ica", "pixels", "untrained"],
                  "Evaluate a baseline representation instead.")
flags.DEFINE_integer("baseline_dim", 10,
                     "Components (pca/ica) or latent size (untrained).")
flags.DEFINE_string("dataset", "dsprites", "Ground-truth dataset: dsprites "
                    "(the built-in simulator), dsprites_official or "
                    "shapes3d.")
flags.DEFINE_string("data_dir", None, "tensorflow-datasets data_dir of real "
                    "datasets.")
flags.DEFINE_string("dsprites_file", None, "The official dSprites .npz or "
                    ".hdf5, for --dataset=dsprites_official.")
flags.DEFINE_string("metrics", ",".join(METRIC_NAMES),
                    "Comma-separated subset of " + ", ".join(METRIC_NAMES))
flags.DEFINE_enum("protocol", "disentanglement_lib",
                  ["paper", "disentanglement_lib"],
                  "Protocol of the beta_vae metric (the others always use "
                  "disentanglement_lib's definitions and sizes).")
flags.DEFINE_string("paper_factors", "auto",
                    "Factors the beta_vae metric's paper protocol labels: "
                    "auto (on dSprites scale, orientation, pos_x, pos_y, as "
                    "the paper is recalled to have done; elsewhere every "
                    "factor), all, or comma-separated factor names "
                    "(docs/metrics.md).")
flags.DEFINE_integer("num_train", None,
                     "Overrides the training examples/samples of every metric.")
flags.DEFINE_integer("num_eval", None,
                     "Overrides the evaluation/test examples of every metric.")
flags.DEFINE_integer("seed", 0, "Seed; each metric uses RandomState(seed).")
flags.DEFINE_integer("batch_size", 2048, "Images per SavedModel call.")
flags.DEFINE_enum("code_table", "auto", ["auto", "always", "never"],
                  "Encode every distinct image of the dataset once and look "
                  "codes up (scores unchanged; see "
                  "tf_betavae/metrics/code_table.py). auto: when the metrics "
                  "would encode at least as many images as the dataset "
                  "has and the table fits in 2 GiB.")
flags.DEFINE_string("output", None, "Where to write the results JSON.")
flags.DEFINE_bool("write_beside_model", True,
                  "Also write metrics.json beside saved_model.pb of a project "
                  "export.")

FLAGS = flags.FLAGS


class UsageError(Exception):
  """A user error reported as one line with exit status 2."""


def _fail(message):
  _cli.usage_error("evaluate.py", message)


def _ground_truth(name):
  from tf_betavae import data
  try:
    return data.ground_truth(name, data_dir=FLAGS.data_dir,
                             dsprites_file=FLAGS.dsprites_file)
  except (data.UnknownDatasetError, data.DatasetUnavailableError) as e:
    raise UsageError(str(e)) from e


def _metric_names():
  names = [n.strip() for n in FLAGS.metrics.split(",") if n.strip()]
  unknown = [n for n in names if n not in METRIC_NAMES]
  if unknown or not names:
    raise UsageError(f"--metrics must be a comma-separated subset of "
                     f"{','.join(METRIC_NAMES)}; got {FLAGS.metrics!r}")
  return names


def _to_json(value):
  if isinstance(value, dict):
    return {str(k): _to_json(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [_to_json(v) for v in value]
  if isinstance(value, np.ndarray):
    return _to_json(value.tolist())
  if isinstance(value, np.generic):
    return value.item()
  return value


def _table(results):
  lines = [f"{'metric':<12}{'score':>8}  details"]
  keys = ("train_accuracy", "eval_accuracy", "completeness",
          "informativeness_test", "num_active_dims")
  for name, r in results.items():
    details = ", ".join(
        f"{k}={r[k]:.4g}" if isinstance(r[k], float) else f"{k}={r[k]}"
        for k in keys if k in r)
    lines.append(f"{name:<12}{r['score']:>8.4f}  {details}")
  return "\n".join(lines)


def run():
  """Evaluates; returns the results dict.  Raises UsageError."""
  from tf_betavae import metrics
  from tf_betavae.metrics import baselines
  from tf_betavae.metrics import representation
  from tf_betavae.data.indexed import MissingFactorsError

  if bool(FLAGS.saved_model) == bool(FLAGS.baseline):
    raise UsageError("give exactly one of --saved_model DIR or --baseline "
                     "pca|ica|pixels|untrained")
  for flag in ("num_train", "num_eval"):
    if getattr(FLAGS, flag) is not None and getattr(FLAGS, flag) < 2:
      raise UsageError(f"--{flag} must be at least 2")
  names = _metric_names()
  gt = _ground_truth(FLAGS.dataset)
  if "beta_vae" in names and FLAGS.protocol == "paper":
    from tf_betavae.metrics import beta_vae  # pylint: disable=g-import-not-at-top
    try:
      beta_vae.resolve_factors(gt, FLAGS.paper_factors)
    except ValueError as e:
      raise UsageError(f"--paper_factors: {e}") from e
  beside_model = None
  if FLAGS.saved_model:
    try:
      fn = representation.saved_model_representation(
          FLAGS.saved_model, FLAGS.signature, FLAGS.output_key,
          FLAGS.batch_size, observation_shape=gt.observation_shape)
    except representation.RepresentationError as e:
      raise UsageError(str(e)) from e
    source = {"saved_model": os.path.abspath(FLAGS.saved_model),
              "signature": FLAGS.signature, "output_key": FLAGS.output_key}
    if FLAGS.write_beside_model and representation.is_project_export(
        FLAGS.saved_model, fn.input_name, FLAGS.signature, FLAGS.output_key):
      beside_model = os.path.join(FLAGS.saved_model, "metrics.json")
  else:
    fn = baselines.make_baseline(
        FLAGS.baseline, gt, np.random.RandomState(FLAGS.seed), FLAGS.seed,
        FLAGS.baseline_dim)
    source = {"baseline": FLAGS.baseline, "dim": FLAGS.baseline_dim}

  try:
    fn, table_info = metrics.prepare_representation(
        gt, fn, names, protocol=FLAGS.protocol, num_train=FLAGS.num_train,
        num_eval=FLAGS.num_eval, code_table=FLAGS.code_table)
  except metrics.CodeTableError as e:
    raise UsageError(f"--code_table=always: {e}") from e
  if table_info["used"]:
    logging.info("Code table: %d observations encoded once in %.1f s.",
                 table_info["observations"], table_info["build_seconds"])
  results = {}
  for name in names:
    logging.info("Computing %s.", name)
    start = time.time()
    try:
      result = metrics.run_metric(
          name, gt, fn, np.random.RandomState(FLAGS.seed),
          protocol=FLAGS.protocol, num_train=FLAGS.num_train,
          num_eval=FLAGS.num_eval, paper_factors=FLAGS.paper_factors)
    except MissingFactorsError as e:
      raise UsageError(f"metric {name}: {e}; this metric needs every "
                       "combination of the grid (use the complete file)") from e
    result.update(representation=source, dataset=FLAGS.dataset,
                  seed=FLAGS.seed, seconds=round(time.time() - start, 2),
                  code_table=table_info)
    results[name] = _to_json(result)

  text = json.dumps(results, indent=2, sort_keys=True)
  for path in filter(None, (FLAGS.output, beside_model)):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
      f.write(text + "\n")
    logging.info("Wrote %s.", path)
  if beside_model:
    from tf_betavae import export  # pylint: disable=g-import-not-at-top
    export.record_metric_scores(FLAGS.saved_model, results)
  return results


_parse_flags = _cli.flags_parser("evaluate.py")


def main(argv):
  if len(argv) > 1:
    _fail(f"unexpected arguments: {' '.join(argv[1:])}")
  try:
    results = run()
  except UsageError as e:
    _fail(str(e))
  print(_table(results))


if __name__ == "__main__":
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
      __file__))))
  app.run(main, flags_parser=_parse_flags)
