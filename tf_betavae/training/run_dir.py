"""The files of a run directory besides its checkpoints.

  <model_dir>/run_config.json        the settings the run trains with
  <model_dir>/settings_history.json  settings changed when it was resumed
  <model_dir>/train_summary.json     what the last invocation returned
  <model_dir>/checkpoints/           see tf_betavae.training.checkpoints
  <model_dir>/train/                 TensorBoard events
"""

import os

from absl import logging

from tf_betavae import io_utils
from tf_betavae.models import methods
from tf_betavae.training import config as config_lib

RUN_CONFIG_FILE = "run_config.json"
SUMMARY_FILE = "train_summary.json"
SETTINGS_HISTORY_FILE = "settings_history.json"
TENSORBOARD_SUBDIR = "train"

# Settings that fix the variables' shapes or meaning (a learning-rate
# schedule replaces Adam's rate variable): resuming into a model_dir whose
# run differs in any of them is refused.
_RESUME_MUST_MATCH = ("dataset", "arch", "latent_dim", "likelihood",
                      "method", "objective", "lr_warmup_steps", "lr_decay")
# Settings a resumed run may change that do not change what is trained (run
# length, logging and checkpoint cadence, where the data files lie); a change
# of any other setting (β, learning rate, batch size, seed, ...) on resume is
# recorded in SETTINGS_HISTORY_FILE and in the export's metadata.
_NOT_RECORDED = ("steps", "checkpoint_every", "log_every",
                 "image_summary_every", "data_dir")


def prepare(model_dir):
  """Creates model_dir; raises ConfigError if it cannot be written."""
  try:
    os.makedirs(model_dir, exist_ok=True)
  except OSError as e:
    raise config_lib.ConfigError(f"cannot create --model_dir {model_dir}: "
                                 f"{e.strerror}") from None
  if not os.access(model_dir, os.W_OK):
    raise config_lib.ConfigError(f"--model_dir {model_dir} is not writable")


def check_writable_root(path, flag):
  """Refuses a root directory (e.g. the export root) that cannot be created
  or written: the nearest existing ancestor must be a writable directory."""
  existing = os.path.abspath(path)
  while not os.path.exists(existing):
    existing = os.path.dirname(existing)
  if not os.path.isdir(existing) or not os.access(existing, os.W_OK):
    raise config_lib.ConfigError(
        f"{flag} {path} is not writable ({existing} is not a writable "
        "directory)")


def stored_config(model_dir):
  """The run_config.json of model_dir as a dict, or None.

  Runs written before a setting existed have its default (and a run
  written before --method existed the method of its objective).
  """
  stored = io_utils.read_json_if_present(
      os.path.join(model_dir, RUN_CONFIG_FILE))
  if stored is None:
    return None
  merged = {**config_lib.TrainConfig().to_dict(), **stored}
  try:
    return config_lib.TrainConfig(**merged).to_dict()
  except TypeError:  # keys of another program: compared as they are
    return merged


def write_config(config, model_dir):
  io_utils.write_json_atomic(os.path.join(model_dir, RUN_CONFIG_FILE),
                             config.to_dict())


def read_config(model_dir):
  """The TrainConfig of the run in model_dir.

  Raises:
    FileNotFoundError: model_dir holds no run.
  """
  path = os.path.join(model_dir, RUN_CONFIG_FILE)
  if not os.path.exists(path):
    raise FileNotFoundError(f"{model_dir} holds no training run "
                            f"({RUN_CONFIG_FILE} is missing)")
  try:
    return config_lib.TrainConfig(**io_utils.read_json(path))
  except (ValueError, TypeError) as e:  # not JSON, or not TrainConfig's keys
    raise config_lib.ConfigError(
        f"{path} is not a readable run config ({e}); the run directory is "
        "damaged or was not written by this package") from None


def check_resume_compatible(config, model_dir):
  """Refuses to resume into a model_dir trained with other core settings.

  Returns:
    the stored settings of the run in model_dir (a dict), or None.

  Raises:
    ConfigError: a setting of _RESUME_MUST_MATCH differs.
  """
  previous = stored_config(model_dir)
  if previous is None:
    return None
  differences = [
      f"{key}: {previous[key]!r} there, {getattr(config, key)!r} now"
      for key in _RESUME_MUST_MATCH
      if previous[key] != getattr(config, key)
  ]
  if differences:
    raise config_lib.ConfigError(
        f"--model_dir {model_dir} holds a run with different settings ("
        + "; ".join(differences)
        + "); use another --model_dir or the same settings")
  return previous


def settings_history(model_dir):
  """Setting changes made when the run in model_dir was resumed.

  Returns:
    list of {"step": the step the new settings took effect at,
    "changes": {setting: [before, after]}}, oldest first; [] for a run
    trained with one set of settings throughout.
  """
  return io_utils.read_json_if_present(
      os.path.join(model_dir, SETTINGS_HISTORY_FILE), [])


def record_setting_changes(config, previous, model_dir, step):
  """Records the changes between a run's stored settings and ``config``.

  A change at the step of the history's last entry (nothing was trained
  since: a resume that stopped before its first step, or a crash before
  run_config.json was rewritten) is merged into that entry, from the
  settings before it to ``config``'s, so every entry is a set of settings
  that trained.

  Args:
    config: TrainConfig the run continues with.
    previous: dict, the stored settings (``check_resume_compatible``), or
      None for a new run.
    model_dir: str.
    step: int, the step the run resumes at.
  """
  if previous is None or step == 0:
    return
  history = settings_history(model_dir)
  merged = bool(history) and history[-1]["step"] == step
  if merged:
    previous = {**previous, **{key: before for key, (before, _)
                               in history.pop()["changes"].items()}}
  current = config.to_dict()
  ignored = set(_NOT_RECORDED) | _unread_settings(previous, current)
  changes = {key: [previous[key], current[key]] for key in sorted(current)
             if key not in ignored and previous[key] != current[key]}
  if changes:
    logging.warning(
        "resuming at step %d with other settings (%s); recorded in %s and in "
        "the export's metadata", step,
        "; ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in changes.items()),
        SETTINGS_HISTORY_FILE)
    history.append({"step": int(step), "changes": changes})
  elif not merged:
    return
  io_utils.write_json_atomic(
      os.path.join(model_dir, SETTINGS_HISTORY_FILE), history)


def _unread_settings(previous, current):
  """Settings of other methods, when the run keeps its method.

  A FactorVAE run never reads ``beta``, so a resume whose ``beta`` differs
  (train.py's default against a config built elsewhere) trained nothing
  differently and is not a change worth a warning or a history entry.
  """
  method = current.get("method")
  if method not in methods.METHODS or previous.get("method") != method:
    return set()
  return set(methods.other_settings(method))


def previous_summary(model_dir):
  """The train_summary.json of the last invocation, or {}."""
  return io_utils.read_json_if_present(os.path.join(model_dir, SUMMARY_FILE),
                                       {})


def write_summary(model_dir, summary):
  io_utils.write_json_atomic(os.path.join(model_dir, SUMMARY_FILE), summary)
