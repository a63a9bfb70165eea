"""TensorBoard HParams sessions for a study's done jobs.

``tensorboard --logdir STUDY_DIR`` then shows every done job in the
HParams dashboard, beside the trainings' own logs (which live under
``jobs/``)::

  <study_dir>/hparams/events.out.tfevents.*            the experiment: its
      hparams (dataset, method, value, seed, steps) and metrics (the
      study's metric keys, udr_lasso, udr_spearman, reconstruction, kl)
  <study_dir>/hparams/<job_id>/events.out.tfevents.*   one session per done
      job: its hparams, one scalar per metric (at the trained steps), its
      end

The events are built from the HParams plugin's protos and written with
TensorBoard's record writer into a plain file, without TensorFlow
(tensorboard's EventFileWriter would load it for file access).  Each
directory holds one events file, written to a temporary name and renamed,
after which the former ones are removed: rewriting the report replaces the
sessions instead of adding a second copy.
"""

import glob
import os
import time

from tensorboard.compat.proto import event_pb2
from tensorboard.compat.proto import summary_pb2
from tensorboard.plugins.hparams import api_pb2
from tensorboard.plugins.hparams import metadata
from tensorboard.plugins.hparams import plugin_data_pb2
from tensorboard.plugins.hparams import summary_v2 as hp
from tensorboard.summary.writer import record_writer

from tf_betavae import io_utils

HPARAMS_SUBDIR = "hparams"
# "variant" only in a study with variants (its rows have one).
HPARAM_NAMES = ("dataset", "variant", "method", "value", "seed", "steps")
# Besides the study's metric keys.
EXTRA_METRICS = ("udr_lasso", "udr_spearman", "reconstruction", "kl")
_EVENTS_MARK = "tfevents"
_DONE = "done"


def metric_names(metrics):
  """The session metrics: the study's metric keys, UDR, training values."""
  return tuple(metrics) + EXTRA_METRICS


def _plugin_summary(tag, plugin_data):
  """A Summary holding the HParams plugin's ``plugin_data`` under ``tag``."""
  summary = summary_pb2.Summary()
  summary.value.add(tag=tag,
                    metadata=metadata.create_summary_metadata(plugin_data),
                    tensor=metadata.NULL_TENSOR)
  return summary


def experiment_summary(spec, rows, metrics, time_created_secs):
  """The experiment config: the hparams' domains from ``spec`` (steps from
  the done rows) and the metrics of ``metric_names(metrics)``."""
  values = sorted({float(v) for _, vs in spec.methods for v in vs})
  steps = [r["steps"] for r in rows
           if r.get("state") == _DONE and isinstance(r.get("steps"), int)]
  hparams = [hp.HParam("dataset", hp.Discrete(list(spec.datasets)))]
  if spec.variants:
    hparams.append(hp.HParam(
        "variant", hp.Discrete([label for label, _ in spec.variants]),
        description="the training settings' variant"))
  hparams += [
      hp.HParam("method", hp.Discrete([m for m, _ in spec.methods])),
      hp.HParam("value", hp.Discrete(values),
                description="the method's hyperparameter (beta, gamma, ...)"),
      hp.HParam("seed", hp.IntInterval(min(spec.seeds), max(spec.seeds))),
      hp.HParam("steps", hp.IntInterval(min(steps), max(steps))
                if steps else None, description="training steps"),
  ]
  metric_list = [hp.Metric(name) for name in metric_names(metrics)]
  return hp.hparams_config_pb(hparams, metric_list,
                              time_created_secs=time_created_secs)


def session_summaries(row, metrics, start_time_secs):
  """One done row's session as (step, Summary) pairs: the start (its
  hparams, trial id = job_id), a scalar per metric it has (at its trained
  steps), the end (success)."""
  hparams = {name: row[name] for name in HPARAM_NAMES
             if row.get(name) is not None}
  step = row["steps"] if isinstance(row.get("steps"), int) else 0
  out = [(0, hp.hparams_pb(hparams, trial_id=row["job_id"],
                           start_time_secs=start_time_secs))]
  for name in metric_names(metrics):
    if row.get(name) is not None:
      scalar = summary_pb2.Summary()
      scalar.value.add(tag=name, simple_value=float(row[name]))
      out.append((step, scalar))
  end = plugin_data_pb2.SessionEndInfo(status=api_pb2.STATUS_SUCCESS,
                                       end_time_secs=start_time_secs)
  out.append((step, _plugin_summary(
      metadata.SESSION_END_INFO_TAG,
      plugin_data_pb2.HParamsPluginData(session_end_info=end))))
  return out


def _remove_event_files(directory, keep=None):
  for path in glob.glob(os.path.join(directory, f"*{_EVENTS_MARK}*")):
    if path != keep and os.path.isfile(path):
      os.remove(path)


def write_events(directory, summaries, wall_time):
  """Writes ``directory``'s one events file: a file_version event, then one
  event per (step, Summary) of ``summaries``.  Former events files there
  are removed once the new one is in place.

  Returns:
    str, the path of the events file.
  """
  os.makedirs(directory, exist_ok=True)
  # Nanoseconds, so a rewrite names a later file than the one it replaces
  # (a running TensorBoard reads files in name order).
  path = os.path.join(directory, f"events.out.{_EVENTS_MARK}."
                                 f"{time.time_ns()}.study_report")
  with io_utils.atomic_file(path, "wb", suffix=".part") as f:
    writer = record_writer.RecordWriter(f)
    writer.write(event_pb2.Event(
        wall_time=wall_time, file_version="brain.Event:2")
                 .SerializeToString())
    for step, summary in summaries:
      writer.write(event_pb2.Event(wall_time=wall_time, step=step,
                                   summary=summary).SerializeToString())
  _remove_event_files(directory, keep=path)
  return path


def write_hparams(study_dir, spec, rows, metrics=None):
  """Writes the experiment config and one session per done row.

  Rows that are not done lose a session a former report wrote for them;
  sessions of jobs not in ``rows`` (another slice's) are left alone.

  Args:
    study_dir: the study directory.
    spec: the StudySpec.
    rows: report.collect's rows.
    metrics: metric keys; None: the spec's.

  Returns:
    list of str: the events files written, the experiment's first.
  """
  metrics = tuple(spec.score_keys() if metrics is None else metrics)
  root = os.path.join(study_dir, HPARAMS_SUBDIR)
  now = time.time()
  paths = [write_events(
      root, [(0, experiment_summary(spec, rows, metrics, now))], now)]
  for row in rows:
    directory = os.path.join(root, row["job_id"])
    if row.get("state") == _DONE:
      paths.append(write_events(
          directory, session_summaries(row, metrics, now), now))
    elif os.path.isdir(directory):
      _remove_event_files(directory)
  return paths
