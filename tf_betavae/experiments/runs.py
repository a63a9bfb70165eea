"""Training runs of an experiment: where they live, train or reuse them.

Layout under a reproduction's ``work_dir``::

  runs/<recipe name>/seed<s>/                 a training run (training.train)
  runs/<recipe name>/seed<s>/exported/model/<version>/   its SavedModel
  runs/<recipe name>/seed<s>/reproduce_train_seconds.json  its training
      wall seconds, summed over invocations by the process that trained it

A run whose ``train_summary.json`` says it reached ``steps`` and whose
export exists is finished: it is reused untouched (no model is built).
Raising ``steps`` continues every run from its checkpoint.  A run is
trained, checked and its seconds recorded under its directory's lock
(``tf_betavae.locking``), so a run another process is training is refused
with ``locking.LockHeldError``, never trained twice at once.
"""

import dataclasses
import hashlib
import json
import os

from absl import logging

from tf_betavae import io_utils
from tf_betavae import locking
from tf_betavae import training
from tf_betavae.experiments import parallel
from tf_betavae import progress
from tf_betavae.models import methods as methods_lib

EXPORT_SUBDIR = "exported"
EXPORT_NAME = "model"
TRAIN_SECONDS_FILE = "reproduce_train_seconds.json"
# Settings that change how a run is executed or logged, not what it learns.
_NOT_RECIPE = ("seed", "checkpoint_every", "log_every", "image_summary_every",
               "jit_compile", "mixed_precision", "data_dir")
# Settings TrainConfig gained after work dirs were first named: in a digest
# only where they differ from their default or the run's method reads them,
# so the runs named before keep their names (and are reused).
_LATER_SETTINGS = ("method", "factor_gamma", "discriminator_learning_rate",
                   "lambda_od", "lambda_d_factor", "scream_image",
                   "beta_hold_steps", "beta_warmup_steps")


def _name_prefix(config):
  """'beta16-H' for the β-VAE and AnnealedVAE (named by --objective),
  'beta16-hold8000-ramp4000-H' with a β warm-up; the method and its
  hyperparameter for the others: 'factor_vae-factor_gamma35'."""
  if config.method in methods_lib.OBJECTIVE_OF_METHOD:
    ramp = ""
    if config.beta_hold_steps:
      ramp += f"-hold{config.beta_hold_steps}"
    if config.beta_warmup_steps:
      ramp += f"-ramp{config.beta_warmup_steps}"
    return f"beta{config.beta:g}{ramp}-{config.objective}"
  hyperparameter = methods_lib.get(config.method).hyperparameter
  return (f"{config.method}-{hyperparameter}"
          f"{getattr(config, hyperparameter):g}")


def recipe_name(config):
  """Directory name of a recipe (all but steps and seed), e.g.
  'beta16-H-lr0.001-bs64-conv-z10-1a2b3c', with a learning-rate schedule
  'beta16-H-lr0.001-warmup2000-cosine20000-bs64-conv-z10-4d5e6f', or for a
  method other than the β-VAE and AnnealedVAE
  'factor_vae-factor_gamma35-lr0.001-bs64-conv-z10-7a8b9c'.

  A constant rate without warm-up leaves the schedule settings out of the
  name and its digest, so work dirs of such runs keep their names (and are
  reused) whatever schedule settings exist.
  """
  values = config.to_dict()
  defaults = training.TrainConfig().to_dict()
  for name in _LATER_SETTINGS:
    if name in values and values[name] == defaults[name]:
      del values[name]
  if config.method in methods_lib.OBJECTIVE_OF_METHOD:
    values.pop("method", None)  # --objective names it
  else:
    values.update(methods_lib.hyperparameters(config))
  cosine = config.lr_decay == "cosine"
  # A cosine schedule depends on the run's length: its steps are part of the
  # recipe, so --steps=N never resumes a run made for another length.
  for name in (() if cosine else ("steps",)) + _NOT_RECIPE:
    values.pop(name, None)
  schedule = ""
  if config.lr_warmup_steps == 0 and not cosine:
    values.pop("lr_warmup_steps", None)
    values.pop("lr_decay", None)
  else:
    schedule = (f"-warmup{config.lr_warmup_steps}"
                + (f"-cosine{config.steps}" if cosine else ""))
  digest = hashlib.sha1(json.dumps(values, sort_keys=True).encode()).hexdigest()
  return (f"{_name_prefix(config)}-lr{config.learning_rate:g}"
          f"{schedule}-bs{config.batch_size}-{config.arch}"
          f"-z{config.latent_dim}-{digest[:6]}")


def run_directory(settings, config):
  """<work_dir>/runs/<recipe name>/seed<s> of one run."""
  return os.path.join(settings.work_dir, "runs", recipe_name(config),
                      f"seed{config.seed}")


def finished_summary(config, run_dir):
  """The run's training summary if it reached config.steps and its export
  exists, else None."""
  summary = io_utils.read_json_if_present(
      os.path.join(run_dir, training.SUMMARY_FILE))
  if (summary and summary.get("step") == config.steps and
      summary.get("export_path") and os.path.exists(summary["export_path"])):
    return summary
  return None


def train_or_reuse(config, run_dir, record_seconds=True):
  """Trains (or resumes) one run; reuses it untouched when it is finished.

  Args:
    config: training.TrainConfig of the run.
    run_dir: its model directory; the export goes to
      <run_dir>/exported/model/<version>.
    record_seconds: add the training's wall seconds to
      <run_dir>/reproduce_train_seconds.json (a reproduction's bookkeeping).

  Returns:
    (summary, reused): training.train's summary dict (export_path, step,
    metrics with kl_latent_<j> in nats, wall_seconds) and whether the run
    was finished already.

  Raises:
    tf_betavae.locking.LockHeldError: another live process holds the run
      directory's lock (e.g. a train.py started on it by hand).
  """
  # One lock from the finished check to the seconds' record: the check
  # cannot go stale and the record's read-modify-write cannot lose an
  # update.  training.train is told not to lock again: a second flock of
  # the same file from this process would be refused.
  with locking.exclusive(run_dir, f"run directory {run_dir}"):
    summary = finished_summary(config, run_dir)
    if summary:
      logging.info("%s is trained to step %d; reusing it", run_dir,
                   config.steps)
      return summary, True
    logging.info("training %s (%s, seed %d, %d steps)", run_dir,
                 _name_prefix(config), config.seed, config.steps)
    summary = training.train(config, run_dir,
                             export_dir=os.path.join(run_dir, EXPORT_SUBDIR),
                             export_name=EXPORT_NAME, lock_run_dir=False)
    if record_seconds:
      # Recorded here, in the process that trained the run, so the time of
      # a run finished by a worker survives an interruption of the others.
      add_train_seconds(run_dir, summary.get("wall_seconds"))
    return summary, False


def add_train_seconds(run_dir, seconds):
  """Adds one training invocation's wall seconds to the run's record."""
  path = os.path.join(run_dir, TRAIN_SECONDS_FILE)
  record = io_utils.read_json_if_present(path) or {"seconds": 0.0}
  record["seconds"] += float(seconds or 0.0)
  io_utils.write_json_atomic(path, record)


def train_seconds(run_dir):
  """Training wall seconds of a run summed over the invocations that
  trained it (0.0 when none recorded)."""
  record = io_utils.read_json_if_present(
      os.path.join(run_dir, TRAIN_SECONDS_FILE))
  return round(record["seconds"], 1) if record else 0.0


@dataclasses.dataclass(frozen=True)
class TrainingJob:
  """One run of a reproduction: a trained model of the table and a seed."""

  model: str
  seed: int
  config: object  # training.TrainConfig
  run_dir: str


def training_jobs(settings):
  """Every trained (model, seed) of the table, in table then seed order."""
  jobs = []
  for model, _, kind in settings.table_models():
    if kind != "trained":
      continue
    for seed in settings.model_seeds(model):
      config = settings.model_train_config(model, seed)
      jobs.append(TrainingJob(model, seed, config,
                              run_directory(settings, config)))
  return jobs


def train_all(settings):
  """Trains (or reuses) the β-VAE, VAE and other methods' runs of every
  seed.

  With ``settings.parallel_runs`` > 1, the runs that still need training
  are trained ``parallel_runs`` at a time in worker processes pinned to
  disjoint CPUs (experiments.parallel); finished runs are reused without
  starting a worker.

  Returns:
    {run_dir: (summary, reused)} as ``train_or_reuse`` returns them.
  """
  runs, to_train = {}, []
  for job in training_jobs(settings):
    if finished_summary(job.config, job.run_dir):
      runs[job.run_dir] = train_or_reuse(job.config, job.run_dir)
    else:
      to_train.append(job)
  counter = progress.Progress("run", len(to_train))

  def done(index, _):
    counter.finished(_job_text(to_train[index]))

  if settings.parallel_runs > 1 and len(to_train) > 1:
    logging.info("training %d runs, %d at a time in pinned processes",
                 len(to_train), settings.parallel_runs)
    outcomes = parallel.run_pinned(
        train_or_reuse, [(job.config, job.run_dir) for job in to_train],
        settings.parallel_runs, on_done=done)
  else:
    outcomes = []
    for index, job in enumerate(to_train):
      counter.starting(index, _job_text(job))
      outcomes.append(train_or_reuse(job.config, job.run_dir))
      done(index, outcomes[-1])
  for job, outcome in zip(to_train, outcomes):
    runs[job.run_dir] = outcome
  return runs


def _job_text(job):
  return f"{job.model} seed {job.seed}, {job.config.steps} steps"
