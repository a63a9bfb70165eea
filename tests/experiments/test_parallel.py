"""tf_betavae.experiments.parallel: CPU shares, pinned worker processes."""

import os
import subprocess
import sys
import time

import pytest

from tf_betavae.experiments import parallel


def test_cpu_shares_split_every_cpu_once_near_equally():
  shares = parallel.cpu_shares(3, cpus=[0, 1, 2, 3, 4, 5, 6])
  assert shares == [[0, 1, 2], [3, 4], [5, 6]]
  assert parallel.cpu_shares(4, cpus=[2, 5]) == [[2], [5]]
  assert parallel.cpu_shares(1, cpus=[0, 1]) == [[0, 1]]
  with pytest.raises(ValueError, match="num_workers must be >= 1"):
    parallel.cpu_shares(0, cpus=[0])


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"),
                    reason="CPU affinity is Linux-only")
def test_workers_run_on_disjoint_cpus():
  cpus = parallel.available_cpus()
  jobs = [(0,)] * 4
  seen = parallel.run_pinned(os.sched_getaffinity, jobs, 2)
  distinct = {frozenset(s) for s in seen}
  assert len(distinct) == min(2, len(cpus))
  assert set().union(*distinct) == set(cpus)
  if len(distinct) == 2:
    first, second = distinct
    assert not first & second


def test_results_keep_the_order_of_the_jobs():
  assert parallel.run_pinned(abs, [(-3,), (4,), (-5,), (0,)], 2) == [
      3, 4, 5, 0]
  assert parallel.run_pinned(abs, [], 2) == []


def test_a_failing_job_raises_in_the_caller():
  with pytest.raises(ValueError, match="invalid literal"):
    parallel.run_pinned(int, [("1",), ("not a number",)], 2)


_PARENT = """
import sys, time
from tf_betavae.experiments import parallel

def main():
  parallel.run_pinned(time.sleep, [(600,), (600,)], 2)

if __name__ == "__main__":
  main()
"""


def _children(pid):
  """Pids of the processes whose parent is ``pid`` (Linux /proc)."""
  found = []
  for entry in os.listdir("/proc"):
    if entry.isdigit():
      try:
        with open(f"/proc/{entry}/stat") as f:
          fields = f.read().rsplit(")", 1)[1].split()
      except OSError:
        continue
      if int(fields[1]) == pid:
        found.append(int(entry))
  return found


def _alive(pid):
  try:
    with open(f"/proc/{pid}/stat") as f:
      return f.read().rsplit(")", 1)[1].split()[0] != "Z"
  except OSError:
    return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="Linux /proc")
def test_workers_end_when_their_parent_is_killed(tmp_path):
  script = tmp_path / "parent.py"
  script.write_text(_PARENT)
  parent = subprocess.Popen([sys.executable, str(script)])
  try:
    deadline = time.time() + 60
    workers = []
    # The two pinned workers (and multiprocessing's resource tracker).
    while time.time() < deadline and len(workers) < 2:
      workers = [p for p in _children(parent.pid)
                 if "spawn_main" in open(f"/proc/{p}/cmdline").read()]
      time.sleep(0.1)
    assert len(workers) == 2
    # Let the workers start their jobs, then kill the parent outright.
    time.sleep(1.0)
    parent.kill()
    parent.wait()
    deadline = time.time() + 15
    while time.time() < deadline and any(_alive(p) for p in workers):
      time.sleep(0.1)
    assert not any(_alive(p) for p in workers)
  finally:
    if parent.poll() is None:
      parent.kill()


# A program that quiets TensorFlow as the package's programs do
# (tf_betavae.cli), then runs a job that loads TensorFlow in a pinned worker.
_QUIET_PROGRAM = """
import sys
from tf_betavae import cli
from tf_betavae.experiments import parallel

def main():
  cli.quiet_tensorflow(sys.argv)
  parallel.run_pinned(
      exec, [("import tensorflow as tf; tf.config.list_physical_devices()",)],
      1)
  print("job done")

if __name__ == "__main__":
  main()
"""


def _noise_lines(stderr):
  from tf_betavae import tf_startup  # pylint: disable=g-import-not-at-top
  return [line for line in stderr.splitlines()
          if tf_startup.startup_noise(line, driver_present=False)]


@pytest.mark.parametrize("verbose", [False, True])
def test_workers_start_as_quietly_as_their_program(tmp_path, verbose):
  from tf_betavae import tf_startup  # pylint: disable=g-import-not-at-top
  script = tmp_path / "program.py"
  script.write_text(_QUIET_PROGRAM)
  env = {k: v for k, v in os.environ.items()
         if k not in ("TF_CPP_MIN_LOG_LEVEL", tf_startup.QUIET_ENV)}
  result = subprocess.run(
      [sys.executable, str(script)] + (["--tf_verbose"] if verbose else []),
      capture_output=True, text=True, timeout=300, check=False, env=env)
  assert result.returncode == 0, result.stderr[-3000:]
  assert "job done" in result.stdout
  if verbose:
    # The noise the quiet start hides is really there without it.
    assert _noise_lines(result.stderr), result.stderr[-3000:]
  else:
    assert not _noise_lines(result.stderr), result.stderr[-3000:]
    assert "absl::InitializeLog" not in result.stderr
