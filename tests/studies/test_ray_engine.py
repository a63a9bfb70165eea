"""tf_betavae.studies.ray_engine: outcomes, fresh workers, node loss, errors.

Every Ray here runs in its own network and PID namespace
(tests/studies/ray_cluster.py): a driver program runs there, writes what
it saw as JSON, and the test reads it.
"""

import importlib
import json
import os
import socket
import sys
import textwrap
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
  sys.path.insert(0, HERE)

import ray_cluster  # pylint: disable=g-import-not-at-top,wrong-import-position

from tf_betavae.studies import ray_engine  # pylint: disable=g-import-not-at-top,wrong-import-position


def _ray_missing():
  try:
    importlib.import_module("ray")
  except ImportError:
    return True
  return False


needs_ray = pytest.mark.skipif(
    _ray_missing(), reason="Ray is not installed (pip install -e '.[ray]')")
_ISOLATION = None if _ray_missing() else ray_cluster.isolation_unavailable()
needs_isolation = pytest.mark.skipif(
    _ISOLATION is not None, reason=f"Ray tests run in a private namespace, "
    f"which {_ISOLATION}")

# The head of every driver program: its result goes to $RESULT as JSON.
_DRIVER_HEAD = """\
import json, os, sys
import fake_jobs
from tf_betavae.studies import ray_engine
with open(os.environ["RAY_CLUSTER_INFO"]) as f:
  cluster = json.load(f)
"""


def _run(tmp_path, body, **kwargs):
  """Runs the driver ``body`` in a namespace; returns what it wrote."""
  result_path = tmp_path / "result.json"
  run = ray_cluster.run_isolated(
      _DRIVER_HEAD + textwrap.dedent(body), str(tmp_path),
      env={"RESULT": str(result_path)}, **kwargs)
  assert run.returncode == 0, run.stdout[-6000:]
  with open(result_path) as f:
    return json.load(f)


@needs_ray
@needs_isolation
def test_local_ray_outcomes_in_order_each_job_in_a_fresh_process(tmp_path):
  result = _run(tmp_path, """
      behaviours = ["done", "failed", "raise", "done"]
      seen = []
      outcomes = ray_engine.run_jobs(
          fake_jobs.scripted, [(i, b) for i, b in enumerate(behaviours)],
          env_vars={fake_jobs.MARK_VAR: "from the driver"},
          on_outcome=lambda index, outcome: seen.append(index))
      with open(os.environ["RESULT"], "w") as f:
        json.dump({"outcomes": outcomes, "seen": seen,
                   "driver_pid": os.getpid(),
                   "tensorflow": "tensorflow" in sys.modules}, f)
      """, timeout_s=60)
  outcomes = result["outcomes"]
  assert [o["state"] for o in outcomes] == ["done", "failed", "failed",
                                            "done"]
  assert [o["model_num"] for o in outcomes] == [0, 1, None, 3]
  assert outcomes[1]["error"] == "training diverged"
  # An error the job did not catch: one line, its type and message.
  assert outcomes[2]["error"] == (
      "RuntimeError: unexpected error in job 2")
  assert sorted(result["seen"]) == [0, 1, 2, 3]
  assert {o.get("mark") for o in outcomes if "pid" in o} == {
      "from the driver"}
  pids = [o["pid"] for o in outcomes if "pid" in o]
  assert len(pids) == 3 and len(set(pids)) == 3  # max_calls=1
  assert result["driver_pid"] not in pids
  assert not result["tensorflow"]


@needs_ray
@needs_isolation
def test_task_on_a_killed_node_is_retried_on_the_survivor(tmp_path):
  attempts_dir = tmp_path / "attempts"
  attempts_dir.mkdir()
  # The head and a worker node, one CPU each: of the two jobs one lands on
  # each node.  The one on the worker node sleeps on its first attempt; the
  # driver kills that node's raylet, and Ray re-runs the job on the head.
  result = _run(tmp_path, f"""
      import threading, time, signal
      attempts_dir = {str(attempts_dir)!r}
      raylet_of = {{n["name"]: n["raylet_pid"] for n in cluster["nodes"]}}
      killed = []
      def kill_worker_node():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not killed:
          for name in os.listdir(attempts_dir):
            if not name.endswith(".json"):
              continue
            with open(os.path.join(attempts_dir, name)) as f:
              record = json.load(f)
            if record["node"] == "worker":
              os.kill(raylet_of["worker"], signal.SIGKILL)
              killed.append(time.monotonic())
              break
          time.sleep(0.1)
      killer = threading.Thread(target=kill_worker_node, daemon=True)
      killer.start()
      start = time.monotonic()
      outcomes = ray_engine.run_jobs(
          fake_jobs.sleep_on_worker_node,
          [(attempts_dir, 0), (attempts_dir, 1)],
          address=cluster["address"], max_retries=2)
      end = time.monotonic()
      records = []
      for name in sorted(os.listdir(attempts_dir)):
        if name.endswith(".json"):
          with open(os.path.join(attempts_dir, name)) as f:
            records.append(json.load(f))
      with open(os.environ["RESULT"], "w") as f:
        json.dump({{"outcomes": outcomes, "records": records,
                    "killed": bool(killed),
                    "recovery_s": end - killed[0] if killed else None,
                    "nodes": cluster["nodes"]}}, f)
      """, nodes=[{"name": "head", "num_cpus": 1},
                  {"name": "worker", "num_cpus": 1}], timeout_s=80)
  assert result["killed"], result
  assert [o["state"] for o in result["outcomes"]] == ["done", "done"]
  by_job = {}
  for record in result["records"]:
    by_job.setdefault(record["model_num"], []).append(record)
  retried = [model_num for model_num, records in by_job.items()
             if len(records) > 1]
  assert len(retried) == 1, result["records"]
  attempts = by_job[retried[0]]
  assert len(attempts) == 2
  assert {a["node"] for a in attempts} == {"worker", "head"}
  assert len({a["raylet_pid"] for a in attempts}) == 2
  assert result["outcomes"][retried[0]]["node"] == "head"
  print(f"recovered {result['recovery_s']:.1f} s after the node was killed")


def test_without_ray_the_error_says_how_to_install_it(monkeypatch):
  monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails
  assert not ray_engine.ray_available()
  with pytest.raises(ray_engine.RayNotInstalledError) as error:
    ray_engine.run_jobs(print, [(1,)])
  assert str(error.value) == ("the ray engine needs Ray: "
                              "pip install -e '.[ray]'")


@needs_ray
def test_unreachable_address_is_a_quick_one_line_error():
  # A bound port that does not listen refuses connections; nothing starts.
  with socket.socket() as closed:
    closed.bind(("127.0.0.1", 0))
    address = f"127.0.0.1:{closed.getsockname()[1]}"
    start = time.monotonic()
    with pytest.raises(ray_engine.RayConnectionError) as error:
      ray_engine.run_jobs(print, [(1,)], address=address)
  assert time.monotonic() - start < 10
  message = str(error.value)
  assert "\n" not in message and address in message
  assert isinstance(error.value, ConnectionError)
  with pytest.raises(ray_engine.RayConnectionError, match="host:port"):
    ray_engine.run_jobs(print, [(1,)], address="no-port-here")
