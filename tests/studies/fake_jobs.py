"""Job functions for the Ray engine's tests: pure Python, no TensorFlow.

Each returns an outcome dict shaped like tf_betavae.studies.job's, with
the worker's pid (and for ``sleep_on_worker_node`` its node) so a test can
tell where and in which process a job ran.  The module is imported by name
(``fake_jobs``) in the driver and the Ray workers: tests put this folder on
their PYTHONPATH.
"""

import json
import os
import socket
import time

# Set in the environment of each `ray start` by tests/studies/ray_cluster.py;
# a Ray worker inherits its node's environment.
NODE_NAME_VAR = "FAKE_JOBS_NODE"
# Set by a test through run_jobs(env_vars=...); echoed in each outcome.
MARK_VAR = "FAKE_JOBS_MARK"


def _outcome(model_num, state, error=None, **extra):
  return dict({"model_num": model_num, "job_id": f"job{model_num:04d}",
               "state": state, "error": error, "host": socket.gethostname(),
               "seconds": 0.0, "pid": os.getpid(),
               "mark": os.environ.get(MARK_VAR)}, **extra)


def scripted(model_num, behaviour):
  """Does what ``behaviour`` says: "done", "failed" (a handled failure) or
  "raise" (an error the job did not catch)."""
  if behaviour == "raise":
    raise RuntimeError(f"unexpected error in job {model_num}\nsecond line")
  if behaviour == "failed":
    return _outcome(model_num, "failed", error="training diverged")
  return _outcome(model_num, "done")


def trivial(model_num):
  """Returns at once; for timing the engine's own overhead."""
  return _outcome(model_num, "done")


def sleep_on_worker_node(attempts_dir, model_num, sleep_s=60.0):
  """Records the attempt in ``attempts_dir``, then, on its first attempt on
  a node other than the head, sleeps ``sleep_s`` seconds (for a test to
  kill that node); otherwise returns done at once.

  Each attempt writes ``<attempts_dir>/<model_num>.<pid>.json``:
  {"model_num", "node": this node's name, "pid", "raylet_pid"}.
  """
  node = os.environ.get(NODE_NAME_VAR, "?")
  record = {"model_num": model_num, "node": node, "pid": os.getpid(),
            "raylet_pid": os.getppid()}
  path = os.path.join(attempts_dir, f"{model_num}.{os.getpid()}.json")
  with open(path + ".tmp", "w") as f:
    json.dump(record, f)
  os.replace(path + ".tmp", path)
  earlier = [n for n in os.listdir(attempts_dir)
             if n.startswith(f"{model_num}.") and n.endswith(".json")]
  if node != "head" and len(earlier) == 1:
    time.sleep(sleep_s)
  return _outcome(model_num, "done", node=node)
