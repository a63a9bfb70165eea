"""What a sweep is: its method, values, base settings and run names.

``sweep_values`` picks the values (given, or the method's study grid);
``prepare`` builds and checks the TrainConfig every run shares (from
TrainConfig's defaults, or the train.py preset ``study``, plus the given
settings; a setting of another method is refused) and the ground truth the
runs are scored on.  experiments.sweep runs it.
"""

import dataclasses

from tf_betavae import data as data_lib
from tf_betavae import training
from tf_betavae.experiments import settings as settings_lib
from tf_betavae.models import methods as methods_lib
from tf_betavae.training import presets

# Training steps of every run unless --steps (or the study preset) says.
DEFAULT_STEPS = 6000
# The β values of a β-VAE sweep given none; the other methods sweep their
# study grid (tf_betavae.models.methods.METHODS[...].study_grid).
BETA_VAE_VALUES = (1.0, 4.0, 16.0)
# The train.py preset of disentanglement_lib's unsupervised study.
STUDY_PRESET = "study"

UsageError = settings_lib.UsageError


def format_value(value):
  """A value as it appears in directory names and the CSV: 4.0 -> '4'."""
  return f"{float(value):g}"


def axis_label(method):
  """The swept hyperparameter on the plot: 'β', 'γ (factor_gamma)'."""
  name = methods_lib.get(method).hyperparameter
  symbol = settings_lib.HYPERPARAMETER_SYMBOLS.get(name, name)
  return symbol if name in ("beta", symbol) else f"{symbol} ({name})"


def sweep_values(method, values=None, betas=None, study=False):
  """The values of the method's hyperparameter a sweep trains.

  Args:
    method: a name of tf_betavae.models.methods.METHODS.
    values: list of float (--values), or None.
    betas: list of float (--betas, the β-VAE's older name of --values), or
      None.
    study: without values, sweep the study grid (also for the β-VAE).

  Returns:
    list of float: ``values`` or ``betas``; else the method's study grid,
    or BETA_VAE_VALUES for a β-VAE sweep outside the study.

  Raises:
    UsageError: --betas for another method or beside --values; two values
      that would share a run directory.
  """
  info = _method(method)
  if betas is not None:
    if method != "beta_vae":
      raise UsageError(f"--betas is the β-VAE's; give --values (of "
                       f"{info.hyperparameter}) for --method={method}")
    if values is not None:
      raise UsageError("give --values or --betas, not both")
    values = betas
  if values is None:
    values = (BETA_VAE_VALUES if method == "beta_vae" and not study
              else info.study_grid)
  values = [float(v) for v in values]
  named = {}
  for value in values:
    # A study names a group's UDR file by its value written with 6
    # significant digits: two values written alike would share it.
    other = named.setdefault(format_value(value), value)
    if repr(other) != repr(value):  # repr: nan is one value here
      raise UsageError(f"the values {other!r} and {value!r} are both "
                       f"{format_value(value)} with 6 significant digits; "
                       "give values that differ there")
  return values


def _method(method):
  try:
    return methods_lib.get(method)
  except ValueError as e:
    raise UsageError(f"--method: {e}") from None


def _check_method_settings(info, train_settings):
  """UsageError for a given setting of another method, or the swept one."""
  for name, value in train_settings.items():
    if value is None or name not in methods_lib.METHOD_SETTINGS:
      continue
    if name == info.hyperparameter:
      raise UsageError(f"--{name} is what this sweep varies; give its values "
                       "with --values")
    if name not in info.settings:
      owners = [m.name for m in methods_lib.METHODS.values()
                if name in m.settings]
      raise UsageError(f"--{name} is a setting of {', '.join(owners)}, not "
                       f"of --method={info.name}")


def prepare(steps, values, dataset, data_dir=None, method="beta_vae",
            study=False, **train_settings):
  """The sweep's base TrainConfig and ground truth, checked for every value.

  Args:
    steps: training steps of every run (None: the study preset's with
      ``study``, else DEFAULT_STEPS); log and checkpoint intervals are
      capped at it.
    values: the values of the method's hyperparameter (each run's settings
      are checked before any training starts).
    dataset, data_dir: the dataset with ground-truth factors.
    method: a name of tf_betavae.models.methods.METHODS.
    study: start from the train.py preset ``study`` (disentanglement_lib's
      unsupervised study: batch 64, Adam 1e-4, 300,000 steps, 10 latents,
      conv net, Bernoulli likelihood) instead of TrainConfig's defaults.
    **train_settings: TrainConfig fields (None: the preset's or
      TrainConfig's default; the learning rate of a method with a rate of
      its own, methods.Method.learning_rate, is that rate); settings of
      another method are refused.

  Returns:
    (base TrainConfig of the method, ground-truth object).

  Raises:
    UsageError: a bad setting or value, a setting of another method, an
      unknown or unavailable dataset.
  """
  info = _method(method)
  _check_method_settings(info, train_settings)
  config_values = training.TrainConfig().to_dict()
  if study:
    config_values.update(presets.PRESETS[STUDY_PRESET])
  if train_settings.get("learning_rate") is None:
    config_values["learning_rate"] = methods_lib.default_learning_rate(
        method, config_values["learning_rate"])
  config_values.update({k: v for k, v in train_settings.items()
                        if v is not None})
  if steps is None:
    steps = config_values["steps"] if study else DEFAULT_STEPS
  config_values.update(dataset=dataset, method=method, steps=steps,
                   objective=methods_lib.OBJECTIVE_OF_METHOD.get(method, "H"))
  if data_dir is not None:
    config_values["data_dir"] = data_dir
  for name in ("log_every", "checkpoint_every"):
    config_values[name] = max(1, min(config_values[name], steps))
  base = training.TrainConfig(**config_values)
  try:
    for value in values:
      with_value(base, value).validate()
    # The runs' own data: what their pictures and reproductions read too.
    ground_truth = data_lib.source_of(base).ground_truth()
  except (training.ConfigError, data_lib.UnknownDatasetError,
          data_lib.DatasetUnavailableError) as e:
    raise UsageError(str(e)) from None
  return base, ground_truth


def with_value(config, value, seed=None):
  """``config`` with its method's hyperparameter at ``value`` (and
  ``seed``)."""
  changes = {methods_lib.get(config.method).hyperparameter: float(value)}
  if seed is not None:
    changes["seed"] = int(seed)
  return dataclasses.replace(config, **changes)
