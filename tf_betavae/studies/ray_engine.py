"""The Ray engine: a study's jobs as Ray tasks, on one machine or a cluster.

``run_jobs(job_fn, args_list)`` submits ``job_fn(*args)`` once per
``args`` as a Ray task and collects one outcome dict per job, in the order
of ``args_list``.  Ray does the scheduling (each task asks for ``num_cpus``
and ``num_gpus``), the placement across nodes and the retries of tasks
whose worker process or node died; this module only turns what comes back
into outcomes, so that one lost job never stops the others.

Every task runs in a fresh worker process (``max_calls=1``): a job sets
TensorFlow's thread pools and GPU memory options when it first imports
TensorFlow, which a reused process would already have done.

Ray is imported inside the functions, so importing this module works
without Ray; ``run_jobs`` then raises ``RayNotInstalledError``.  The driver
(this process) never imports TensorFlow: the job function does, in the
worker.
"""

import contextlib
import socket
import time

INSTALL_HINT = "the ray engine needs Ray: pip install -e '.[ray]'"
# Seconds the driver waits for a cluster's GCS port to accept a connection
# before calling the address unreachable.
CONNECT_TIMEOUT_S = 5.0
# Longest error text kept in an outcome (one line, for a progress line).
_MAX_ERROR_CHARS = 300


class RayNotInstalledError(ImportError):
  """Ray cannot be imported; the message says how to install it."""

  def __init__(self, message=INSTALL_HINT):
    super().__init__(message)


class RayConnectionError(ConnectionError):
  """The cluster at an address cannot be reached; the message is one line
  and names the address."""


def ray_available():
  """True when Ray can be imported in this process."""
  try:
    _import_ray()
  except RayNotInstalledError:
    return False
  return True


def _import_ray():
  try:
    import ray  # pylint: disable=g-import-not-at-top,import-outside-toplevel
  except ImportError as error:
    raise RayNotInstalledError() from error
  return ray


def _one_line(text):
  """The first non-empty line of ``text``, at most _MAX_ERROR_CHARS long."""
  for line in str(text).splitlines():
    line = line.strip()
    if line:
      return line[:_MAX_ERROR_CHARS]
  return ""


def describe_error(error):
  """One line naming what ended a task: for an exception raised inside the
  job (RayTaskError) its original type and message, otherwise Ray's error
  type (WorkerCrashedError, NodeDiedError, ...) and its first line."""
  ray = _import_ray()
  if isinstance(error, ray.exceptions.RayTaskError):
    cause = getattr(error, "cause", None)
    if cause is not None:
      return _one_line(f"{type(cause).__name__}: {cause}")
  return _one_line(f"{type(error).__name__}: {error}")


def _split_address(address):
  """``"host:port"`` (or ``"ray://host:port"``) -> (host, port);
  RayConnectionError if it is not one."""
  host, _, port = address.split("://")[-1].rpartition(":")
  if not host or not port.isdigit():
    raise RayConnectionError(
        f"cannot read Ray address {address!r}: expected 'auto' or "
        f"'host:port' (the head's GCS port, 6379 unless `ray start --head "
        f"--port` said otherwise)")
  return host, int(port)


def check_reachable(address, timeout_s=CONNECT_TIMEOUT_S):
  """Raises RayConnectionError unless a TCP connection to ``address``
  ("host:port") opens within ``timeout_s`` seconds.

  Why: ray.init keeps retrying an address where nothing listens (still
  waiting after 100 s with Ray 2.60), which reads as a hang.
  """
  host, port = _split_address(address)
  try:
    with socket.create_connection((host, port), timeout=timeout_s):
      pass
  except OSError as error:
    raise RayConnectionError(
        f"no Ray cluster at {address} ({_one_line(error) or 'timed out'}); "
        f"start one with `ray start --head` or check the address") from None


def _connect(ray, address):
  """Starts or joins Ray; returns True when this call must shut it down."""
  if ray.is_initialized():
    # The caller set Ray up (e.g. with its own ray.init options): use it.
    return False
  if address is None:
    # A private Ray on this machine; Ray sizes it to the machine's CPUs and
    # GPUs (container limits included).
    ray.init(include_dashboard=False)
    return True
  if address != "auto":
    check_reachable(address)
  try:
    ray.init(address=address)
  except ConnectionError as error:
    raise RayConnectionError(
        f"cannot join the Ray cluster at {address}: "
        f"{_one_line(error)}") from None
  # Disconnects the driver only; the cluster keeps running.
  return True


@contextlib.contextmanager
def connected(address=None):
  """Ray started or joined for the ``with`` block (as ``run_jobs`` does),
  so that several ``run_jobs`` calls share one Ray: a local Ray's start-up
  and shutdown are paid once.

  Raises:
    RayNotInstalledError, RayConnectionError: as ``run_jobs``.
  """
  ray = _import_ray()
  must_shut_down = _connect(ray, address)
  try:
    yield
  finally:
    if must_shut_down:
      ray.shutdown()


def _failed(error, started):
  """The outcome of a task that ended without one of its own.

  The job's identity is not known here (``job_fn``'s arguments are opaque
  to the engine), so model_num, job_id and host are None: the caller knows
  the job from the outcome's index.
  """
  return {"model_num": None, "job_id": None, "state": "failed",
          "error": error, "host": None,
          "seconds": round(time.monotonic() - started, 3)}


def run_jobs(job_fn, args_list, *, address=None, num_cpus=1, num_gpus=0,
             max_retries=3, env_vars=None, on_outcome=None):
  """Runs ``job_fn(*args)`` for each ``args`` of ``args_list``, one Ray task
  each, and returns their outcomes.

  Args:
    job_fn: a top-level function of an importable module (pickled by
      reference, so the workers must import the same module), e.g.
      tf_betavae.studies.job.run_job_task.  It returns an outcome dict
      {"model_num": int, "job_id": str, "state": "done"|"failed",
      "error": str|None, "host": str, "seconds": float, ...} and catches
      its own errors.
    args_list: sequence of argument tuples, one per job.
    address: None starts a Ray on this machine (all its CPUs and GPUs, no
      dashboard) and shuts it down at the end; "auto" or "host:port" (the
      head's GCS address) joins a cluster started with `ray start --head`
      and leaves it running.  If this process already called ray.init,
      that Ray is used and left as it is.
    num_cpus: CPUs each task reserves (float; may be fractional).
    num_gpus: GPUs each task reserves (float; 0 for CPU-only jobs).
    max_retries: times Ray re-runs a task whose worker process or node died
      (an exception raised by job_fn is not retried).
    env_vars: dict str -> str set in each task's worker process, or None.
    on_outcome: callable(index, outcome) called in this process as each
      task finishes (in completion order), e.g. to print progress; or None.

  Returns:
    list of outcome dicts, one per ``args_list`` entry in its order.  A
    task that failed after its retries, or whose job raised, has
    state "failed" and a one-line "error"; the other jobs go on.

  Raises:
    RayNotInstalledError: Ray cannot be imported.
    RayConnectionError: nothing answers at ``address``.
  """
  ray = _import_ray()
  args_list = [tuple(args) for args in args_list]
  if not args_list:
    return []
  options = {"num_cpus": num_cpus, "num_gpus": num_gpus, "max_calls": 1,
             "max_retries": max_retries, "retry_exceptions": False}
  if env_vars:
    options["runtime_env"] = {"env_vars": {str(k): str(v)
                                           for k, v in env_vars.items()}}
  with connected(address):
    # max_calls is a property of the remote function (Ray refuses it in
    # .options()), so the function is wrapped here with all its options.
    task = ray.remote(**options)(job_fn)
    started = time.monotonic()
    index_of = {}
    for index, args in enumerate(args_list):
      index_of[task.remote(*args)] = index
    outcomes = [None] * len(args_list)
    pending = list(index_of)
    while pending:
      ready, pending = ray.wait(pending, num_returns=1)
      for ref in ready:
        index = index_of[ref]
        try:
          outcome = ray.get(ref)
        except ray.exceptions.RayError as error:
          outcome = _failed(describe_error(error), started)
        if not isinstance(outcome, dict):
          outcome = _failed(f"the job returned {type(outcome).__name__}, "
                            f"not an outcome dict", started)
        outcomes[index] = outcome
        if on_outcome is not None:
          on_outcome(index, outcome)
    return outcomes
