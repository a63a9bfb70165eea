"""The reproduce program (scripts/reproduce.py) behind its flags.

scripts/reproduce.py defines one flag per field of ``ReproduceFlags``
(``tf_betavae.cli.define_config_flags``) and calls ``run``, which turns
the values into ``settings.Settings``, reproduces the table
(``reproduce.reproduce``), writes the markdown and JSON and returns the
summary lines the program prints.  Usage errors raise ``cli.UsageError``
(the program exits 2 with one line); a run whose loss turns non-finite
raises ``Failed`` (exit 1).

Importing this module does not import TensorFlow: pinned worker processes
import the program before they are pinned, and must not load it then.
"""

import dataclasses
import os
import shlex


from tf_betavae import cli

PROGRAM = "reproduce.py"
PRESET_NAMES = ("cpu", "select", "select_factor_vae", "quick", "gpu")
# tf_betavae.models.ARCHITECTURES, written out: importing the models
# imports TensorFlow, whose start-up lines would follow a usage error.
ARCHITECTURES = ("conv", "mlp", "broadcast")
# Exit status of --strict when a target fails.
STRICT_FAILURE_STATUS = 3


class Failed(Exception):
  """The reproduction stopped (a non-finite loss); the message says why."""


_flag = cli.flag_field


# The recipe flags default to None: unset, the preset's recipe or else
# tf_betavae.experiments.settings.Recipe (the CPU recipe) decides, so their
# defaults live in one place.
_RECIPE_DEFAULT = (" Default: the preset's, else the CPU recipe's "
                   "(tf_betavae/experiments/settings.py Recipe).")


def _recipe_flag(help_text, kind, **metadata):
  return _flag(None, help_text + _RECIPE_DEFAULT, kind=kind, **metadata)


@dataclasses.dataclass
class ReproduceFlags:
  """The program's settings; each field is a flag of its name.

  A field named like a field of ``settings.Recipe`` is a recipe flag: given,
  it overrides the preset's recipe.
  """

  preset: str = _flag(
      "cpu", "Sizes: cpu (< 2 h on 2 cores), select (the cpu recipe on 5 "
      "seeds, the VAE and baselines on 3; UDR picks a β-VAE, scored at full "
      "sizes), select_factor_vae (FactorVAE, 8 latents, on 7 seeds, the "
      "β-VAE, VAE and baselines on 1; UDR (Spearman) picks a FactorVAE "
      "seed, scored at full sizes; < 3 h on 2 cores), quick (minutes), gpu "
      "(paper-scale steps, full metric sizes).", choices=PRESET_NAMES)
  udr_criterion: str = _flag(
      None, "The UDR whose best seed is picked (default: the preset's; "
      "Lasso except for select_factor_vae).",
      choices=("udr_lasso", "udr_spearman"))
  reference_num_seeds: int = _flag(
      None, "The VAE and the baselines (and, for select_factor_vae, the "
      "β-VAE) use the first this many seeds (default: the preset's; every "
      "seed for cpu, 3 for select, 1 for select_factor_vae).",
      kind="integer")
  udr_num_points: int = _flag(
      None, "Images of the shared sample UDR compares seeds on (default: the "
      "preset's, 10,000).", kind="integer")
  output_md: str = _flag("docs/results.md", "Markdown output; the JSON goes "
                         "beside it (.json).")
  work_dir: str = _flag("reproduce_runs", "Runs and cached evaluations.")
  dsprites_file: str = _flag(None, "The official dSprites .npz or .hdf5; "
                             "default the built-in simulator.",
                             kind="string")
  beta: float = _recipe_flag("β of the β-VAE runs (objective H).", "float")
  beta_hold_steps: int = _recipe_flag(
      "Steps the β-VAE trains at KL weight 1 before its warm-up (0 = none); "
      "see scripts/train.py.", "integer")
  beta_warmup_steps: int = _recipe_flag(
      "Steps over which the β-VAE's KL weight then rises linearly from 1 to "
      "--beta (0 = none); see scripts/train.py.", "integer")
  learning_rate: float = _recipe_flag("Adam learning rate.", "float")
  lr_warmup_steps: int = _recipe_flag(
      "Steps of a linear learning-rate warm-up (0 = none); see "
      "scripts/train.py.", "integer")
  lr_decay: str = _recipe_flag(
      "Learning rate after the warm-up: constant, or cosine decay to 0 at "
      "the last step.", "enum", choices=("constant", "cosine"))
  objective: str = _recipe_flag("β-VAE objective.", "enum",
                                choices=("H", "B"))
  batch_size: int = _recipe_flag("Batch size.", "integer")
  arch: str = _recipe_flag("Architecture.", "enum", choices=ARCHITECTURES)
  latent_dim: int = _recipe_flag(
      "Latents, also the PCA/ICA and untrained-encoder dimension.",
      "integer")
  gamma: float = _recipe_flag("γ of objective B and of the annealed_vae row "
                              "of --methods.", "float")
  capacity_max: float = _recipe_flag("Final capacity (nats), objective B.",
                                     "float")
  capacity_steps: int = _recipe_flag(
      "Capacity ramp steps, objective B and the annealed_vae row of "
      "--methods.", "integer")
  methods: list = _flag(
      [], "Other methods, a row each, trained like the β-VAE: annealed_vae, "
      "factor_vae, dip_vae_i, dip_vae_ii, beta_tc_vae.", kind="list")
  method_values: list = _flag(
      [], "method:value pairs, e.g. factor_vae:20: the value of the "
      "hyperparameter of a method of --methods (capacity_max, factor_gamma, "
      "lambda_od or beta); default the method paper's dSprites value "
      "(tf_betavae.experiments.settings.METHOD_VALUES).", kind="list")
  steps: int = _flag(None, "Training steps (default: the preset's).",
                     kind="integer")
  seeds: list = _flag(None, "Seeds (default: 0..num_seeds-1).", kind="list")
  num_seeds: int = _flag(None, "Number of seeds (default: the preset's, 3 "
                         "for cpu and gpu).", kind="integer")
  num_train: int = _flag(None, "Training examples/samples of every metric "
                         "(default: the preset's).", kind="integer")
  num_eval: int = _flag(None, "Evaluation examples/samples of every metric "
                        "(default: the preset's).", kind="integer")
  baseline_num_fit: int = _flag(None, "Images PCA/ICA are fitted on "
                                "(default: the preset's).", kind="integer")
  metric_seed: int = _flag(0, "Metrics of seed s use RandomState(metric_seed "
                           "+ s).")
  metrics: list = _flag(
      None, "Metric keys to evaluate (default all: beta_vae_paper (paper "
      "protocol, dSprites' four factors without shape), beta_vae_paper_all "
      "(all five), beta_vae_dl, mig, factor_vae, dci, sap).", kind="list")
  parallel_runs: int = _flag(
      None, "Study jobs (each trains and scores one model and seed), then "
      "baseline evaluations, run at once, each in a worker process pinned "
      "to its share of the CPUs, with that many TensorFlow threads "
      "(default: the preset's). Part of the study: a job's numbers depend "
      "on its threads.", kind="integer")
  code_table: str = _flag(
      "auto", "Baselines: auto: a baseline whose metrics would encode more "
      "images than the dataset's distinct observations encodes each "
      "observation once and looks codes up (scores do not change); never: "
      "always encode the sampled images. Study jobs always use auto.",
      choices=("auto", "never"))
  representation: str = _flag(
      "mean", "What the trained models' metrics score: mean (the posterior "
      "mean) or sampled (one sample from the posterior per image), "
      "disentanglement_lib's two postprocessings. Baselines have no "
      "posterior: their codes either way.", choices=("mean", "sampled"))
  strict: bool = _flag(False, "Exit with status 3 if a target fails.")


def seeds_of(values):
  """The seeds of --seeds as ints, or None when not given.

  Raises:
    cli.UsageError: an item is no integer, or --num_seeds is given too.
  """
  if values.seeds is None:
    return None
  try:
    seeds = [int(s) for s in values.seeds]
  except ValueError:
    raise cli.UsageError(f"--seeds must be comma-separated integers, got "
                         f"{','.join(values.seeds)!r}") from None
  if values.num_seeds is not None:
    raise cli.UsageError("give --seeds or --num_seeds, not both")
  return seeds


def settings_of(values):
  """The reproduction's settings.Settings of the flag values.

  Args:
    values: ReproduceFlags.

  Raises:
    cli.UsageError: bad seeds (see seeds_of).
    settings.UsageError: any other bad value.
  """
  from tf_betavae.experiments import settings as settings_lib  # pylint: disable=g-import-not-at-top
  seeds = seeds_of(values)
  if values.steps is not None and values.steps < 1:
    raise settings_lib.UsageError(f"--steps must be positive, got "
                                  f"{values.steps}")
  if values.dsprites_file and not os.path.exists(values.dsprites_file):
    raise settings_lib.UsageError(f"--dsprites_file {values.dsprites_file} "
                                  "does not exist")
  # Only the recipe flags given override the preset's recipe
  # (select_factor_vae sets latent_dim), which overrides Recipe's defaults.
  # Every Recipe field with a flag of its name is a recipe flag, so a new
  # field gets through once its flag is defined.
  recipe_values = {
      field.name: getattr(values, field.name)
      for field in dataclasses.fields(settings_lib.Recipe)
      if getattr(values, field.name, None) is not None}
  return settings_lib.settings_from_preset(
      values.preset, values.work_dir, recipe_values=recipe_values,
      udr_criterion=values.udr_criterion, steps=values.steps,
      seeds=seeds, num_seeds=values.num_seeds, num_train=values.num_train,
      num_eval=values.num_eval, baseline_num_fit=values.baseline_num_fit,
      metric_seed=values.metric_seed, parallel_runs=values.parallel_runs,
      code_table=values.code_table, udr_num_points=values.udr_num_points,
      representation=values.representation,
      reference_num_seeds=values.reference_num_seeds,
      methods=settings_lib.parse_methods(values.methods,
                                         values.method_values),
      metrics=([m.strip() for m in values.metrics if m.strip()]
               if values.metrics is not None else None),
      dsprites_file=(os.path.abspath(values.dsprites_file)
                     if values.dsprites_file else None))


def run(argv, flag_values, command_argv):
  """Checks the flags, reproduces the table and writes its files.

  Args:
    argv: the program's remaining arguments (absl's argv).
    flag_values: the parsed absl FlagValues of scripts/reproduce.py.
    command_argv: the program's whole command line (sys.argv), recorded in
      the markdown and the JSON.

  Returns:
    (lines, exit status): the summary lines to print, and 0, or
    STRICT_FAILURE_STATUS under --strict when a target fails.

  Raises:
    cli.UsageError: a bad flag value, missing data, a directory in use.
    Failed: a run's loss turned non-finite.
  """
  values = cli.command_flags(ReproduceFlags, argv, flag_values)
  # Imported here, not at the top: see the module's docstring.
  from tf_betavae import data  # pylint: disable=g-import-not-at-top
  from tf_betavae import locking  # pylint: disable=g-import-not-at-top
  from tf_betavae import training  # pylint: disable=g-import-not-at-top
  from tf_betavae.experiments import report  # pylint: disable=g-import-not-at-top
  from tf_betavae.experiments import reproduce  # pylint: disable=g-import-not-at-top
  from tf_betavae.experiments import settings as settings_lib  # pylint: disable=g-import-not-at-top
  from tf_betavae.studies import engines  # pylint: disable=g-import-not-at-top
  command = "python " + " ".join(shlex.quote(a) for a in command_argv)
  cli.check_output_dir("work_dir", values.work_dir)
  cli.check_output_file("output_md", values.output_md)
  try:
    results = reproduce.reproduce(settings_of(values))
  except (settings_lib.UsageError, training.ConfigError,
          data.UnknownDatasetError, data.DatasetUnavailableError,
          locking.LockHeldError) as e:
    raise cli.UsageError(str(e).splitlines()[0] if str(e)
                         else type(e).__name__) from None
  except (training.NonFiniteLossError, engines.JobsFailed) as e:
    raise Failed(str(e)) from None
  results["command"] = command  # so the JSON says what made it, too
  md_path = report.write_markdown(results, values.output_md, command)
  json_path = report.write_json(results,
                                report.json_path_for(values.output_md))
  lines = report.summary_lines(results, md_path, json_path)
  failed = values.strict and not results["passed"]
  return lines, STRICT_FAILURE_STATUS if failed else 0
