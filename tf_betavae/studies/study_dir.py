"""The files of a study directory.

  <study_dir>/study.json                 the study (StudySpec.record())
  <study_dir>/jobs/<job_id>/job.json     the job's settings and model_num
  <study_dir>/jobs/<job_id>/failed.json  the error of its last failed try
  <study_dir>/jobs/<job_id>/done.json    written last, when it is finished
  <study_dir>/jobs/<job_id>/.lock        held while a process works on it

study.json is written on first use; a later use with a study that differs
in any recorded field is refused (slices of one study agree, so machines
that each take a slice share the directory).  Markers are written
atomically (tf_betavae.io_utils), so a reader sees a whole marker or none;
done.json is the last file a finished job writes, so its presence means
everything before it is there.
"""

import os

from tf_betavae import io_utils
from tf_betavae import locking
from tf_betavae.studies import spec as spec_lib

STUDY_FILE = "study.json"
JOBS_SUBDIR = "jobs"
JOB_FILE = "job.json"
DONE_FILE = "done.json"
FAILED_FILE = "failed.json"

# What job_state returns.
DONE = "done"
FAILED = "failed"
RUNNING = "running"
STARTED = "started"  # its directory exists, no marker, nobody holds it
PENDING = "pending"  # no directory yet
STATES = (DONE, FAILED, RUNNING, STARTED, PENDING)


def open_study(study_dir, spec):
  """Records ``spec`` in study_dir/study.json, or checks it against the
  recorded study.

  Returns:
    str, the path of study.json.

  Raises:
    StudyError: study_dir records another study (the message names each
      differing field), or holds a study.json that is not one.
  """
  path = os.path.join(study_dir, STUDY_FILE)
  record = spec.record()
  try:
    stored = io_utils.read_json_if_present(path)
  except ValueError:  # not JSON
    stored = []
  if stored is None:
    # Two first uses at once write the same text, so either rename wins.
    return io_utils.write_json_atomic(path, record)
  if not isinstance(stored, dict):
    raise spec_lib.StudyError(f"{path} is not a study record; use another "
                              "study directory")
  # Through the canonical form: 4 and 4.0 are one value.
  canonical = spec_lib.canonical_json
  differences = [
      f"{key}: {_short(stored.get(key))} there, {_short(record[key])} now"
      for key in sorted(set(record) | set(stored))
      if canonical(stored.get(key)) != canonical(record.get(key))]
  if differences:
    raise spec_lib.StudyError(
        f"study directory {study_dir} holds another study ("
        + "; ".join(differences)
        + "); use another study directory or the same study")
  return path


def _short(value, limit=60):
  text = spec_lib.canonical_json(value)
  return text if len(text) <= limit else text[:limit - 3] + "..."


def job_dir(study_dir, job):
  """<study_dir>/jobs/<job_id>."""
  return os.path.join(study_dir, JOBS_SUBDIR, spec_lib.job_id(job))


def _job_record(job):
  record = {"job_id": spec_lib.job_id(job), "model_num": job.model_num,
            "settings": job.settings}
  if job.variant:  # a study without variants writes what it always wrote
    record["variant"] = job.variant
  return record


def write_job_file(study_dir, job):
  """Writes the job's job.json (its id, model_num and settings); returns
  the job directory."""
  directory = job_dir(study_dir, job)
  io_utils.write_json_atomic(os.path.join(directory, JOB_FILE),
                             _job_record(job))
  return directory


def mark_failed(study_dir, job, error, **details):
  """Records a failed try: failed.json holds the error's type and text.

  Args:
    error: the exception (or its text).
    **details: JSON-ready extras (e.g. host, traceback).
  """
  io_utils.write_json_atomic(
      os.path.join(job_dir(study_dir, job), FAILED_FILE),
      {**_job_record(job), "error_type": type(error).__name__
       if isinstance(error, BaseException) else None,
       "error": str(error), **details})


def mark_done(study_dir, job, result):
  """Marks the job finished: done.json holds ``result`` (a JSON-ready dict,
  e.g. scores and paths).  A failed.json of an earlier try is removed
  first, so a done job never reads as failed; done.json comes last."""
  directory = job_dir(study_dir, job)
  failed = os.path.join(directory, FAILED_FILE)
  if os.path.exists(failed):
    os.remove(failed)
  io_utils.write_json_atomic(os.path.join(directory, DONE_FILE),
                             {**_job_record(job), "result": result})


def job_state(study_dir, job):
  """Where the job stands, one of STATES.

  "done": done.json exists.  "running": a live process holds the job
  directory's lock (tf_betavae.locking; a non-blocking probe, the lock is
  never kept).  "failed": failed.json exists and nobody is retrying it.
  "started": the directory exists without a marker or a holder (a try
  that was killed).  "pending": no directory yet.
  """
  directory = job_dir(study_dir, job)
  if os.path.exists(os.path.join(directory, DONE_FILE)):
    return DONE
  if not os.path.isdir(directory):
    return PENDING
  if locking.holder_of(directory) is not None:
    return RUNNING
  if os.path.exists(os.path.join(directory, FAILED_FILE)):
    return FAILED
  return STARTED
