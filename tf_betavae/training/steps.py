"""Running training steps: chunks of steps in one tf.function call, the
trackers' values after a chunk, and finding the step whose loss went bad."""

import math

import tensorflow as tf

from tf_betavae.training import checkpoints
from tf_betavae.training import distribute


class StepRunner:
  """Runs ``num_steps`` training steps in one tf.function call.

  ``run(iterator, num_steps)``: iterator over (distributed) image batches;
  num_steps an int64 scalar tensor (a new value does not retrace).  The
  Python overhead per step is nil, and the same code serves the default
  strategy and tf.distribute strategies.
  """

  def __init__(self, model, strategy, jit_compile):
    self._model = model
    self._strategy = strategy
    step_fn = model.train_step
    if jit_compile:
      step_fn = tf.function(step_fn, jit_compile=True)
    self._step_fn = step_fn

  @tf.function
  def run(self, iterator, num_steps):
    for _ in tf.range(num_steps):
      self._strategy.run(self._step_fn, args=(next(iterator),))


def tracker_values(model):
  """Current tracker results as a flat dict of Python floats."""
  values = {}
  for tracker in model.metrics:
    result = tracker.result()
    if isinstance(result, dict):
      values.update({k: float(v) for k, v in result.items()})
    else:
      values[tracker.name] = float(result)
  return values


def run_chunk(model, runner, iterator, num_steps):
  """Runs ``num_steps`` steps with fresh trackers.

  Returns:
    dict of the trackers' means over these steps (Python floats).
  """
  for tracker in model.metrics:
    tracker.reset_state()
  runner.run(iterator, tf.constant(num_steps, tf.int64))
  return tracker_values(model)


def locate_nonfinite_step(model, runner, config, strategy, run_checkpoints,
                          chunk_end):
  """Replays from the last checkpoint step by step to the first step whose
  loss is not finite (data and noise are deterministic).

  Args:
    model, runner: the run's model and its StepRunner.
    config: TrainConfig.
    strategy: the run's tf.distribute strategy.
    run_checkpoints: the run's checkpoints.RunCheckpoints.
    chunk_end: int, the step the bad chunk ended at.

  Returns:
    the step number, or None if there is no checkpoint to replay from.
  """
  if not run_checkpoints.latest:
    return None
  run_checkpoints.restore_newest()
  step = checkpoints.current_step(model)
  iterator = iter(distribute.distributed_dataset(config, strategy, step))
  while step < chunk_end:
    values = run_chunk(model, runner, iterator, 1)
    step += 1
    if not math.isfinite(values["loss"]):
      return step
  return None
