"""UDR of a study's groups: the seeds of one (dataset, method, value), or
of one (dataset, variant, method, value) in a study with variants.

  <study_dir>/udr/<dataset>__<method>__<value>.json
  <study_dir>/udr/<dataset>__<variant>__<method>__<value>.json  (variants)

A group is named by the tuple (dataset, method, value), with the variant's
label appended in a study with variants: (dataset, method, value,
variant); a study without variants keeps its groups' names and files.

UDR (Duan et al. 2020) needs no labels: each done seed's export encodes one
shared sample of the study's ``udr_num_points`` images
(RandomState(metric_seed)), and the seeds are compared with the Lasso and
with Spearman's correlation.  The job that completes a group scores it in
its own process (``score_if_group_complete``, TensorFlow loaded already);
``run_udr_task`` is the engines' task for a group left without one (a
slice that leaves it partial, a UDR that failed in the job).  The result
is cached under a key of the seeds' exports (``udr_needed`` reads only
JSON, so a driver can ask).
"""

import functools
import json
import os
import socket
import time

from absl import logging

from tf_betavae import io_utils
from tf_betavae.studies import job as job_lib
from tf_betavae.studies import spec as spec_lib

UDR_SUBDIR = "udr"
# UDR's two correlations (tf_betavae.experiments.selection.METHODS, kept
# equal by a test; that module imports TensorFlow).
UDR_METHODS = ("udr_lasso", "udr_spearman")


def group_of(job):
  """The job's UDR group: (dataset, method, value), plus its variant's
  label when it has one (seeds of two variants are not one setting)."""
  group = (job.dataset, job.method, job.value)
  return group + (job.variant,) if job.variant else group


def udr_groups(spec, jobs):
  """The groups (``group_of``) of ``jobs`` with their jobs.

  Returns:
    list of (group, [Job, ...]) in model_num order.
  """
  groups = {}
  for job in jobs:
    groups.setdefault(group_of(job), []).append(job)
  return list(groups.items())


def udr_path(study_dir, group):
  dataset, method, value, *variant = group
  name = "__".join([dataset, *variant, method, f"{value:g}"])
  return os.path.join(study_dir, UDR_SUBDIR, f"{name}.json")


def _groups_of(spec):
  """{group: [Job]} over the whole study (not a slice):
  listed once per study, as a driver asks about every group."""
  return _groups_of_record(spec_lib.canonical_json(spec.record()))


@functools.lru_cache(maxsize=4)
def _groups_of_record(record_text):
  # Keyed by the record's text: a spec may hold lists, which do not hash.
  spec = spec_lib.spec_from_record(json.loads(record_text))
  return dict(udr_groups(spec, spec_lib.jobs(spec)))


def _group_rows(study_dir, spec, group):
  """[(Job, row)] of the group's done seeds, over the whole study."""
  members = _groups_of(spec).get(group, [])
  rows = [(job, job_lib.done_row(study_dir, job)) for job in members]
  return [(job, row) for job, row in rows if row is not None], len(members)


def _udr_key(spec, rows):
  """What a group's UDR depends on: the methods, the sample, and each done
  seed's job and export."""
  return {"methods": list(UDR_METHODS), "num_points": spec.udr_num_points,
          "sample_seed": spec.metric_seed,
          "exports": {spec_lib.job_id(job): row["export_path"]
                      for job, row in rows}}


def udr_needed(study_dir, spec, group):
  """Whether the group has at least two done seeds and no UDR of exactly
  them cached (JSON reads only: a driver may call it)."""
  rows, _ = _group_rows(study_dir, spec, group)
  if len(rows) < 2:
    return False
  stored = io_utils.read_json_if_present(udr_path(study_dir, group))
  return not (stored and stored.get("key") == _udr_key(spec, rows))


def run_udr_task(study_dir, dataset, method, value, variant=""):
  """UDR of one (dataset, method, value) group's done seeds (in
  ``variant``, a label, "" for none), cached.

  Every done seed's export encodes one shared sample of the study's
  ``udr_num_points`` images (RandomState(metric_seed)); UDR with the Lasso
  and with Spearman's correlation (Duan et al. 2020) compares them.  The
  cache key holds the seeds' job ids and export paths, so a group that
  gains a seed is scored again.

  Returns:
    dict: state (job.DONE, job.SKIPPED: fewer than 2 done seeds or
    cached, job.FAILED),
    error, group, seconds.
  """
  start = time.time()
  group = (dataset, method, float(value)) + ((variant,) if variant else ())

  def report(state, error=None):
    return {"group": list(group), "state": state,
            "error": error, "host": socket.gethostname(),
            "seconds": round(time.time() - start, 2)}

  try:
    spec = job_lib.load_spec(study_dir)
    if not udr_needed(study_dir, spec, group):
      return report(job_lib.SKIPPED)
    job_lib.set_threads(spec.threads_per_job)
    _score_udr(study_dir, spec, group)
    return report(job_lib.DONE)
  except Exception as e:  # pylint: disable=broad-except
    return report(job_lib.FAILED, f"{type(e).__name__}: {job_lib.one_line(e)}")


def _score_udr(study_dir, spec, group):
  from tf_betavae import data as data_lib  # pylint: disable=g-import-not-at-top
  from tf_betavae.experiments import cache  # pylint: disable=g-import-not-at-top
  from tf_betavae.experiments import selection  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top

  start = time.time()
  dataset, method, value, *_ = group
  rows, _ = _group_rows(study_dir, spec, group)
  ground_truth = data_lib.source_of(job_lib.train_config(rows[0][0])).ground_truth()
  scored = selection.udr_of_exports(
      [os.path.join(study_dir, row["export_path"]) for _, row in rows],
      dataset, spec.udr_num_points, np.random.RandomState(spec.metric_seed),
      ground_truth, UDR_METHODS)
  per_seed = {str(job.seed): {"job_id": spec_lib.job_id(job), **entry}
              for (job, _), entry in zip(rows, scored["per_model"])}
  cache.store(udr_path(study_dir, group), _udr_key(spec, rows),
              {"dataset": dataset, "method": method, "value": float(value),
               "per_seed": per_seed, "parameters": scored["parameters"],
               "seconds": round(time.time() - start, 2)})


def score_if_group_complete(study_dir, spec, job):
  """The UDR of the job's group, here, when this job was its last seed:
  the process has TensorFlow and the exports' loader warm, so the engine
  needs no process of its own for it.  A failure is logged; the engine's
  UDR stage tries again."""
  group = group_of(job)
  try:
    rows, members = _group_rows(study_dir, spec, group)
    if len(rows) == members and udr_needed(study_dir, spec, group):
      _score_udr(study_dir, spec, group)
  except Exception as e:  # pylint: disable=broad-except
    logging.warning("UDR of %s after job %d failed: %s", list(group),
                    job.model_num, job_lib.one_line(e))
