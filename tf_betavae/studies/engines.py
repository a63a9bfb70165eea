"""Runs a study's unfinished jobs on an engine, then its UDR groups.

Every engine runs the same task, ``job.run_job_task(study_dir,
model_num)``, in a process of its own, with the study's threads_per_job
TensorFlow threads, and every task reads and writes only
the study directory: so engines can take turns on one study (a local run,
then a Ray cluster, then a job array) and the layout is the same.

* ``local``: worker processes on this machine, each pinned to its own
  share of the CPUs (experiments.parallel.run_pinned); a worker trains its
  jobs one after another.
* ``ray``: one Ray task per job (studies.ray_engine): Ray places, retries
  and accounts for them on a cluster or a Ray started here.

Jobs whose done.json exists are not handed out at all (no process starts
for them).  A (dataset, [variant,] method, value) group's last seed scores the
group's UDR in its own process; after the jobs, each group with at least
two done seeds and no UDR of exactly them (a partial slice, a UDR that
failed there) gets a UDR task on the same engine.  The driver
never imports TensorFlow: tasks import it in their own processes.
"""

import contextlib
import dataclasses
import os
import time
from typing import Optional

from absl import logging

from tf_betavae import progress
from tf_betavae.studies import group_udr
from tf_betavae.studies import job as job_lib
from tf_betavae.studies import spec as spec_lib
from tf_betavae.studies import study_dir as study_dir_lib

LOCAL = "local"
RAY = "ray"
ENGINES = (LOCAL, RAY)


@dataclasses.dataclass(frozen=True)
class EngineOptions:
  """Where and how a study's tasks run.

  Attributes:
    engine: LOCAL or RAY.
    workers: LOCAL: jobs at once, each in a worker pinned to its share of
      this machine's CPUs (None: as many as the CPUs hold, see
      ``for_study``).
    ray_address: RAY: a running cluster's address ("auto", "host:port"),
      or None to start a Ray on this machine for the run.
    num_cpus, num_gpus: RAY: what each task reserves (num_cpus None: the
      study's threads_per_job).
    max_retries: RAY: tries of a task whose worker or node died.
  """

  engine: str = LOCAL
  workers: Optional[int] = None
  ray_address: Optional[str] = None
  num_cpus: Optional[float] = None
  num_gpus: float = 0
  max_retries: int = 3

  def for_study(self, spec):
    """These options with their defaults filled from the study: as many
    local workers as this machine's CPUs hold jobs of threads_per_job
    threads; each Ray task reserves threads_per_job CPUs."""
    from tf_betavae.experiments import parallel  # pylint: disable=g-import-not-at-top
    workers = self.workers or max(
        1, len(parallel.available_cpus()) // spec.threads_per_job)
    return dataclasses.replace(
        self, workers=workers,
        num_cpus=self.num_cpus or float(spec.threads_per_job))


def run_tasks(fn, args_list, options, on_outcome=None):
  """``fn(*args)`` for every args on the engine; outcomes in args order.

  ``fn`` returns an outcome dict and catches its job's own errors; a task
  that dies anyway (its process killed, its node lost after Ray's retries)
  comes back as a FAILED outcome and the others go on.
  """
  if not args_list:
    return []
  if options.engine == RAY:
    from tf_betavae.studies import ray_engine  # pylint: disable=g-import-not-at-top
    from tf_betavae import tf_startup  # pylint: disable=g-import-not-at-top
    env_vars = {name: os.environ[name] for name in
                (tf_startup.QUIET_ENV, "TF_CPP_MIN_LOG_LEVEL")
                if name in os.environ}
    return ray_engine.run_jobs(
        fn, args_list, address=options.ray_address,
        num_cpus=options.num_cpus, num_gpus=options.num_gpus,
        max_retries=options.max_retries, env_vars=env_vars,
        on_outcome=on_outcome)
  from tf_betavae.experiments import parallel  # pylint: disable=g-import-not-at-top
  return parallel.run_pinned(fn, args_list, options.workers,
                             on_done=on_outcome)


class JobsFailed(RuntimeError):
  """Jobs of a study did not finish (failed, or busy in another process).

  Attributes:
    outcomes: their outcome dicts.
    non_finite: whether a job stopped on a non-finite loss.
  """

  def __init__(self, outcomes):
    self.outcomes = list(outcomes)
    self.non_finite = any("NonFiniteLossError" in (o.get("error") or "")
                          for o in self.outcomes)
    super().__init__(
        f"{len(self.outcomes)} job(s) did not finish: " + "; ".join(
            f"model_num {o['model_num']} {o['state']}: {o['error']}"
            for o in self.outcomes))


@dataclasses.dataclass
class StudyRun:
  """What a run of a study did.

  Attributes:
    outcomes: one outcome dict per job handed out (job.run_job_task's).
    already_done: jobs that were done before the run (not handed out).
    udr_outcomes: one dict per UDR group task.
    seconds: wall seconds of the run.
  """

  outcomes: list
  already_done: int
  udr_outcomes: list
  seconds: float

  def count(self, state):
    return sum(1 for o in self.outcomes if o["state"] == state)

  @property
  def failed(self):
    return self.count(job_lib.FAILED)

  def raise_for_failures(self):
    """Raises JobsFailed if a job failed or was busy elsewhere (programs
    that need every job, such as a reproduction's table)."""
    unfinished = [o for o in self.outcomes
                  if o["state"] in (job_lib.FAILED, job_lib.BUSY)]
    if unfinished:
      raise JobsFailed(unfinished)


class _Progress:
  """'job i of N finished (...): k done, f failed, ETA' lines."""

  def __init__(self, total, already_done):
    self.total = total
    self.done = already_done
    self.failed = 0
    self.busy = 0
    self.finished = 0
    self._start = time.monotonic()

  def line(self, result):
    self.finished += 1
    state = result["state"]
    if state in (job_lib.DONE, job_lib.SKIPPED):
      self.done += 1
    elif state == job_lib.FAILED:
      self.failed += 1
    else:
      self.busy += 1
    left = self.total - self.done - self.failed - self.busy
    what = (f"model_num {result['model_num']} {state} on {result['host']} "
            f"in {result['seconds']:.0f} s")
    if result.get("error"):
      what += f": {result['error']}"
    counts = f"{self.done} done, {self.failed} failed"
    if self.busy:
      counts += f", {self.busy} busy elsewhere"
    return (f"job {self.done + self.failed + self.busy} of {self.total} "
            f"finished ({what}); {counts}; "
            + progress.eta_text(self.finished, self.finished + left,
                                time.monotonic() - self._start))


def run_study(study_dir, spec, jobs, options, log=logging.info,
              runner=None):
  """Runs ``jobs`` of the study in ``study_dir`` (study.json written) on
  ``options``' engine, then the UDR of their groups.

  Args:
    study_dir: the study directory.
    spec: its StudySpec (or a slice of it).
    jobs: the Jobs to run (spec_lib.jobs(spec) or a part of it).
    options: EngineOptions.
    log: where progress lines go.
    runner: ``run_tasks``'s stand-in (same arguments), for benchmarks that
      compare other ways of running the tasks; None: ``run_tasks``.

  Returns:
    StudyRun.
  """
  start = time.monotonic()
  options = options.for_study(spec)
  to_run = [job for job in jobs
            if study_dir_lib.job_state(study_dir, job)
            != study_dir_lib.DONE]
  already_done = len(jobs) - len(to_run)
  counter = _Progress(len(jobs), already_done)
  log(f"{len(jobs)} jobs: {already_done} done already, {len(to_run)} to run "
      f"on the {options.engine} engine")

  def on_outcome(index, result):
    log(counter.line(_filled(to_run[index], result)))

  runner = runner or run_tasks
  with _engine_session(options):
    outcomes = runner(
        job_lib.run_job_task,
        [(study_dir, job.model_num) for job in to_run], options,
        on_outcome)
    outcomes = [_filled(job, result)
                for job, result in zip(to_run, outcomes)]
    # A group's last seed scores its UDR in its own process; what is left
    # (groups not complete, or whose UDR failed there) runs here.
    groups = [group for group, _ in group_udr.udr_groups(spec, jobs)
              if group_udr.udr_needed(study_dir, spec, group)]
    udr_outcomes = []
    if groups:
      level = "variant, " if spec.variants else ""
      log(f"UDR of {len(groups)} (dataset, {level}method, value) groups")
      udr_outcomes = runner(
          group_udr.run_udr_task,
          [(study_dir, *group) for group in groups], options)
      for group, result in zip(groups, udr_outcomes):
        if not result or result.get("state") == job_lib.FAILED:
          log(f"UDR of {list(group)} failed: "
              f"{(result or {}).get('error')}")
  return StudyRun(outcomes, already_done, udr_outcomes,
                  round(time.monotonic() - start, 1))


def _engine_session(options):
  """One Ray for the jobs and the UDR groups (a local Ray starts once)."""
  if options.engine != RAY:
    return contextlib.nullcontext()
  from tf_betavae.studies import ray_engine  # pylint: disable=g-import-not-at-top
  return ray_engine.connected(options.ray_address)


def _filled(job, result):
  """An engine's outcome with the job's number and id, or a FAILED one
  where the task left none (an engine knows a lost task only by its
  place)."""
  if not (isinstance(result, dict) and "state" in result):
    result = {"state": job_lib.FAILED,
              "error": f"the task returned {result!r}", "seconds": 0.0}
  filled = {"host": None, "pid": None, "seconds": 0.0, "row": None,
            "error": None, **result}
  if filled.get("model_num") is None:
    filled["model_num"] = job.model_num
  if filled.get("job_id") is None:
    filled["job_id"] = spec_lib.job_id(job)
  return filled
