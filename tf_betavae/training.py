"""A training run: settings, checkpoints, resume, TensorBoard and export.

``train(config, model_dir)`` builds the model, restores the latest checkpoint
in ``model_dir`` if there is one (the step count, the optimizer state, the
capacity schedule of objective B and the position of the data stream all
continue), trains to ``config.steps`` optimizer steps, and exports the
trained encoder/decoder when an export directory is given.

The loop calls ``BetaVAE.train_step`` through ``strategy.run`` inside one
``tf.function`` that runs a whole chunk of steps (a log interval), so the
Python overhead per step is nil and the same code serves the default
strategy and tf.distribute strategies.
"""

import dataclasses
import math
import os
import shutil
import time

from absl import logging
import keras
import tensorflow as tf

from tf_betavae import data as data_lib
from tf_betavae import io_utils
from tf_betavae import learning_rate as learning_rate_lib
from tf_betavae import models

RUN_CONFIG_FILE = "run_config.json"
SUMMARY_FILE = "train_summary.json"
CHECKPOINT_SUBDIR = "checkpoints"

# Settings that fix the variables' shapes or meaning (a learning-rate
# schedule replaces Adam's rate variable): resuming into a model_dir whose
# run differs in any of them is refused.
_RESUME_MUST_MATCH = ("dataset", "arch", "latent_dim", "likelihood",
                      "objective", "lr_warmup_steps", "lr_decay")
# Settings a resumed run may change that do not change what is trained (run
# length, logging and checkpoint cadence, where the data files lie); a change
# of any other setting (β, learning rate, batch size, seed, ...) on resume is
# recorded in SETTINGS_HISTORY_FILE and in the export's metadata.
_NOT_RECORDED = ("steps", "checkpoint_every", "log_every",
                 "image_summary_every", "data_dir")
SETTINGS_HISTORY_FILE = "settings_history.json"


class ConfigError(ValueError):
  """A setting is invalid, or contradicts the run already in model_dir."""


class NonFiniteLossError(RuntimeError):
  """Training produced a NaN or infinite loss."""


class CheckpointError(RuntimeError):
  """model_dir holds checkpoints, but none of them can be read."""


@dataclasses.dataclass
class TrainConfig:
  """Settings of a run.  Defaults are the paper's values where it has one.

  Attributes:
    dataset: a name from tf_betavae.data.DATASETS ('dsprites' = simulator).
    arch: 'conv' or 'mlp'.
    latent_dim: number of latents (10 for 2D shapes in the paper).
    likelihood: 'bernoulli' or 'gaussian'.
    gaussian_stddev: fixed pixel std of the gaussian likelihood.
    objective: 'H' (β·KL) or 'B' (γ·|KL − C|).
    beta: KL weight of objective H.
    gamma: weight of objective B.
    capacity_max: final capacity C of objective B, nats.
    capacity_steps: steps over which C rises from 0 to capacity_max.
    batch_size: global batch size (split over replicas).
    learning_rate: Adam learning rate (the peak rate when a schedule is on).
    lr_warmup_steps: steps of a linear learning-rate warm-up (0 = none).
    lr_decay: 'constant' or 'cosine' (to 0 at `steps`) after the warm-up;
      see tf_betavae.learning_rate.
    steps: total optimizer steps of the run.
    seed: seeds weights, the data stream and the latent samples.
    checkpoint_every: steps between checkpoints.
    log_every: steps between log lines and TensorBoard scalars.
    image_summary_every: steps between TensorBoard image summaries
      (traversals, reconstructions, KL per latent); 0 turns them off.  The
      same pictures are written as files into model_dir at the end.
    mixed_precision: False, 'mixed_float16' or 'mixed_bfloat16'.
    jit_compile: XLA-compile the training step (exports stay plain).
    data_dir: where real datasets live (tensorflow-datasets data_dir).
    dsprites_file: the official dSprites .npz/.hdf5 (dsprites_official).
  """

  dataset: str = "dsprites"
  arch: str = "conv"
  latent_dim: int = 10
  likelihood: str = "bernoulli"
  gaussian_stddev: float = 1.0
  objective: str = "H"
  beta: float = 4.0
  gamma: float = 1000.0
  capacity_max: float = 25.0
  capacity_steps: int = 100000
  batch_size: int = 64
  learning_rate: float = 5e-4
  lr_warmup_steps: int = 0
  lr_decay: str = "constant"
  steps: int = 6000
  seed: int = 0
  checkpoint_every: int = 1000
  log_every: int = 100
  image_summary_every: int = 2000
  mixed_precision: object = False
  jit_compile: bool = False
  data_dir: object = None
  dsprites_file: object = None

  def validate(self):
    """Raises ConfigError with a one-line reason for the first bad value."""
    def need(condition, message):
      if not condition:
        raise ConfigError(message)

    for name in ("beta", "gamma", "capacity_max", "learning_rate",
                 "gaussian_stddev"):
      value = getattr(self, name)
      need(isinstance(value, (int, float)) and math.isfinite(value),
           f"--{name} must be a finite number, got {value!r}")
    need(self.beta >= 0, f"--beta must be >= 0, got {self.beta}")
    need(self.gamma >= 0, f"--gamma must be >= 0, got {self.gamma}")
    need(self.capacity_max >= 0,
         f"--capacity_max must be >= 0 nats, got {self.capacity_max}")
    need(self.learning_rate > 0,
         f"--learning_rate must be > 0, got {self.learning_rate}")
    need(isinstance(self.lr_warmup_steps, int) and self.lr_warmup_steps >= 0,
         f"--lr_warmup_steps must be an integer >= 0, got "
         f"{self.lr_warmup_steps!r}")
    need(self.lr_decay in learning_rate_lib.DECAYS,
         f"unknown --lr_decay {self.lr_decay!r}; choose one of "
         f"{', '.join(learning_rate_lib.DECAYS)}")
    need(self.lr_decay != "cosine" or
         not isinstance(self.steps, int) or self.lr_warmup_steps < self.steps,
         f"--lr_decay=cosine needs --lr_warmup_steps "
         f"({self.lr_warmup_steps}) < --steps ({self.steps}); shorten the "
         f"warm-up or train longer")
    need(self.gaussian_stddev > 0,
         f"--gaussian_stddev must be > 0, got {self.gaussian_stddev}")
    for name in ("latent_dim", "batch_size", "steps", "capacity_steps",
                 "checkpoint_every", "log_every"):
      value = getattr(self, name)
      need(isinstance(value, int) and value > 0,
           f"--{name} must be a positive integer, got {value!r}")
    need(isinstance(self.image_summary_every, int) and
         self.image_summary_every >= 0,
         f"--image_summary_every must be >= 0, got "
         f"{self.image_summary_every!r}")
    need(self.arch in models.ARCHITECTURES,
         f"unknown --arch {self.arch!r}; choose one of "
         f"{', '.join(models.ARCHITECTURES)}")
    need(self.objective in models.OBJECTIVES,
         f"unknown --objective {self.objective!r}; choose one of "
         f"{', '.join(models.OBJECTIVES)}")
    need(self.likelihood in models.LIKELIHOODS,
         f"unknown --likelihood {self.likelihood!r}; choose one of "
         f"{', '.join(models.LIKELIHOODS)}")
    need(self.mixed_precision in (False, None, "mixed_float16",
                                  "mixed_bfloat16"),
         f"--mixed_precision must be mixed_float16 or mixed_bfloat16, got "
         f"{self.mixed_precision!r}")
    if not data_lib.is_known(self.dataset):
      raise ConfigError(
          f"unknown --dataset {self.dataset!r}; valid names: "
          f"{', '.join(data_lib.DATASETS)}")

  def to_dict(self):
    return dataclasses.asdict(self)


def _check_resume_compatible(config, model_dir):
  """Refuses to resume into a model_dir trained with other core settings.

  Returns:
    the stored settings of the run in model_dir (a dict), or None.
  """
  # Runs written before a setting existed have its default.
  previous = _stored_config(model_dir)
  if previous is None:
    return None
  differences = [
      f"{key}: {previous[key]!r} there, {getattr(config, key)!r} now"
      for key in _RESUME_MUST_MATCH
      if previous[key] != getattr(config, key)
  ]
  if differences:
    raise ConfigError(
        f"--model_dir {model_dir} holds a run with different settings ("
        + "; ".join(differences)
        + "); use another --model_dir or the same settings")
  return previous


def _check_writable_root(path, flag):
  """Refuses an export root that cannot be created or written."""
  existing = os.path.abspath(path)
  while not os.path.exists(existing):
    existing = os.path.dirname(existing)
  if not os.path.isdir(existing) or not os.access(existing, os.W_OK):
    raise ConfigError(f"{flag} {path} is not writable ({existing} is not a "
                      "writable directory)")


def _stored_config(model_dir):
  """The run_config.json of model_dir (missing keys: defaults), or None."""
  path = os.path.join(model_dir, RUN_CONFIG_FILE)
  if not os.path.exists(path):
    return None
  return {**TrainConfig().to_dict(), **io_utils.read_json(path)}


def settings_history(model_dir):
  """Setting changes made when the run in model_dir was resumed.

  Returns:
    list of {"step": the step the new settings took effect at,
    "changes": {setting: [before, after]}}, oldest first; [] for a run
    trained with one set of settings throughout.
  """
  path = os.path.join(model_dir, SETTINGS_HISTORY_FILE)
  return io_utils.read_json(path) if os.path.exists(path) else []


def _record_setting_changes(config, previous, model_dir, step):
  """Records the changes between a run's stored settings and ``config``.

  A change at the step of the history's last entry (nothing was trained
  since: a resume that stopped before its first step, or a crash before
  run_config.json was rewritten) is merged into that entry, from the
  settings before it to ``config``'s, so every entry is a set of settings
  that trained.
  """
  if previous is None or step == 0:
    return
  history = settings_history(model_dir)
  merged = bool(history) and history[-1]["step"] == step
  if merged:
    previous = {**previous, **{key: before for key, (before, _)
                               in history.pop()["changes"].items()}}
  current = config.to_dict()
  changes = {key: [previous[key], current[key]] for key in sorted(current)
             if key not in _NOT_RECORDED and previous[key] != current[key]}
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


def _prepare_model_dir(model_dir):
  try:
    os.makedirs(model_dir, exist_ok=True)
  except OSError as e:
    raise ConfigError(f"cannot create --model_dir {model_dir}: "
                      f"{e.strerror}") from None
  if not os.access(model_dir, os.W_OK):
    raise ConfigError(f"--model_dir {model_dir} is not writable")


def build_model(config, image_shape):
  """The BetaVAE of a config, built (variables exist)."""
  return models.build_model(
      arch=config.arch, latent_dim=config.latent_dim, image_shape=image_shape,
      likelihood=config.likelihood, gaussian_stddev=config.gaussian_stddev,
      objective=config.objective, beta=config.beta, gamma=config.gamma,
      capacity_max=config.capacity_max, capacity_steps=config.capacity_steps,
      seed=config.seed)


def current_step(model):
  """The optimizer's step counter as a Python int (any strategy)."""
  return int(model.optimizer.iterations.numpy())


def make_checkpoint(model):
  """The tf.train.Checkpoint of a compiled model (weights + optimizer)."""
  return tf.train.Checkpoint(model=model, optimizer=model.optimizer)


class StepRunner:
  """Runs ``num_steps`` training steps in one tf.function call.

  ``run(iterator, num_steps)``: iterator over (distributed) image batches;
  num_steps an int64 scalar tensor (a new value does not retrace).
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


def _tracker_values(model):
  """Current tracker results as a flat dict of Python floats."""
  values = {}
  for tracker in model.metrics:
    result = tracker.result()
    if isinstance(result, dict):
      values.update({k: float(v) for k, v in result.items()})
    else:
      values[tracker.name] = float(result)
  return values


def _write_summaries(writer, values, step):
  with writer.as_default(step=step):
    for name, value in values.items():
      group = "kl_per_latent/" if name.startswith("kl_latent_") else "train/"
      tf.summary.scalar(group + name, value)
    writer.flush()


def make_strategy(name="default", devices=None, collective_timeout=None):
  """The tf.distribute strategy of a run.

  Args:
    name: 'default' (one device), 'mirrored' (all local GPUs, or
      ``devices``) or 'multi_worker' (MultiWorkerMirroredStrategy configured
      by the TF_CONFIG environment variable).  Create it before any other
      TensorFlow work in the process (multi_worker requires that).
    devices: list of device names for 'mirrored', e.g. ['/gpu:0', '/gpu:1'].
    collective_timeout: seconds after which a multi-worker collective
      (e.g. waiting on a dead worker) fails instead of hanging.

  Raises:
    ConfigError: unknown name, or multi_worker without TF_CONFIG.
  """
  if name == "default":
    return tf.distribute.get_strategy()
  if name == "mirrored":
    return tf.distribute.MirroredStrategy(devices=devices or None)
  if name == "multi_worker":
    if not os.environ.get("TF_CONFIG"):
      raise ConfigError("--strategy=multi_worker needs the TF_CONFIG "
                        "environment variable (cluster and this task)")
    options = tf.distribute.experimental.CommunicationOptions(
        timeout_seconds=collective_timeout)
    return tf.distribute.MultiWorkerMirroredStrategy(
        communication_options=options)
  raise ConfigError(f"unknown --strategy {name!r}; choose default, mirrored "
                    "or multi_worker")


def _task(strategy):
  """(task_type, task_id, is_chief) of this process in its cluster."""
  resolver = getattr(strategy, "cluster_resolver", None)
  cluster = resolver.cluster_spec().as_dict() if resolver else {}
  if not cluster:
    return None, 0, True
  task_type, task_id = resolver.task_type, resolver.task_id or 0
  is_chief = (task_type == "chief" or
              (task_type == "worker" and task_id == 0 and
               "chief" not in cluster))
  return task_type, task_id, is_chief


def _distributed_dataset(config, strategy, start_step):
  """Batches of the global batch, split over replicas (and workers).

  Every input pipeline renders the same global batch of step ``i`` and keeps
  its own slice, and each replica receives a contiguous part of it, so the
  examples (and the latent noise, see BetaVAE) that make up a step do not
  depend on how many devices or workers share it: a run on several replicas
  follows the single-device run.
  """
  global_batch = config.batch_size

  def dataset_fn(context):
    per_replica = context.get_per_replica_batch_size(global_batch)
    per_pipeline = global_batch // context.num_input_pipelines
    first = context.input_pipeline_id * per_pipeline
    dataset, _ = data_lib.training_dataset(
        config.dataset, global_batch, config.seed, start_batch=start_step,
        data_dir=config.data_dir, dsprites_file=config.dsprites_file)
    if context.num_input_pipelines > 1:
      dataset = dataset.map(lambda batch: batch[first:first + per_pipeline])
    if per_replica != per_pipeline:
      dataset = dataset.rebatch(per_replica)
    return dataset.prefetch(tf.data.AUTOTUNE)

  return strategy.distribute_datasets_from_function(dataset_fn)


def _restore_latest_good(checkpoint, manager):
  """Restores the newest readable checkpoint.

  A truncated or corrupt newest checkpoint is reported (warning naming the
  file) and the previous one is tried; if none can be read, raises rather
  than silently starting from scratch.

  Returns:
    path of the restored checkpoint, or None when there is none at all.
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
  raise CheckpointError(
      "no readable checkpoint in " + os.path.dirname(candidates[0]) + ": " +
      "; ".join(errors) + " — move the directory away to start afresh")


def _locate_nonfinite_step(model, runner, config, strategy, checkpoint,
                           manager, chunk_end):
  """Replays from the last checkpoint step by step to find the first step
  whose loss is not finite (data and noise are deterministic).  Returns the
  step number, or None if there is no checkpoint to replay from."""
  if not manager.latest_checkpoint:
    return None
  checkpoint.restore(manager.latest_checkpoint)
  step = current_step(model)
  iterator = iter(_distributed_dataset(config, strategy, step))
  one = tf.constant(1, tf.int64)
  while step < chunk_end:
    for tracker in model.metrics:
      tracker.reset_state()
    runner.run(iterator, one)
    step += 1
    if not math.isfinite(float(model.loss_tracker.result())):
      return step
  return None


def make_optimizer(config):
  """Adam with the run's learning rate or schedule (tf_betavae.learning_rate)."""
  return keras.optimizers.Adam(learning_rate_lib.schedule(config))


def train(config, model_dir, export_dir=None, export_name=None,
          strategy=None):
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

  Returns:
    dict: final step, final tracker values, steps/s of this invocation,
    wall seconds, checkpoint path and export path (or None).

  Raises:
    ConfigError: a bad setting or an incompatible model_dir.
    tf_betavae.data.DatasetUnavailableError: the dataset's data is missing.
    CheckpointError: model_dir has checkpoints but none is readable.
    NonFiniteLossError: the loss became NaN or infinite.
  """
  start_time = time.time()
  config.validate()
  strategy = strategy or tf.distribute.get_strategy()
  _, task_id, is_chief = _task(strategy)
  if is_chief:
    _prepare_model_dir(model_dir)
    if export_dir:
      _check_writable_root(export_dir, "--export_dir")
  stored_config = _check_resume_compatible(config, model_dir)
  image_shape = data_lib.image_shape(config.dataset)
  replicas = strategy.num_replicas_in_sync
  if config.batch_size % replicas:
    raise ConfigError(f"--batch_size {config.batch_size} must be a multiple "
                      f"of the {replicas} replicas")

  keras.utils.set_random_seed(config.seed)
  previous_policy = keras.mixed_precision.dtype_policy()
  if config.mixed_precision:
    keras.mixed_precision.set_dtype_policy(config.mixed_precision)
  try:
    with strategy.scope():
      model = build_model(config, image_shape)
      model.compile(optimizer=make_optimizer(config))
      model.optimizer.build(model.trainable_variables)
  finally:
    keras.mixed_precision.set_dtype_policy(previous_policy)

  checkpoint = make_checkpoint(model)
  manager = tf.train.CheckpointManager(
      checkpoint, os.path.join(model_dir, CHECKPOINT_SUBDIR), max_to_keep=3)
  restored = _restore_latest_good(checkpoint, manager)
  if restored:
    logging.info("resumed from %s at step %d", restored,
                 current_step(model))
  # Non-chief workers write their (required) share of each save to a
  # private directory that is deleted right after.
  save_manager = manager
  if not is_chief:
    save_manager = tf.train.CheckpointManager(
        checkpoint, os.path.join(model_dir, f".worker-{task_id}-tmp"),
        max_to_keep=1)
  if is_chief:
    _record_setting_changes(config, stored_config, model_dir,
                            current_step(model))
    io_utils.write_json_atomic(os.path.join(model_dir, RUN_CONFIG_FILE),
                               config.to_dict())

  step = current_step(model)
  start_step = step
  iterator = iter(_distributed_dataset(config, strategy, step))
  runner = StepRunner(model, strategy, config.jit_compile)
  writer = (tf.summary.create_file_writer(os.path.join(model_dir, "train"))
            if is_chief else None)

  pictures = _Pictures(model, config, model_dir) if is_chief else None

  def save(number):
    save_manager.save(checkpoint_number=number)
    if not is_chief:
      shutil.rmtree(save_manager.directory, ignore_errors=True)

  values = _tracker_values(model)
  train_start = last_log_time = time.time()
  while step < config.steps:
    next_log = (step // config.log_every + 1) * config.log_every
    next_checkpoint = (step // config.checkpoint_every +
                       1) * config.checkpoint_every
    next_stop = min(next_log, next_checkpoint, config.steps)
    if config.image_summary_every:
      next_stop = min(next_stop, (step // config.image_summary_every + 1) *
                      config.image_summary_every)
    chunk = next_stop - step
    for tracker in model.metrics:
      tracker.reset_state()
    runner.run(iterator, tf.constant(chunk, tf.int64))
    chunk_end = step + chunk
    step = current_step(model)
    values = _tracker_values(model)
    if not all(math.isfinite(v) for v in values.values()):
      bad_step = _locate_nonfinite_step(model, runner, config, strategy,
                                        checkpoint, manager, chunk_end)
      where = (f"at step {bad_step}" if bad_step else
               f"in steps {chunk_end - chunk + 1}-{chunk_end}")
      raise NonFiniteLossError(
          f"non-finite loss {where}; nothing after the last good checkpoint "
          f"was saved: {manager.latest_checkpoint or 'none (no checkpoint)'}")
    now = time.time()
    steps_per_second = chunk / max(now - last_log_time, 1e-9)
    last_log_time = now
    if writer is not None:
      _write_summaries(writer,
                       dict(values, steps_per_second=steps_per_second), step)
    if pictures is not None and config.image_summary_every and (
        step % config.image_summary_every == 0 or step >= config.steps):
      pictures.summaries(writer, step)
    active = sum(1 for k, v in values.items()
                 if k.startswith("kl_latent_") and v > 0.1)
    logging.info(
        "step %d/%d  loss %.2f  reconstruction %.2f  kl %.2f  active latents "
        "%d  %.1f steps/s (%.0f images/s)", step, config.steps,
        values["loss"], values["reconstruction"], values["kl"], active,
        steps_per_second, steps_per_second * config.batch_size)
    if step % config.checkpoint_every == 0 or step >= config.steps:
      save(step)
  if manager.latest_checkpoint is None or not manager.latest_checkpoint.endswith(
      f"-{step}"):
    save(step)

  train_seconds = time.time() - train_start
  if pictures is not None and step > start_step:
    pictures.files()
  wall_seconds = time.time() - start_time
  export_path = None
  previous = _previous_summary(model_dir)
  if not is_chief:
    pass
  elif (export_dir and previous.get("step") == step and
        previous.get("export_path") and
        os.path.exists(previous["export_path"])):
    export_path = previous["export_path"]
    logging.info("step %d is already exported at %s", step, export_path)
  elif export_dir:
    from tf_betavae import export as export_lib  # pylint: disable=g-import-not-at-top
    export_path = export_lib.export_model(
        model, export_dir, model_name=export_name,
        metadata=export_lib.training_metadata(
            config, step, settings_history(model_dir)))
    logging.info("exported to %s", export_path)
  if step == start_step:
    # Nothing trained in this invocation: the trackers hold nothing, so keep
    # the values the run ended with (unknown if it was killed before its
    # summary was written).
    values = (previous.get("metrics") if previous.get("step") == step
              else None)
  summary = {
      "step": step,
      "steps_this_run": step - start_step,
      "metrics": values,
      "wall_seconds": wall_seconds,
      "train_seconds": train_seconds,
      "steps_per_second": (step - start_step) / max(train_seconds, 1e-9),
      "checkpoint": manager.latest_checkpoint,
      "export_path": export_path,
      "is_chief": is_chief,
      "replicas": replicas,
  }
  if is_chief:
    io_utils.write_json_atomic(os.path.join(model_dir, SUMMARY_FILE), summary)
  return summary


class _Pictures:
  """Traversals, reconstructions and KL charts of the live model.

  Drawing is best effort: a failure is logged and training goes on.
  """

  def __init__(self, model, config, model_dir):
    from tf_betavae.visualize import sources  # pylint: disable=g-import-not-at-top
    from tf_betavae.visualize import summaries  # pylint: disable=g-import-not-at-top
    self._summaries = summaries
    self._config = config
    self._model_dir = model_dir
    self._source = sources.from_model(model, dataset=config.dataset)
    self._images = None

  def _sample_images(self):
    if self._images is None:
      self._images = self._summaries.sample_images(
          self._config.dataset, 64, seed=self._config.seed,
          data_dir=self._config.data_dir)
    return self._images

  def summaries(self, writer, step):
    try:
      self._summaries.write_image_summaries(
          writer, step, self._source.encode_fn, self._source.decode_fn,
          self._sample_images())
      writer.flush()
    except Exception as e:  # pylint: disable=broad-except
      logging.warning("image summaries at step %d failed: %s", step, e)

  def files(self):
    try:
      self._summaries.write_image_files(
          self._model_dir, self._source.encode_fn, self._source.decode_fn,
          self._sample_images(),
          ground_truth=self._summaries.ground_truth_or_none(
              self._config.dataset, self._config.data_dir))
    except Exception as e:  # pylint: disable=broad-except
      logging.warning("writing the pictures into %s failed: %s",
                      self._model_dir, e)


def _previous_summary(model_dir):
  path = os.path.join(model_dir, SUMMARY_FILE)
  return io_utils.read_json(path) if os.path.exists(path) else {}


def restore_model(model_dir):
  """Rebuilds the model of a run and restores its latest checkpoint.

  Returns:
    (model, config): a compiled BetaVAE and the run's TrainConfig.

  Raises:
    FileNotFoundError: model_dir holds no run or no checkpoint.
  """
  config_path = os.path.join(model_dir, RUN_CONFIG_FILE)
  if not os.path.exists(config_path):
    raise FileNotFoundError(f"{model_dir} holds no training run "
                            f"({RUN_CONFIG_FILE} is missing)")
  config = TrainConfig(**io_utils.read_json(config_path))
  model = build_model(config, data_lib.image_shape(config.dataset))
  model.compile(optimizer=make_optimizer(config))
  model.optimizer.build(model.trainable_variables)
  latest = tf.train.latest_checkpoint(os.path.join(model_dir,
                                                   CHECKPOINT_SUBDIR))
  if latest is None:
    raise FileNotFoundError(f"{model_dir} holds no checkpoint")
  make_checkpoint(model).restore(latest).assert_existing_objects_matched()
  return model, config
