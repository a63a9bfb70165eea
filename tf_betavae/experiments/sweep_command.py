"""The sweep program (scripts/sweep.py) behind its flags.

scripts/sweep.py defines one flag per field of ``SweepFlags``
(``tf_betavae.cli.define_config_flags``) and calls ``run``, which checks
the values, prepares the sweep (``sweep_settings``), runs it
(``sweep.run_sweep``) and returns the summary lines the program prints.
Usage errors raise ``cli.UsageError`` (the program exits 2 with one line)
before anything is written; a run whose loss turns non-finite raises
``Failed`` (exit 1).

Importing this module does not import TensorFlow: the flags are checked
first, so a usage error comes at once.
"""

import dataclasses
import os


from tf_betavae import cli

PROGRAM = "sweep.py"
METRIC_NAMES = ("beta_vae", "mig", "factor_vae", "dci", "sap")
# tf_betavae.models.ARCHITECTURES, written out: importing the models
# imports TensorFlow, whose start-up lines would follow a usage error.
ARCHITECTURES = ("conv", "mlp", "broadcast")


class Failed(Exception):
  """The sweep stopped (a non-finite loss); the message says why."""


_flag = cli.flag_field


@dataclasses.dataclass
class SweepFlags:
  """The program's settings; each field is a flag of its name.

  The training settings from ``arch`` on are passed to every run
  (``PASS_THROUGH``); unset (None) ones take TrainConfig's defaults.
  """

  method: str = _flag(
      "beta_vae", "The method whose hyperparameter is swept: beta_vae, "
      "annealed_vae, factor_vae, dip_vae_i, dip_vae_ii, beta_tc_vae.")
  values: list = _flag(
      None, "Values of the method's hyperparameter (comma-separated; "
      "default: 1,4,16 for beta_vae, else the method's study grid).",
      kind="list")
  betas: list = _flag(None, "β values of a beta_vae sweep (the older name "
                      "of --values; default 1,4,16).", kind="list")
  study: bool = _flag(
      False, "disentanglement_lib's unsupervised study: its grid of the "
      "method's hyperparameter and its training settings (train.py "
      "--preset=study); explicit flags override them.")
  seeds: list = _flag(["0"], "Seeds (comma-separated integers).", kind="list")
  steps: int = _flag(None, "Training steps of each run (default 6000; "
                     "300,000 with --study).", kind="integer")
  sweep_dir: str = _flag(
      "sweeps/dsprites", "One run directory per (value, seed), plus "
      "sweep.csv and sweep.png.")
  metric: str = _flag("beta_vae", "Disentanglement metric that scores each "
                      "run.", choices=METRIC_NAMES)
  protocol: str = _flag("disentanglement_lib", "Protocol of the beta_vae "
                        "metric.", choices=("disentanglement_lib", "paper"))
  num_train: int = _flag(None, "Overrides the metric's training "
                         "examples/samples.", kind="integer")
  num_eval: int = _flag(None, "Overrides the metric's evaluation "
                        "examples/samples.", kind="integer")
  metric_seed: int = _flag(0, "Seed of the metric's sampling.")
  udr_num_points: int = _flag(
      10000, "Images of the shared sample on which UDR compares the seeds "
      "of each value (with two or more seeds; docs/model_selection.md).")
  num_reconstruction_images: int = _flag(
      512, "Held-out images of the reconstruction error.")
  dataset: str = _flag(
      "dsprites", "A dataset with ground-truth factors (the metrics need "
      "them), e.g. dsprites (the simulator).")
  arch: str = _flag(None, "Architecture (training default: conv).",
                    choices=ARCHITECTURES)
  latent_dim: int = _flag(None, "Latents (training default: 10).",
                          kind="integer")
  likelihood: str = _flag(None, "Pixel likelihood (training default: "
                          "bernoulli).", choices=("bernoulli", "gaussian"))
  gaussian_stddev: float = _flag(
      None, "Fixed pixel std of the gaussian likelihood (default 1).",
      kind="float")
  batch_size: int = _flag(None, "Batch size (default 64).", kind="integer")
  learning_rate: float = _flag(
      None, "Adam learning rate (default 5e-4; 1e-4 with --study and for "
      "--method=annealed_vae).", kind="float")
  log_every: int = _flag(None, "Steps between log lines (default 100, "
                         "capped at --steps).", kind="integer")
  checkpoint_every: int = _flag(None, "Steps between checkpoints (default "
                                "1000, capped at --steps).", kind="integer")
  jit_compile: bool = _flag(False, "XLA-compile the training step.")
  data_dir: str = _flag(None, "Where real datasets live.", kind="string")
  # Settings of one method (see scripts/train.py).
  gamma: float = _flag(None, "annealed_vae: the weight of |KL - C| "
                       "(default 1000).", kind="float")
  capacity_steps: int = _flag(None, "annealed_vae: steps over which C rises "
                              "to its value (default 100,000).",
                              kind="integer")
  discriminator_learning_rate: float = _flag(
      None, "factor_vae: Adam learning rate of the discriminator (default "
      "1e-4).", kind="float")
  lambda_d_factor: float = _flag(
      None, "dip_vae_i / dip_vae_ii: the diagonal weight is lambda_d_factor "
      "* lambda_od (default 10 for dip_vae_i, 1 for dip_vae_ii).",
      kind="float")


# SweepFlags fields every run's TrainConfig takes as they are.
PASS_THROUGH = ("arch", "latent_dim", "likelihood", "gaussian_stddev",
                "batch_size", "learning_rate", "log_every",
                "checkpoint_every", "jit_compile", "gamma", "capacity_steps",
                "discriminator_learning_rate", "lambda_d_factor")


def numbers(name, texts, convert):
  """A list flag's numbers, each once, in the order given.

  Args:
    name: the flag's name, for the message.
    texts: list of str (the flag's items), or None when not given.
    convert: int or float.

  Returns:
    list of numbers, or None when ``texts`` is None.

  Raises:
    cli.UsageError: an item is no number, or there is none.
  """
  if texts is None:
    return None
  values = []
  for text in texts:
    try:
      value = convert(text.strip())
    except ValueError:
      raise cli.UsageError(
          f"--{name} must be a comma-separated list of "
          f"{'integers' if convert is int else 'numbers'}, got "
          f"{text!r}") from None
    if value not in values:
      values.append(value)
  if not values:
    raise cli.UsageError(f"--{name} is empty")
  return values


def check_sizes(values):
  """Raises cli.UsageError for a sample size, step count or seed out of
  range.

  Args:
    values: SweepFlags.
  """
  for name in ("num_train", "num_eval"):
    if getattr(values, name) is not None and getattr(values, name) < 2:
      raise cli.UsageError(f"--{name} must be at least 2")
  if values.udr_num_points < 10:
    raise cli.UsageError(f"--udr_num_points must be at least 10, got "
                         f"{values.udr_num_points}")
  if values.num_reconstruction_images < 1:
    raise cli.UsageError("--num_reconstruction_images must be at least 1")
  if values.steps is not None and values.steps < 1:
    raise cli.UsageError(f"--steps must be a positive integer, got "
                         f"{values.steps}")
  cli.check_seed("metric_seed", values.metric_seed)


def run(argv, flag_values):
  """Checks the flags, runs (or resumes) the sweep and summarises it.

  Args:
    argv: the program's remaining arguments (absl's argv).
    flag_values: the parsed absl FlagValues of scripts/sweep.py.

  Returns:
    list of str: the summary lines (the best value first).

  Raises:
    cli.UsageError: a bad flag value, missing data, a directory in use.
    Failed: a run's loss turned non-finite.
  """
  given = cli.command_flags(SweepFlags, argv, flag_values)
  values = numbers("values", given.values, float)
  betas = numbers("betas", given.betas, float)
  seeds = numbers("seeds", given.seeds, int)
  check_sizes(given)
  # Imported here, after the flags are checked: usage errors come at once.
  from tf_betavae import data  # pylint: disable=g-import-not-at-top
  from tf_betavae import locking  # pylint: disable=g-import-not-at-top
  from tf_betavae import training  # pylint: disable=g-import-not-at-top
  from tf_betavae.experiments import sweep  # pylint: disable=g-import-not-at-top
  from tf_betavae.experiments import sweep_settings  # pylint: disable=g-import-not-at-top
  from tf_betavae.studies import engines  # pylint: disable=g-import-not-at-top
  try:
    values = sweep_settings.sweep_values(given.method, values, betas,
                                         given.study)
    base, ground_truth = sweep_settings.prepare(
        given.steps, values, given.dataset, given.data_dir,
        method=given.method, study=given.study,
        **{name: getattr(given, name) for name in PASS_THROUGH})
    os.makedirs(given.sweep_dir, exist_ok=True)
  except sweep.UsageError as e:
    raise cli.UsageError(str(e)) from None
  except OSError as e:
    raise cli.UsageError(f"cannot create --sweep_dir {given.sweep_dir}: "
                         f"{e.strerror}") from None
  settings = sweep.MetricSettings(
      metric=given.metric, protocol=given.protocol,
      num_train=given.num_train, num_eval=given.num_eval,
      seed=given.metric_seed,
      num_reconstruction_images=given.num_reconstruction_images)
  try:
    result = sweep.run_sweep(base, values, seeds, given.sweep_dir, settings,
                             ground_truth, given.udr_num_points)
  except (training.ConfigError, data.DatasetUnavailableError,
          locking.LockHeldError, sweep.UsageError) as e:
    raise cli.UsageError(str(e)) from None
  except (training.NonFiniteLossError, engines.JobsFailed) as e:
    raise Failed(str(e)) from None
  return sweep.summary_lines(result, settings.metric)
