"""Checkpoints of a run: saving, resuming from the newest readable one, and
rebuilding a trained model from its run directory.

A checkpoint holds the model's weights and every optimizer's state (the
model's own, whose step counter is the run's step (``current_step``), and
FactorVAE's discriminator optimizer).
"""

import contextlib
import os
import shutil

from absl import logging
import keras
import tensorflow as tf

from tf_betavae.training import build
from tf_betavae.training import config as config_lib
from tf_betavae.training import run_dir

CHECKPOINT_SUBDIR = "checkpoints"
MAX_TO_KEEP = 3


def make_checkpoint(model):
  """The tf.train.Checkpoint of a compiled model (weights + optimizers)."""
  return tf.train.Checkpoint(model=model, **model.checkpointed_optimizers)


def current_step(model):
  """The optimizer's step counter as a Python int (any strategy)."""
  return int(model.optimizer.iterations.numpy())


def restore_latest_good(checkpoint, manager):
  """Restores the newest readable checkpoint.

  A truncated or corrupt newest checkpoint is reported (warning naming the
  file) and the previous one is tried; if none can be read, raises rather
  than silently starting from scratch.

  Returns:
    path of the restored checkpoint, or None when there is none at all.

  Raises:
    CheckpointError: there are checkpoints, and none can be read.
  """
  candidates = list(reversed(manager.checkpoints))
  if not candidates and manager.latest_checkpoint:
    # A state file without timestamps (written by hand, by other tools, or
    # by checkpoints copied in) lists no checkpoints in the manager, but
    # still names the newest one: resume from it rather than start afresh.
    candidates = [manager.latest_checkpoint]
  if not candidates:
    return None
  errors = []
  for path in candidates:
    try:
      checkpoint.restore(path).assert_existing_objects_matched()
      if errors:
        logging.warning("resumed from the older checkpoint %s", path)
      return path
    except Exception as e:  # pylint: disable=broad-except
      # Truncated files surface as DataLossError, IndexError, ValueError...
      message = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
      logging.warning("checkpoint %s is unreadable (%s); trying an older one",
                      path, message)
      errors.append(f"{path}: {message}")
  raise config_lib.CheckpointError(
      "no readable checkpoint in " + os.path.dirname(candidates[0]) + ": " +
      "; ".join(errors) + " — move the directory away to start afresh")


def _rate_variable(optimizer):
  """The variable that holds an optimizer's constant learning rate, or None
  when the rate is a schedule (a schedule is code, not checkpointed)."""
  inner = getattr(optimizer, "inner_optimizer", optimizer)
  # Keras keeps a constant rate in a variable that a checkpoint saves and
  # restores; it has no public accessor for the variable itself.
  rate = inner._learning_rate  # pylint: disable=protected-access
  return rate if isinstance(rate, keras.Variable) else None


@contextlib.contextmanager
def keep_learning_rates(optimizers):
  """A checkpoint restored inside this context leaves each optimizer's
  constant learning rate as it was before the restore.

  Adam's constant rate is a checkpointed variable, so a plain restore
  would bring back the rate the checkpoint was written with, and a run
  resumed with another --learning_rate (or --discriminator_learning_rate)
  would record the change and go on training at the old rate.

  Args:
    optimizers: {name: optimizer}, e.g. ``model.checkpointed_optimizers``.
  """
  kept = []
  for optimizer in optimizers.values():
    variable = _rate_variable(optimizer)
    if variable is not None:
      kept.append((variable, variable.numpy()))
  try:
    yield
  finally:
    for variable, rate in kept:
      variable.assign(rate)


class RunCheckpoints:
  """The checkpoints of a run in ``<model_dir>/checkpoints``.

  Only the chief keeps checkpoints; every other worker writes its
  (required) share of each save to a private directory that is deleted
  right after.
  """

  def __init__(self, model, model_dir, is_chief=True, task_id=0):
    self.checkpoint = make_checkpoint(model)
    self._optimizers = model.checkpointed_optimizers
    self.manager = tf.train.CheckpointManager(
        self.checkpoint, os.path.join(model_dir, CHECKPOINT_SUBDIR),
        max_to_keep=MAX_TO_KEEP)
    self._is_chief = is_chief
    self._save_manager = self.manager
    if not is_chief:
      self._save_manager = tf.train.CheckpointManager(
          self.checkpoint, os.path.join(model_dir, f".worker-{task_id}-tmp"),
          max_to_keep=1)

  @property
  def latest(self):
    """Path of the newest checkpoint, or None."""
    return self.manager.latest_checkpoint

  def restore_latest(self):
    """See ``restore_latest_good``; returns the restored path or None.

    Every optimizer keeps the learning rate it was built with (the run's
    configured one), not the checkpoint's: see ``keep_learning_rates``.
    """
    with keep_learning_rates(self._optimizers):
      return restore_latest_good(self.checkpoint, self.manager)

  def restore_newest(self):
    """Restores the newest checkpoint without checks (NaN replay)."""
    with keep_learning_rates(self._optimizers):
      self.checkpoint.restore(self.manager.latest_checkpoint)

  def save(self, step):
    self._save_manager.save(checkpoint_number=step)
    if not self._is_chief:
      shutil.rmtree(self._save_manager.directory, ignore_errors=True)

  def holds(self, step):
    """Whether the newest checkpoint is the one of ``step``."""
    return self.latest is not None and self.latest.endswith(f"-{step}")


def restore_model(model_dir):
  """Rebuilds the model of a run and restores its latest checkpoint.

  Returns:
    (model, config): a compiled BetaVAE and the run's TrainConfig.

  Raises:
    FileNotFoundError: model_dir holds no run or no checkpoint.
  """
  config = run_dir.read_config(model_dir)
  model = build.build_compiled_model(config, mixed_precision=False)
  latest = tf.train.latest_checkpoint(os.path.join(model_dir,
                                                   CHECKPOINT_SUBDIR))
  if latest is None:
    raise FileNotFoundError(f"{model_dir} holds no checkpoint")
  make_checkpoint(model).restore(latest).assert_existing_objects_matched()
  return model, config
