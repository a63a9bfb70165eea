"""A training run: ``train(config, model_dir)``.

It builds the model, restores the latest checkpoint in ``model_dir`` if
there is one (the step count, the optimizer state, the capacity schedule
of objective B and the position of the data stream all continue), trains
to ``config.steps`` optimizer steps in chunks (one tf.function call per
log, checkpoint or image-summary interval), calls its hooks after every
chunk, and exports the trained encoder/decoder when an export directory is
given.

One writer per run directory: the chief holds the directory's lock
(``tf_betavae.locking``) for the whole run, so a second run started on the
same directory is refused before it writes anything instead of
interleaving its checkpoints and exports with the first's.
"""

import contextlib
import math
import os
import time

from absl import logging
import keras
import tensorflow as tf

from tf_betavae import export as export_lib
from tf_betavae import locking
from tf_betavae import progress as shared_progress
from tf_betavae.models import methods as methods_lib
from tf_betavae.training import build
from tf_betavae.training import checkpoints
from tf_betavae.training import config as config_lib
from tf_betavae.training import distribute
from tf_betavae.training import hooks as hooks_lib
from tf_betavae.training import progress
from tf_betavae.training import run_dir
from tf_betavae.training import steps as steps_lib


def train(config, model_dir, export_dir=None, export_name=None,
          strategy=None, hooks=None, lock_run_dir=True):
  """Trains (or resumes) a run; optionally exports it at the end.

  Args:
    config: TrainConfig.
    model_dir: str, checkpoints, TensorBoard logs and run files go here.
    export_dir: str or None, the export root (TF Serving layout,
      <export_dir>/<model_name>/<version>); None skips the export.  A
      rerun of a finished run does not export the same step twice.
    export_name: model name under export_dir; default from dataset and β.
    strategy: a tf.distribute.Strategy (see make_strategy); default the
      current one.  With several workers only the chief writes checkpoints,
      TensorBoard logs, run files and the export; every worker resumes from
      the chief's checkpoints in model_dir (a shared filesystem).
    hooks: list of hooks.Hook; None runs hooks.default_hooks() (the
      pictures: TensorBoard image summaries and picture files in
      model_dir), [] runs none.
    lock_run_dir: the chief takes model_dir's lock
      (``locking.exclusive``) for the whole run.  False only for a caller
      that holds that lock itself (a study job, tf_betavae.studies.job): a
      second lock of the same directory in one process would conflict
      with the first.  Other workers of a multi-worker run never take it.

  Returns:
    dict: final step, final tracker values, steps/s of this invocation,
    wall seconds, checkpoint path and export path (or None).

  Raises:
    ConfigError: a bad setting or an incompatible model_dir.
    tf_betavae.data.DatasetUnavailableError: the dataset's data is missing.
    CheckpointError: model_dir has checkpoints but none is readable.
    NonFiniteLossError: the loss became NaN or infinite.
    tf_betavae.locking.LockHeldError: another live process holds
      model_dir's lock (its message names the holder: pid, host, start
      time); nothing was written.
  """
  start_time = time.time()
  config.validate()
  strategy = strategy or tf.distribute.get_strategy()
  me = distribute.task(strategy)
  if me.is_chief:
    # Creates the directory (nothing in it) so that the lock can live there.
    run_dir.prepare(model_dir)
  # Only the chief writes the run directory; the other workers read its
  # checkpoints and must not contend for the lock the chief holds.
  guard = (locking.exclusive(model_dir, f"run directory {model_dir}")
           if me.is_chief and lock_run_dir else contextlib.nullcontext())
  with guard:
    return _train_holding_lock(config, model_dir, export_dir, export_name,
                               strategy, hooks, me, start_time)


def _train_holding_lock(config, model_dir, export_dir, export_name,
                        strategy, hooks, me, start_time):
  """``train`` once this process may write model_dir; returns its summary."""
  logging.info("training into %s", model_dir)
  stored = _check_run_dir(config, model_dir, export_dir, strategy, me)
  model = _build(config, strategy)
  saved = checkpoints.RunCheckpoints(model, model_dir, me.is_chief,
                                     me.task_id)
  _resume(config, model, saved, stored, model_dir, me.is_chief)
  writer = (tf.summary.create_file_writer(
      os.path.join(model_dir, run_dir.TENSORBOARD_SUBDIR))
            if me.is_chief else None)
  run = hooks_lib.RunContext(config=config, model_dir=model_dir, model=model,
                             is_chief=me.is_chief, writer=writer,
                             start_step=checkpoints.current_step(model))
  hook_list = hooks_lib.default_hooks() if hooks is None else list(hooks)
  for hook in hook_list:
    hook.on_start(run)
  step, values, train_seconds = _train_steps(run, strategy, saved, hook_list)
  for hook in hook_list:
    hook.on_end(step, step > run.start_step)
  wall_seconds = time.time() - start_time
  previous = run_dir.previous_summary(model_dir)
  export_path = None
  if me.is_chief:
    export_path = _export(model, config, model_dir, export_dir, export_name,
                          step, previous)
  if step == run.start_step:
    # Nothing trained in this invocation: the trackers hold nothing, so keep
    # the values the run ended with (unknown if it was killed before its
    # summary was written).
    values = (previous.get("metrics") if previous.get("step") == step
              else None)
  summary = {
      "step": step,
      "steps_this_run": step - run.start_step,
      "metrics": values,
      "wall_seconds": wall_seconds,
      "train_seconds": train_seconds,
      "steps_per_second": (step - run.start_step) / max(train_seconds, 1e-9),
      "checkpoint": saved.latest,
      "export_path": export_path,
      "is_chief": me.is_chief,
      "replicas": strategy.num_replicas_in_sync,
  }
  if me.is_chief:
    run_dir.write_summary(model_dir, summary)
  return summary


def _check_run_dir(config, model_dir, export_dir, strategy, me):
  """Checks model_dir, the export root and the batch split before any work.

  Returns:
    the settings stored in model_dir (dict), or None for a new run.
  """
  if me.is_chief and export_dir:
    run_dir.check_writable_root(export_dir, "--export_dir")
  stored = run_dir.check_resume_compatible(config, model_dir)
  replicas = strategy.num_replicas_in_sync
  if config.batch_size % replicas:
    raise config_lib.ConfigError(
        f"--batch_size {config.batch_size} must be a multiple of the "
        f"{replicas} replicas")
  return stored


def _build(config, strategy):
  keras.utils.set_random_seed(config.seed)
  with strategy.scope():
    return build.build_compiled_model(config)


def _resume(config, model, saved, stored, model_dir, is_chief):
  """Restores the newest good checkpoint; the chief records the settings."""
  restored = saved.restore_latest()
  if restored:
    logging.info("resumed from %s at step %d", restored,
                 checkpoints.current_step(model))
  if is_chief:
    run_dir.record_setting_changes(config, stored, model_dir,
                                   checkpoints.current_step(model))
    run_dir.write_config(config, model_dir)


def _next_stop(config, step):
  """The next step that ends a chunk: a log, checkpoint or image-summary
  step, or the last step."""
  stops = [config.log_every, config.checkpoint_every]
  if config.image_summary_every:
    stops.append(config.image_summary_every)
  return min([config.steps] + [(step // every + 1) * every for every in stops])


def _train_steps(run, strategy, saved, hook_list):
  """Trains from run.start_step to config.steps, chunk by chunk.

  Returns:
    (final step, the last chunk's tracker values, seconds spent).
  """
  config, model = run.config, run.model
  step = run.start_step
  iterator = iter(distribute.distributed_dataset(config, strategy, step))
  runner = steps_lib.StepRunner(model, strategy, config.jit_compile)
  values = steps_lib.tracker_values(model)
  steady_rate = shared_progress.SteadyRate()
  train_start = last_stop = time.time()
  while step < config.steps:
    chunk = _next_stop(config, step) - step
    values = steps_lib.run_chunk(model, runner, iterator, chunk)
    chunk_end = step + chunk
    step = checkpoints.current_step(model)
    if not all(math.isfinite(v) for v in values.values()):
      _raise_nonfinite(run, runner, strategy, saved, chunk, chunk_end)
    now = time.time()
    steps_per_second = chunk / max(now - last_stop, 1e-9)
    last_stop = now
    logs = dict(values, steps_per_second=steps_per_second)
    if run.writer is not None:
      progress.write_scalars(run.writer, logs, step)
    for hook in hook_list:
      hook.on_step(step, logs)
    progress.log_step(step, config.steps, values, steps_per_second,
                      _images_per_step(config), now - train_start,
                      step - run.start_step, steady_rate)
    if step % config.checkpoint_every == 0 or step >= config.steps:
      saved.save(step)
  if not saved.holds(step):
    saved.save(step)
  return step, values, time.time() - train_start


def _images_per_step(config):
  """Images a step encodes: the batch, or both images of each pair."""
  return config.batch_size * (2 if methods_lib.is_weak(config.method) else 1)


def _raise_nonfinite(run, runner, strategy, saved, chunk, chunk_end):
  """Finds the first bad step by replay and raises NonFiniteLossError."""
  bad_step = steps_lib.locate_nonfinite_step(
      run.model, runner, run.config, strategy, saved, chunk_end)
  where = (f"at step {bad_step}" if bad_step else
           f"in steps {chunk_end - chunk + 1}-{chunk_end}")
  raise config_lib.NonFiniteLossError(
      f"non-finite loss {where}; nothing after the last good checkpoint "
      f"was saved: {saved.latest or 'none (no checkpoint)'}")


def _export(model, config, model_dir, export_dir, export_name, step,
            previous):
  """Exports step ``step`` unless it is already exported; returns the path
  (None without an export_dir)."""
  if not export_dir:
    return None
  if (previous.get("step") == step and previous.get("export_path") and
      os.path.exists(previous["export_path"])):
    logging.info("step %d is already exported at %s", step,
                 previous["export_path"])
    return previous["export_path"]
  export_path = export_lib.export_model(
      model, export_dir, model_name=export_name,
      metadata=export_lib.training_metadata(
          config, step, run_dir.settings_history(model_dir)))
  logging.info("exported to %s", export_path)
  return export_path
