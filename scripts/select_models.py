r"""Ranks trained models without labels by UDR (Duan et al., ICLR 2020).

  python scripts/select_models.py --models exported/a/1 exported/b/1 runs/c \
      --method=udr_lasso --output=ranking.json
  python scripts/select_models.py --models=runs/s0,runs/s1,runs/s2 \
      --method=udr_spearman --num_points=10000 --supervised=none

Each model is a SavedModel export of this package, a folder of export
versions, or a training run directory (its train_summary.json names the
export).  All models encode one shared seeded sample of images of the
dataset their exports record (or --dataset); the ranking, best first, is
printed and written to --output as JSON (see docs/model_selection.md).
On datasets with factors, supervised scores (beta_vae with the
disentanglement_lib protocol, and MIG) go beside each model: read from
metrics.json beside the export when it holds them, else computed at
--supervised_num_train / --supervised_num_eval.

Usage errors (fewer than 2 models, models with different latent sizes or
image shapes, a directory that is no export or run, bad flags) print one
line and exit with status 2.
"""

import os
import sys

import json

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import logging  # pylint: disable=g-import-not-at-top,wrong-import-position
import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position

# scripts/_cli.py: the usage-error convention shared by these programs.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _cli  # pylint: disable=g-import-not-at-top,wrong-import-position

METHODS = ("udr_lasso", "udr_spearman")

flags.DEFINE_list("models", [], "Exports or run directories to rank "
                  "(comma-separated; more may follow as plain arguments).")
flags.DEFINE_enum("method", "udr_lasso", list(METHODS),
                  "UDR's similarity of latents: Lasso coefficients "
                  "(alpha 0.1) or Spearman rank correlations.")
flags.DEFINE_integer("num_points", 10000, "Images in the shared sample "
                     "(disentanglement_lib: 10,000).")
flags.DEFINE_float("kl_filter_threshold", 0.01, "Latents whose mean KL is at "
                   "or below this many nats are ignored "
                   "(disentanglement_lib: 0.01).")
flags.DEFINE_integer("seed", 0, "Seed of the shared sample (and of any "
                     "supervised metric computed).")
flags.DEFINE_string("dataset", None, "Dataset to sample; default: the one "
                    "the exports record.")
flags.DEFINE_string("data_dir", None, "tensorflow-datasets data_dir of real "
                    "datasets (or the dSprites file for dsprites_official).")
flags.DEFINE_enum("supervised", "auto", ["auto", "none"],
                  "auto: supervised scores beside each model where the "
                  "dataset has factors; none: UDR only.")
flags.DEFINE_integer("supervised_num_train", None, "Training examples of "
                     "computed supervised metrics (default: "
                     "disentanglement_lib's).")
flags.DEFINE_integer("supervised_num_eval", None, "Evaluation examples of "
                     "computed supervised metrics (default: "
                     "disentanglement_lib's).")
flags.DEFINE_string("output", None, "Where to write the ranking JSON.")

FLAGS = flags.FLAGS


class UsageError(Exception):
  """A user error reported as one line with exit status 2."""


def _fail(message):
  _cli.usage_error("select_models.py", message)


def _format(value):
  return "-" if value is None else f"{value:.4f}"


def table(ranking):
  """The ranking as text, one row per model, best first."""
  names = sorted({name for entry in ranking["models"]
                  for name in entry.get("supervised", {})})
  header = f"{'rank':<5}{'udr':>8}{'informative':>13}" + "".join(
      f"{name:>11}" for name in names) + "  model"
  lines = [f"{ranking['method']} on {ranking['dataset']}", header]
  for entry in ranking["models"]:
    supervised = entry.get("supervised", {})
    latents = f"{entry['informative_latents']}/{entry['latent_dim']}"
    lines.append(
        f"{entry['rank']:<5}{entry['udr']:>8.4f}{latents:>13}" + "".join(
            f"{_format(supervised.get(n, {}).get('score')):>11}"
            for n in names) + f"  {entry['model']}")
  return "\n".join(lines)


def run(paths):
  """Ranks the models; returns the ranking dict.  Raises UsageError."""
  if len(paths) < 2:
    raise UsageError(f"give at least 2 models to rank (--models DIR DIR "
                     f"...), got {len(paths)}")
  for flag in ("num_points", "supervised_num_train", "supervised_num_eval"):
    value = getattr(FLAGS, flag)
    if value is not None and value < 2:
      raise UsageError(f"--{flag} must be at least 2")
  from tf_betavae import selection  # pylint: disable=g-import-not-at-top
  try:
    ranking = selection.rank_models(
        paths, np.random.RandomState(FLAGS.seed), method=FLAGS.method,
        num_points=FLAGS.num_points, dataset=FLAGS.dataset,
        data_dir=FLAGS.data_dir, supervised=FLAGS.supervised,
        supervised_num_train=FLAGS.supervised_num_train,
        supervised_num_eval=FLAGS.supervised_num_eval,
        kl_filter_threshold=FLAGS.kl_filter_threshold)
  except selection.SelectionError as e:
    raise UsageError(str(e)) from e
  ranking["parameters"]["seed"] = FLAGS.seed
  if FLAGS.output:
    os.makedirs(os.path.dirname(os.path.abspath(FLAGS.output)), exist_ok=True)
    with open(FLAGS.output, "w") as f:
      json.dump(ranking, f, indent=2, sort_keys=True)
      f.write("\n")
    logging.info("Wrote %s.", FLAGS.output)
  return ranking


_parse_flags = _cli.flags_parser("select_models.py")


def main(argv):
  paths = list(FLAGS.models) + list(argv[1:])
  try:
    ranking = run(paths)
  except UsageError as e:
    _fail(str(e))
  print(table(ranking))


if __name__ == "__main__":
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
      __file__))))
  app.run(main, flags_parser=_parse_flags)
