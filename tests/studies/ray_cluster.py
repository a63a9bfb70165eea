"""Runs a driver script in a private network and PID namespace, with an
optional Ray cluster of several nodes on the loopback interface.

Why a namespace: Ray binds the machine's network address unless it has
none, and `ray stop` ends every Ray process on the host.  Here each run
gets its own network namespace (only ``lo``, 127.0.0.1) and its own PID
namespace, and its Ray temp dir and HOME are private.  This file, re-run as
``python3 ray_cluster.py CONFIG`` under
``unshare --net --pid --mount-proc --fork --kill-child``, is the
namespace's PID 1: it brings ``lo`` up, starts the nodes with
``ray start``, runs the driver, then SIGKILLs every other process in the
namespace.  Nothing outlives it: when PID 1 of a PID namespace exits the
kernel kills the rest, and when the test kills ``unshare`` (timeout)
``--kill-child`` kills PID 1.

A killed raylet is noticed fast with Ray's default settings: its workers
exit as soon as they see it gone (which needs PID 1 to reap it, see
``_reap_until``), and the driver then retries their tasks elsewhere.  Only
a silent node (a machine cut off) waits for the GCS health check.

Used by tests/studies/test_ray_engine.py; the driver reads the cluster's
layout from the JSON file named by $RAY_CLUSTER_INFO:
{"address": "127.0.0.1:6379" or None, "nodes": [{"name", "raylet_pid"}]}.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
GCS_PORT = 6379
_UNSHARE = ["unshare", "--net", "--pid", "--mount-proc", "--fork",
            "--kill-child"]
# Set in each node's environment (tests/studies/fake_jobs.py reads it).
NODE_NAME_VAR = "FAKE_JOBS_NODE"


def isolation_unavailable():
  """None when namespaces can be made here, else why not (a skip reason)."""
  if not hasattr(os, "geteuid") or os.geteuid() != 0:
    return "needs root to make network and PID namespaces (unshare)"
  for program in ("unshare", "ip"):
    if shutil.which(program) is None:
      return f"needs `{program}` (util-linux / iproute2)"
  probe = subprocess.run(_UNSHARE + ["ip", "link", "set", "lo", "up"],
                         capture_output=True, text=True, check=False)
  if probe.returncode != 0:
    return (f"cannot make a private namespace here: "
            f"{probe.stderr.strip() or probe.returncode}")
  return None


def run_isolated(driver_source, work_dir, *, nodes=(), env=None,
                 timeout_s=60):
  """Runs ``driver_source`` (Python) in a fresh namespace.

  Args:
    driver_source: the driver program's text.
    work_dir: a folder for the driver, its config and what it writes.
    nodes: list of dicts {"name": str, "num_cpus": int}; the first is the
      head (`ray start --head` on 127.0.0.1:6379).  Empty: no cluster, the
      driver may start a local Ray itself.
    env: extra environment for the nodes and the driver.
    timeout_s: wall-clock limit for the whole run, seconds.

  Returns:
    subprocess.CompletedProcess with the run's text output (the driver's
    and the harness's, stdout and stderr together).
  """
  driver_path = os.path.join(work_dir, "driver.py")
  with open(driver_path, "w") as f:
    f.write(driver_source)
  # Ray's temp dir, made here so that it goes even if the namespace is
  # killed; a short path, as Ray's unix sockets live under it (108 bytes).
  ray_tmp = tempfile.mkdtemp(prefix="rayns", dir="/tmp")
  config_path = os.path.join(work_dir, "cluster_config.json")
  with open(config_path, "w") as f:
    json.dump({"driver": driver_path, "nodes": list(nodes),
               "ray_tmp": ray_tmp,
               "env": dict(env or {}), "work_dir": work_dir,
               "driver_timeout_s": max(1, timeout_s - 10)}, f)
  command = _UNSHARE + [sys.executable, os.path.abspath(__file__),
                        config_path]
  try:
    return subprocess.run(command, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True,
                          timeout=timeout_s, check=False)
  except subprocess.TimeoutExpired as error:
    # subprocess.run has SIGKILLed unshare; --kill-child took the namespace
    # with it.
    output = error.stdout or ""
    if isinstance(output, bytes):
      output = output.decode(errors="replace")
    raise AssertionError(f"isolated run passed {timeout_s} s:\n"
                         f"{output[-4000:]}") from None
  finally:
    shutil.rmtree(ray_tmp, ignore_errors=True)


# What follows runs inside the namespace, as its PID 1.


def _ray_command():
  beside = os.path.join(os.path.dirname(sys.executable), "ray")
  return [beside] if os.path.exists(beside) else ["ray"]


def _pids_named(name):
  pids = set()
  for entry in os.listdir("/proc"):
    if not entry.isdigit():
      continue
    try:
      with open(f"/proc/{entry}/comm") as f:
        if f.read().strip() == name:
          pids.add(int(entry))
    except OSError:
      pass
  return pids


def _start_nodes(nodes, env, ray_tmp):
  """Starts the nodes; returns [{"name", "raylet_pid"}] in their order."""
  started = []
  for position, node in enumerate(nodes):
    before = _pids_named("raylet")
    command = _ray_command() + [
        "start", "--node-ip-address=127.0.0.1",
        f"--num-cpus={node.get('num_cpus', 1)}", "--num-gpus=0",
        "--disable-usage-stats"]
    if position == 0:
      command += ["--head", f"--port={GCS_PORT}", f"--temp-dir={ray_tmp}",
                  "--include-dashboard=false"]
    else:
      command += [f"--address=127.0.0.1:{GCS_PORT}"]
    node_env = dict(env, **{NODE_NAME_VAR: node["name"]})
    result = subprocess.run(command, env=node_env, capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
      raise RuntimeError(f"ray start for node {node['name']} failed:\n"
                         f"{result.stdout}\n{result.stderr}")
    new = set()
    for _ in range(100):
      new = _pids_named("raylet") - before
      if new:
        break
      time.sleep(0.1)
    if len(new) != 1:
      raise RuntimeError(f"node {node['name']}: expected one new raylet, "
                         f"found {sorted(new)}")
    started.append({"name": node["name"], "raylet_pid": new.pop()})
  return started


def _reap_until(pid, timeout_s):
  """Reaps every exited process of the namespace (its PID 1's duty) until
  ``pid`` exits; returns that one's exit code, or None after ``timeout_s``.

  Why: a Ray worker exits when its raylet is gone, which it tells by the
  raylet's pid; an unreaped raylet stays a zombie and looks alive.
  """
  deadline = time.monotonic() + timeout_s
  while time.monotonic() < deadline:
    try:
      exited, status = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
      return None
    if exited == pid:
      return os.waitstatus_to_exitcode(status)
    if exited == 0:
      time.sleep(0.05)
  return None


def _kill_everything_else():
  """SIGKILLs every process of this PID namespace but this one, and reaps
  them."""
  for entry in os.listdir("/proc"):
    if entry.isdigit() and int(entry) != os.getpid():
      try:
        os.kill(int(entry), signal.SIGKILL)
      except OSError:
        pass
  while True:
    try:
      os.waitpid(-1, 0)
    except ChildProcessError:
      break


def _main(config_path):
  with open(config_path) as f:
    config = json.load(f)
  subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
  ray_tmp = config["ray_tmp"]
  python_path = [HERE, ROOT] + [p for p in os.environ.get(
      "PYTHONPATH", "").split(os.pathsep) if p]
  # A private HOME too: a local ray.init writes an auth token to
  # ~/.ray/auth_token, which every later `ray start` on the host would use.
  home = os.path.join(ray_tmp, "home")
  os.mkdir(home)
  env = dict(os.environ, HOME=home, RAY_TMPDIR=ray_tmp,
             RAY_USAGE_STATS_ENABLED="0",
             PYTHONPATH=os.pathsep.join(python_path))
  env.update(config["env"])
  info_path = os.path.join(config["work_dir"], "cluster_info.json")
  code = 1
  try:
    nodes = _start_nodes(config["nodes"], env, ray_tmp)
    with open(info_path, "w") as f:
      json.dump({"address": f"127.0.0.1:{GCS_PORT}" if nodes else None,
                 "nodes": nodes}, f)
    driver = subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, config["driver"]],
        env=dict(env, RAY_CLUSTER_INFO=info_path))
    code = _reap_until(driver.pid, config["driver_timeout_s"])
    if code is None:
      print(f"driver passed {config['driver_timeout_s']} s", flush=True)
      code = 124
  finally:
    sys.stdout.flush()
    _kill_everything_else()
  return code


if __name__ == "__main__":
  sys.exit(_main(sys.argv[1]))
