"""One job of a study, end to end: train, export, evaluate, mark done.

  <study_dir>/jobs/<job_id>/run/                  the training run
  <study_dir>/jobs/<job_id>/exported/model/<v>/   its SavedModel
  <study_dir>/jobs/<job_id>/metrics/<metric>.json one cached score
  <study_dir>/jobs/<job_id>/seconds.json          wall seconds over tries
  <study_dir>/jobs/<job_id>/done.json             written last

``run_job`` trains (resuming from the run's last checkpoint after a kill),
exports, scores the export with each of the study's metrics (a score is
cached under a key of its sizes, seed and export, so a rerun computes only
what is missing) and writes the job's result row into done.json, the last
file it writes.  A job with done.json is skipped before anything is
imported or locked.  Everything from the first write to done.json happens
under the job directory's lock (tf_betavae.locking), so two processes,
on one machine or on several sharing the directory, never work on one job
at once: the second is told the job is busy.

``run_job_task(study_dir, model_num)`` is what every engine calls, in a
fresh process: it reads the study from study.json, runs the job and returns
an outcome dict instead of raising, after recording a failure in
failed.json.  The job that completes a (dataset, variant, method, value)
group then scores the group's UDR (studies.group_udr) in the same process.

This module imports TensorFlow (inside the functions that train and score,
so that an engine's driver can name ``run_job_task`` without loading it).
"""

import errno
import os
import socket
import time
import traceback

from absl import logging

from tf_betavae import io_utils
from tf_betavae import locking
from tf_betavae.studies import spec as spec_lib
from tf_betavae.studies import study_dir as study_dir_lib

RUN_SUBDIR = "run"
EXPORT_SUBDIR = "exported"
EXPORT_NAME = "model"
METRICS_SUBDIR = "metrics"
SECONDS_FILE = "seconds.json"
# What an outcome's "state" says.
DONE = "done"
FAILED = "failed"
BUSY = "busy"  # another live process holds the job's lock
SKIPPED = "skipped"  # done.json was there already


class JobBusyError(RuntimeError):
  """Another live process works on the job (it holds the job's lock)."""


class NoLocksError(OSError):
  """The study directory's filesystem refuses file locks."""


# What flock raises on a filesystem without locks (an NFS mount without
# its lock service, some FUSE filesystems).
_NO_LOCK_ERRNOS = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS)


def load_spec(study_dir):
  """The StudySpec recorded in <study_dir>/study.json.

  Raises:
    StudyError: no study.json there, or not a study's.
  """
  path = os.path.join(study_dir, study_dir_lib.STUDY_FILE)
  try:
    record = io_utils.read_json_if_present(path)
  except ValueError:
    record = "not JSON"
  if record is None:
    raise spec_lib.StudyError(f"{path} does not exist; create the study with "
                              "scripts/study.py first")
  return spec_lib.spec_from_record(record)


def train_config(job):
  """The training.TrainConfig of a job.

  TrainConfig's defaults, then the job's train.py preset, the method's own
  learning rate where the settings give none, the job's settings (the
  study's shared ones, its variant's and its group's), and the grid's
  dataset, method, value, seed and steps.  Log and checkpoint intervals
  are capped at the steps, so a short job still checkpoints and logs.

  Raises:
    training.ConfigError: a setting TrainConfig refuses.
  """
  from tf_betavae import training  # pylint: disable=g-import-not-at-top
  from tf_betavae.models import methods as methods_lib  # pylint: disable=g-import-not-at-top
  from tf_betavae.training import presets  # pylint: disable=g-import-not-at-top

  values = training.TrainConfig().to_dict()
  if job.train_preset is not None:
    values.update(presets.PRESETS[job.train_preset])
  shared = dict(job.train_settings)
  if "learning_rate" not in shared:
    values["learning_rate"] = methods_lib.default_learning_rate(
        job.method, values["learning_rate"])
  values.update(shared)
  # The β-VAE may name its objective (H, or B with a capacity); every
  # other method's objective is its own.
  objective = methods_lib.OBJECTIVE_OF_METHOD.get(job.method, "H")
  if job.method == "beta_vae":
    objective = shared.get("objective", objective)
  values.update(dataset=job.dataset, method=job.method, seed=job.seed,
                objective=objective)
  values[job.hyperparameter] = float(job.value)
  if job.steps is not None:
    values["steps"] = job.steps
  for name in ("log_every", "checkpoint_every"):
    values[name] = max(1, min(values[name], values["steps"]))
  config = training.TrainConfig(**values)
  config.validate()
  return config


def _add_seconds(directory, name, seconds):
  """Adds ``seconds`` to the job's ``name`` total in seconds.json, summed
  over the job's tries.  Each try records its time when its stage ends, so
  a try killed mid-stage adds nothing for that stage."""
  path = os.path.join(directory, SECONDS_FILE)
  record = io_utils.read_json_if_present(path) or {}
  record[name] = round(record.get(name, 0.0) + float(seconds or 0.0), 2)
  io_utils.write_json_atomic(path, record)
  return record


def finished_summary(config, run_dir):
  """The run's training summary if it reached config.steps and its export
  exists, else None."""
  from tf_betavae import training  # pylint: disable=g-import-not-at-top
  summary = io_utils.read_json_if_present(
      os.path.join(run_dir, training.SUMMARY_FILE))
  if (summary and summary.get("step") == config.steps and
      summary.get("export_path") and os.path.exists(summary["export_path"])):
    return summary
  return None


def _train(config, directory):
  """Trains or resumes the job's run; reuses a finished run untouched.

  Returns:
    training.train's summary (step, metrics, export_path, wall_seconds).
  """
  from tf_betavae import training  # pylint: disable=g-import-not-at-top

  run_dir = os.path.join(directory, RUN_SUBDIR)
  summary = finished_summary(config, run_dir)
  if summary:
    return summary
  summary = training.train(
      config, run_dir, export_dir=os.path.join(directory, EXPORT_SUBDIR),
      export_name=EXPORT_NAME, lock_run_dir=False)
  _add_seconds(directory, "train_seconds", summary.get("wall_seconds"))
  return summary


# The paper protocol's classifier, part of its scores' keys (as in
# tf_betavae.experiments.evaluations): another classifier recomputes them.
PAPER_CLASSIFIER = "full-batch-adagrad-standardised"


def _metric_key(spec, job, metric, export_path, step,
                representation=spec_lib.MEAN):
  """What one cached score depends on.  A disentanglement_lib-protocol
  metric's key on the mean is the same as before the paper protocol and
  the sampled representation were choices, so its cached scores stay
  valid."""
  num_train, num_eval = spec.sizes_of(metric)
  name, protocol, paper_factors = spec_lib.metric_variant(metric)
  key = {"metric": name, "protocol": protocol,
         "num_train": num_train, "num_eval": num_eval,
         "metric_seed": spec.metric_seed + job.seed,
         "representation": representation,
         "export": os.path.basename(export_path), "step": step}
  if paper_factors is not None:
    key.update(paper_factors=paper_factors, classifier=PAPER_CLASSIFIER)
  return key


def _metric_file(directory, metric, representation):
  suffix = "" if representation == spec_lib.MEAN else f".{representation}"
  return os.path.join(directory, METRICS_SUBDIR, f"{metric}{suffix}.json")


def metric_path(study_dir, job, metric, representation=spec_lib.MEAN):
  """<study_dir>/jobs/<job_id>/metrics/<metric>.json (the mean) or
  <metric>.<representation>.json: one cached score (``{"key": ...,
  "result": the metric's full result}``)."""
  return _metric_file(study_dir_lib.job_dir(study_dir, job), metric,
                      representation)


def _evaluate(spec, job, config, directory, summary):
  """Every metric of the study on each of its representations of the
  job's export, each score cached on its own.

  Returns:
    {score key (spec_lib.score_key): result dict with ``score`` and
    ``seconds``}.
  """
  from tf_betavae import data as data_lib  # pylint: disable=g-import-not-at-top
  from tf_betavae.experiments import cache  # pylint: disable=g-import-not-at-top

  export_path = summary["export_path"]
  results, pending = {}, {}
  for representation in spec.representations:
    for metric in spec.metrics:
      key = _metric_key(spec, job, metric, export_path, summary["step"],
                        representation)
      path = _metric_file(directory, metric, representation)
      cached = cache.load(path, key)
      if cached is not None:
        results[spec_lib.score_key(metric, representation)] = cached
      else:
        pending.setdefault(representation, []).append((metric, key, path))
  if not pending:
    return results
  start = time.time()
  ground_truth = data_lib.source_of(config).ground_truth()
  for representation, metrics_pending in pending.items():
    for metric, key, path, result in _score(
        ground_truth, export_path, representation, metrics_pending):
      cache.store(path, key, result)
      results[spec_lib.score_key(metric, representation)] = result
  _add_seconds(directory, "evaluation_seconds", time.time() - start)
  return results


def _score(ground_truth, export_path, representation, pending):
  """Yields (metric, key, path, result) of each pending metric.

  The export's posterior mean (serving_default), or for the sampled
  representation its posterior (``encode``: mean and log variance), is
  encoded once per observation when the metrics would encode more (the
  scores do not depend on it); a sampled metric draws its noise from its
  own stream (tf_betavae.metrics.representation.sampling_random_state).
  """
  from tf_betavae import metrics  # pylint: disable=g-import-not-at-top
  from tf_betavae.experiments import evaluations  # pylint: disable=g-import-not-at-top
  from tf_betavae.metrics import code_table  # pylint: disable=g-import-not-at-top
  from tf_betavae.metrics import representation as representation_lib  # pylint: disable=g-import-not-at-top

  if representation == spec_lib.SAMPLED:
    encoder = representation_lib.saved_model_posterior(
        export_path, observation_shape=ground_truth.observation_shape)
  else:
    encoder = metrics.saved_model_representation(
        export_path, observation_shape=ground_truth.observation_shape)
  planned = sum(
      code_table.planned_images(key["metric"], metrics.metric_sizes(
          key["metric"], key["protocol"], key["num_train"], key["num_eval"]))
      for _, key, _ in pending)
  encoder, _ = metrics.tabulate_if_worth_it(ground_truth, encoder, planned)
  for metric, key, path in pending:
    codes = encoder
    if representation == spec_lib.SAMPLED:
      codes = representation_lib.sampled(
          encoder, representation_lib.sampling_random_state(
              key["metric_seed"], metric))
    yield metric, key, path, evaluations.timed_metric(
        key["metric"], ground_truth, codes, key["metric_seed"],
        protocol=key["protocol"], num_train=key["num_train"],
        num_eval=key["num_eval"],
        paper_factors=key.get("paper_factors", "auto"))


def result_row(study_dir, job, summary, results, seconds):
  """The job's row of the study's results (what done.json holds).

  Returns:
    dict: the job's grid settings (its variant's label only in a study
    with variants), steps, host, seconds (wall, training,
    evaluation; summed over tries), export_path (relative to study_dir),
    the run's final reconstruction and KL (nats), its active latents and
    ``metrics`` {metric: score}.
  """
  from tf_betavae.models import latent_stats  # pylint: disable=g-import-not-at-top

  values = summary.get("metrics") or {}
  kl_latents = [v for k, v in sorted(values.items())
                if k.startswith("kl_latent_")]
  train_seconds = seconds.get("train_seconds", 0.0)
  evaluation_seconds = seconds.get("evaluation_seconds", 0.0)
  row = {
      "model_num": job.model_num, "job_id": spec_lib.job_id(job),
      "dataset": job.dataset, "method": job.method,
      "hyperparameter": job.hyperparameter, "value": float(job.value),
      "seed": job.seed, "steps": summary["step"],
      "host": socket.gethostname(),
      "wall_seconds": round(train_seconds + evaluation_seconds, 2),
      "train_seconds": train_seconds,
      "evaluation_seconds": evaluation_seconds,
      "export_path": os.path.relpath(summary["export_path"], study_dir),
      "reconstruction": _float(values.get("reconstruction")),
      "kl": _float(values.get("kl")),
      "active_latents": len(latent_stats.active_latents(kl_latents)),
      "metrics": {m: float(r["score"]) for m, r in results.items()},
  }
  if job.variant:
    row["variant"] = job.variant
  return row


def _float(value):
  return None if value is None else float(value)


def done_row(study_dir, job):
  """The job's row from its done.json, or None if it is not done."""
  record = io_utils.read_json_if_present(os.path.join(
      study_dir_lib.job_dir(study_dir, job), study_dir_lib.DONE_FILE))
  return None if record is None else record.get("result")


def run_job(study_dir, spec, job):
  """Runs one job to done.json, or returns its row if it is done.

  Returns:
    (row, ran): the result row and whether this call did any work.

  Raises:
    JobBusyError: another live process holds the job's lock.
    Any error of training or scoring (the caller records it).
  """
  row = done_row(study_dir, job)
  if row is not None:
    return row, False
  directory = study_dir_lib.job_dir(study_dir, job)
  try:
    with locking.exclusive(directory, f"study job {spec_lib.job_id(job)}"):
      row = done_row(study_dir, job)  # finished while we waited to lock
      if row is not None:
        return row, False
      study_dir_lib.write_job_file(study_dir, job)
      config = train_config(job)
      summary = _train(config, directory)
      results = _evaluate(spec, job, config, directory, summary)
      seconds = io_utils.read_json_if_present(
          os.path.join(directory, SECONDS_FILE)) or {}
      row = result_row(study_dir, job, summary, results, seconds)
      study_dir_lib.mark_done(study_dir, job, row)
      return row, True
  except locking.LockHeldError as e:
    raise JobBusyError(str(e)) from None
  except OSError as e:
    if e.errno in _NO_LOCK_ERRNOS:
      raise NoLocksError(
          e.errno, f"the filesystem of {directory} refuses file locks "
          f"({os.strerror(e.errno)}); a study needs a shared POSIX "
          "filesystem with flock (local disk, NFSv4, Lustre, GPFS, CephFS)"
      ) from None
    raise


def one_line(error):
  text = " ".join(str(error).split()) or type(error).__name__
  return text if len(text) <= 500 else text[:497] + "..."


def outcome(job, state, seconds, error=None, row=None):
  """What an engine gets back from a task: a small JSON-ready dict."""
  return {"model_num": job.model_num, "job_id": spec_lib.job_id(job),
          "state": state, "error": error, "host": socket.gethostname(),
          "pid": os.getpid(), "seconds": round(seconds, 2), "row": row}


def set_threads(threads):
  """TensorFlow's CPU thread pools: ``threads`` for a kernel, as many
  kernels at once.  Engines run each job in a fresh process, where this
  comes before TensorFlow's first op; a process that has run ops already
  keeps its pools (TensorFlow refuses the change) and says so."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  try:
    tf.config.threading.set_intra_op_parallelism_threads(int(threads))
    tf.config.threading.set_inter_op_parallelism_threads(int(threads))
  except RuntimeError as e:
    logging.warning("keeping TensorFlow's thread pools of this process "
                    "(%s)", e)


def run_job_task(study_dir, model_num):
  """An engine's task: job ``model_num`` of the study in ``study_dir``.

  Never raises for the job's own errors: a failed job's error goes to its
  failed.json and into the outcome, so the other jobs of the study go on.

  Args:
    study_dir: the study directory (a shared filesystem for several
      machines).
    model_num: the job's number in the study.

  Returns:
    dict: model_num, job_id, state (DONE, SKIPPED, BUSY or FAILED), error
    (one line or None), host, pid, seconds, row (the result row or None).
  """
  start = time.time()
  spec = load_spec(study_dir)
  job = spec_lib.job_of(spec, model_num)
  row = done_row(study_dir, job)
  if row is not None:
    return outcome(job, SKIPPED, time.time() - start, row=row)
  try:
    set_threads(spec.threads_per_job)
    row, ran = run_job(study_dir, spec, job)
    if ran:
      # Here, not at the top: group_udr builds on this module.
      from tf_betavae.studies import group_udr  # pylint: disable=g-import-not-at-top
      group_udr.score_if_group_complete(study_dir, spec, job)
    return outcome(job, DONE if ran else SKIPPED, time.time() - start,
                   row=row)
  except JobBusyError as e:
    return outcome(job, BUSY, time.time() - start, error=one_line(e))
  except Exception as e:  # pylint: disable=broad-except
    detail = traceback.format_exc(limit=20)
    try:
      study_dir_lib.mark_failed(study_dir, job, e, host=socket.gethostname(),
                                traceback=detail)
    except OSError:
      pass  # the outcome still says why
    return outcome(job, FAILED, time.time() - start,
                   error=f"{type(e).__name__}: {one_line(e)}")
