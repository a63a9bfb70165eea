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

With --pool_sizes=K,... every pool of K of the models is also scored from
the ranking's pair scores (a pair's score does not depend on the other
models): how often UDR would pick each model had only those K been trained,
and, with supervised scores, the pick's mean beside all models' mean.

Usage errors (fewer than 2 models, models with different latent sizes or
image shapes, a directory that is no export or run, bad flags) print one
line and exit with status 2.
"""

import math

from absl import flags

from tf_betavae import cli

METHODS = ("udr_lasso", "udr_spearman")
MAX_POOLS = 1_000_000  # tf_betavae.metrics.udr.MAX_POOLS, without importing TF

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
flags.DEFINE_list("pool_sizes", [], "Also score every pool of this many of "
                  "the models from the ranking's pair scores, as if only "
                  "they had been trained: how often UDR picks each model "
                  "and, with supervised scores, the pick's mean, e.g. 3,5.")
flags.DEFINE_string("output", None, "Where to write the ranking JSON.")

FLAGS = flags.FLAGS
PROGRAM = "select_models.py"
_parse_flags = cli.flags_parser(PROGRAM)


def _check(paths):
  if len(paths) < 2:
    cli.usage_error(PROGRAM, f"give at least 2 models to rank (--models DIR "
                    f"DIR ...), got {len(paths)}")
  for flag in ("num_points", "supervised_num_train", "supervised_num_eval"):
    value = getattr(FLAGS, flag)
    if value is not None and value < 2:
      cli.usage_error(PROGRAM, f"--{flag} must be at least 2")
  if not 0 <= FLAGS.seed < 2**32:
    cli.usage_error(PROGRAM, f"--seed must lie in [0, 2**32), got "
                    f"{FLAGS.seed}")
  if not (math.isfinite(FLAGS.kl_filter_threshold)
          and FLAGS.kl_filter_threshold >= 0):
    cli.usage_error(PROGRAM, f"--kl_filter_threshold must be a finite number "
                    f">= 0, got {FLAGS.kl_filter_threshold}")
  pool_sizes = _pool_sizes(len(paths))
  if FLAGS.output:
    try:
      cli.check_output_file("output", FLAGS.output)
    except cli.UsageError as e:
      cli.usage_error(PROGRAM, str(e))
  return pool_sizes


def _pool_sizes(num_models):
  sizes = []
  for text in FLAGS.pool_sizes:
    try:
      size = int(text)
    except ValueError:
      size = None
    if size is None or not 2 <= size <= num_models:
      cli.usage_error(PROGRAM, f"--pool_sizes must be integers in [2, "
                      f"{num_models}] (the number of models), got {text!r}")
    if math.comb(num_models, size) > MAX_POOLS:
      cli.usage_error(PROGRAM, f"--pool_sizes={size}: {num_models} models "
                      f"give {math.comb(num_models, size)} pools, more than "
                      f"{MAX_POOLS}; choose a smaller or larger size")
    sizes.append(size)
  return sizes


def main(argv):
  paths = list(FLAGS.models) + list(argv[1:])
  pool_sizes = _check(paths)
  # Imported here, after the flags are checked: usage errors come at once.
  from tf_betavae.experiments import selection  # pylint: disable=g-import-not-at-top
  try:
    ranking = selection.rank_to_file(
        paths, FLAGS.seed, FLAGS.output, method=FLAGS.method,
        num_points=FLAGS.num_points, dataset=FLAGS.dataset,
        data_dir=FLAGS.data_dir, supervised=FLAGS.supervised,
        supervised_num_train=FLAGS.supervised_num_train,
        supervised_num_eval=FLAGS.supervised_num_eval,
        kl_filter_threshold=FLAGS.kl_filter_threshold,
        pool_sizes=pool_sizes)
  except selection.SelectionError as e:
    cli.usage_error(PROGRAM, str(e))
  print(selection.ranking_table(ranking))


if __name__ == "__main__":
  cli.run(main, PROGRAM)
