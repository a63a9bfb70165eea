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

from absl import flags

from tf_betavae import cli
from tf_betavae.experiments import selection_command as command

# One flag per SelectModelsFlags field, with its default and help.
cli.define_config_flags(command.SelectModelsFlags)

FLAGS = flags.FLAGS
PROGRAM = command.PROGRAM
_parse_flags = cli.flags_parser(PROGRAM)


def main(argv):
  try:
    table = command.run(argv, FLAGS)
  except cli.UsageError as e:
    cli.usage_error(PROGRAM, str(e))
  print(table)


if __name__ == "__main__":
  cli.run(main, PROGRAM)
