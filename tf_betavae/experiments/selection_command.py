"""The select_models program (scripts/select_models.py) behind its flags.

scripts/select_models.py defines one flag per field of
``SelectModelsFlags`` (``tf_betavae.cli.define_config_flags``) and calls
``run``, which checks the values, ranks the models
(``selection.rank_to_file``) and returns the table the program prints.
Usage errors raise ``cli.UsageError`` (the program exits 2 with one line).

Importing this module does not import TensorFlow: the flags are checked
first, so a usage error comes at once.
"""

import dataclasses
import math

from tf_betavae import cli

PROGRAM = "select_models.py"
METHODS = ("udr_lasso", "udr_spearman")
MAX_POOLS = 1_000_000  # tf_betavae.metrics.udr.MAX_POOLS, without importing TF


_flag = cli.flag_field


@dataclasses.dataclass
class SelectModelsFlags:
  """The program's settings; each field is a flag of its name."""

  models: list = _flag(
      [], "Exports or run directories to rank (comma-separated; more may "
      "follow as plain arguments).", kind="list")
  method: str = _flag(
      "udr_lasso", "UDR's similarity of latents: Lasso coefficients (alpha "
      "0.1) or Spearman rank correlations.", choices=METHODS)
  num_points: int = _flag(10000, "Images in the shared sample "
                          "(disentanglement_lib: 10,000).")
  kl_filter_threshold: float = _flag(
      0.01, "Latents whose mean KL is at or below this many nats are "
      "ignored (disentanglement_lib: 0.01).")
  seed: int = _flag(0, "Seed of the shared sample (and of any supervised "
                    "metric computed).")
  dataset: str = _flag(None, "Dataset to sample; default: the one the "
                       "exports record.", kind="string")
  data_dir: str = _flag(
      None, "tensorflow-datasets data_dir of real datasets (or the dSprites "
      "file for dsprites_official).", kind="string")
  supervised: str = _flag(
      "auto", "auto: supervised scores beside each model where the dataset "
      "has factors; none: UDR only.", choices=("auto", "none"))
  supervised_num_train: int = _flag(
      None, "Training examples of computed supervised metrics (default: "
      "disentanglement_lib's).", kind="integer")
  supervised_num_eval: int = _flag(
      None, "Evaluation examples of computed supervised metrics (default: "
      "disentanglement_lib's).", kind="integer")
  pool_sizes: list = _flag(
      [], "Also score every pool of this many of the models from the "
      "ranking's pair scores, as if only they had been trained: how often "
      "UDR picks each model and, with supervised scores, the pick's mean, "
      "e.g. 3,5.", kind="list")
  output: str = _flag(None, "Where to write the ranking JSON.",
                      kind="string")


def check(values, paths):
  """Raises cli.UsageError for a bad value; returns the pool sizes.

  Args:
    values: SelectModelsFlags.
    paths: list of str, the models to rank.

  Returns:
    list of int: the sizes of --pool_sizes, each in [2, len(paths)].
  """
  if len(paths) < 2:
    raise cli.UsageError(f"give at least 2 models to rank (--models DIR DIR "
                         f"...), got {len(paths)}")
  for name in ("num_points", "supervised_num_train", "supervised_num_eval"):
    value = getattr(values, name)
    if value is not None and value < 2:
      raise cli.UsageError(f"--{name} must be at least 2")
  cli.check_seed("seed", values.seed)
  if not (math.isfinite(values.kl_filter_threshold)
          and values.kl_filter_threshold >= 0):
    raise cli.UsageError(f"--kl_filter_threshold must be a finite number >= "
                         f"0, got {values.kl_filter_threshold}")
  pool_sizes = pool_sizes_of(values.pool_sizes, len(paths))
  if values.output:
    cli.check_output_file("output", values.output)
  return pool_sizes


def pool_sizes_of(texts, num_models):
  """The pool sizes given as text, as ints.

  Args:
    texts: list of str, the items of --pool_sizes.
    num_models: int, the number of models ranked.

  Returns:
    list of int, each in [2, num_models].

  Raises:
    cli.UsageError: an item is not such an integer, or its pools number
      more than MAX_POOLS.
  """
  sizes = []
  for text in texts:
    try:
      size = int(text)
    except ValueError:
      size = None
    if size is None or not 2 <= size <= num_models:
      raise cli.UsageError(f"--pool_sizes must be integers in [2, "
                           f"{num_models}] (the number of models), got "
                           f"{text!r}")
    if math.comb(num_models, size) > MAX_POOLS:
      raise cli.UsageError(f"--pool_sizes={size}: {num_models} models give "
                           f"{math.comb(num_models, size)} pools, more than "
                           f"{MAX_POOLS}; choose a smaller or larger size")
    sizes.append(size)
  return sizes


def run(argv, flag_values):
  """Checks the flags, ranks the models and writes --output.

  Args:
    argv: the program's remaining arguments (absl's argv): more models.
    flag_values: the parsed absl FlagValues of scripts/select_models.py.

  Returns:
    str: the ranking table.

  Raises:
    cli.UsageError: a bad flag value, or models that cannot be ranked.
  """
  values = SelectModelsFlags(**cli.config_values_from_flags(
      SelectModelsFlags, flag_values))
  paths = list(values.models) + list(argv[1:])
  pool_sizes = check(values, paths)
  # Imported here, after the flags are checked: usage errors come at once.
  from tf_betavae.experiments import selection  # pylint: disable=g-import-not-at-top
  try:
    ranking = selection.rank_to_file(
        paths, values.seed, values.output, method=values.method,
        num_points=values.num_points, dataset=values.dataset,
        data_dir=values.data_dir, supervised=values.supervised,
        supervised_num_train=values.supervised_num_train,
        supervised_num_eval=values.supervised_num_eval,
        kl_filter_threshold=values.kl_filter_threshold,
        pool_sizes=pool_sizes)
  except selection.SelectionError as e:
    raise cli.UsageError(str(e)) from None
  return selection.ranking_table(ranking)
