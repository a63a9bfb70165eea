"""Runs jobs in worker processes, each pinned to its own share of the CPUs.

TensorFlow's CPU kernels of a small conv β-VAE do not keep two cores busy
with one batch of 64: two trainings pinned to one core each make more
steps together than one training on both cores (measurements in
docs/recipe_search.md).  ``run_pinned`` gives each worker a disjoint set
of CPUs before TensorFlow is imported there (TensorFlow sizes its thread
pools from the CPUs a process may run on), so workers do not
oversubscribe the cores.

Workers are started with the "spawn" method: each is a fresh interpreter,
so no TensorFlow state of the parent is inherited.  A job is a picklable
top-level function and its arguments; its return value must be picklable.
A spawned worker imports the parent's main module before it is pinned:
programs that use this module import TensorFlow inside ``main``, not at
their top level.

A worker starts as quietly as the program that started it
(``tf_betavae.tf_startup.quiet_worker_start``): no TensorFlow start-up
noise unless the program was run with ``--tf_verbose``.

A worker ends itself when the process that started it dies (killed, or
crashed), so a killed reproduction or sweep leaves no training behind.

Locks (``tf_betavae.locking``) are per process: a job must not take a lock
its parent holds (a reproduction's work dir), or it would be refused.  Jobs
lock only what they alone write, e.g. their own run directory.
"""

import concurrent.futures
import multiprocessing
import os
import queue
import signal
import threading
import time

from absl import logging

from tf_betavae import tf_startup


def available_cpus():
  """Sorted CPU ids this process may run on."""
  if hasattr(os, "sched_getaffinity"):
    return sorted(os.sched_getaffinity(0))
  return list(range(os.cpu_count() or 1))


def cpu_shares(num_workers, cpus=None):
  """Splits CPUs into contiguous, disjoint, near-equal shares.

  Args:
    num_workers: int >= 1, wanted number of shares.
    cpus: list of CPU ids (default: ``available_cpus()``).

  Returns:
    list of ``min(num_workers, len(cpus))`` lists of CPU ids; together they
    hold every CPU once, and their sizes differ by at most one.
  """
  if num_workers < 1:
    raise ValueError(f"num_workers must be >= 1, got {num_workers}")
  cpus = list(available_cpus() if cpus is None else cpus)
  if not cpus:
    raise ValueError("no CPUs to share")
  count = min(num_workers, len(cpus))
  base, extra = divmod(len(cpus), count)
  shares, start = [], 0
  for i in range(count):
    size = base + (1 if i < extra else 0)
    shares.append(cpus[start:start + size])
    start += size
  return shares


# How often a worker checks that the process that started it is alive, s.
_PARENT_CHECK_SECONDS = 1.0


def _exit_when_orphaned(parent_pid):
  """Ends this worker once its parent is gone (kill -9, SIGTERM, a crash).

  A killed parent does not take its spawned workers with it: without this
  they would train on, holding their run directories' locks, while a rerun
  of the command starts new workers beside them.  The OS reparents an
  orphan, so a changed parent pid means the parent died.  Checkpoints are
  written atomically, so ending at any moment loses nothing but the steps
  since the last one.
  """
  while os.getppid() == parent_pid:
    time.sleep(_PARENT_CHECK_SECONDS)
  os.kill(os.getpid(), signal.SIGTERM)


def _init_worker(cpus, verbosity, parent_pid):
  if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, cpus)
  logging.set_verbosity(verbosity)
  threading.Thread(target=_exit_when_orphaned, args=(parent_pid,),
                   daemon=True).start()
  # After pinning: where the program was quieted this imports TensorFlow,
  # which sizes its thread pools from the CPUs the worker may use.
  tf_startup.quiet_worker_start()


def run_pinned(fn, args_list, num_workers, on_done=None):
  """Calls ``fn(*args)`` for every ``args`` in pinned worker processes.

  Jobs are handed out in order to whichever worker is free.  After the
  first failure no new job starts; jobs already running finish, and then
  the first exception is raised here.

  Args:
    fn: picklable top-level function.
    args_list: list of argument tuples.
    num_workers: int >= 1; at most one worker per CPU and per job.
    on_done: optional ``on_done(index, result)``, called in this process
      as each job finishes (for progress lines).

  Returns:
    list of return values, in the order of ``args_list``.
  """
  args_list = list(args_list)
  if not args_list:
    return []
  shares = cpu_shares(min(num_workers, len(args_list)))
  context = multiprocessing.get_context("spawn")
  verbosity = logging.get_verbosity()
  executors = [
      concurrent.futures.ProcessPoolExecutor(
          max_workers=1, mp_context=context, initializer=_init_worker,
          initargs=(share, verbosity, os.getpid()))
      for share in shares]
  pending = queue.Queue()
  for index, args in enumerate(args_list):
    pending.put((index, args))
  results = [None] * len(args_list)
  errors = []
  done_lock = threading.Lock()

  def serve(executor):
    while not errors:
      try:
        index, args = pending.get_nowait()
      except queue.Empty:
        return
      try:
        results[index] = executor.submit(fn, *args).result()
      except BaseException as e:  # pylint: disable=broad-except
        errors.append(e)
        return
      if on_done is not None:
        with done_lock:
          on_done(index, results[index])

  threads = [threading.Thread(target=serve, args=(executor,), daemon=True)
             for executor in executors]
  try:
    for thread in threads:
      thread.start()
    for thread in threads:
      thread.join()
  finally:
    for executor in executors:
      executor.shutdown(wait=True, cancel_futures=True)
  if errors:
    raise errors[0]
  return results
