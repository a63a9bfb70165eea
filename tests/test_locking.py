"""tf_betavae.locking: one holder at a time, named to the refused one.

The racers are plain Python processes (no TensorFlow): they import only
tf_betavae.locking, and the test drives them through pipes, so every race
starts at one moment without sleeping.
"""

import json
import os
import signal
import subprocess
import sys

import pytest

from tf_betavae import locking

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RACES = 24

# One racer: on each line naming a directory it tries the lock at once,
# reports the outcome as one JSON line, and keeps the lock (if it won) until
# the next line tells it the other racer has tried; then it confirms the
# release, so the next race starts with the lock free.
_RACER = r"""
import json, os, sys
from tf_betavae import locking
print("ready", flush=True)
for line in sys.stdin:
  directory = line.rstrip("\n")
  if not directory:
    break
  try:
    with locking.exclusive(directory, f"race dir {directory}"):
      print(json.dumps({"won": os.getpid()}), flush=True)
      sys.stdin.readline()
  except locking.LockHeldError as e:
    print(json.dumps({"lost": str(e), "holder": e.holder}), flush=True)
    sys.stdin.readline()
  print("released", flush=True)
"""

# Takes the lock, says so on stdout and holds it until killed.
_HOLDER = r"""
import sys
from tf_betavae import locking
with locking.exclusive(sys.argv[1], "held dir"):
  print("held", flush=True)
  sys.stdin.read()
"""


def _python(code, *args):
  env = dict(os.environ, PYTHONPATH=REPO_ROOT)
  return subprocess.Popen([sys.executable, "-c", code, *map(str, args)],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True, env=env, cwd=REPO_ROOT)


def _stop(process):
  if process.poll() is None:
    process.kill()
  process.wait(timeout=60)


def test_two_processes_racing_for_a_lock_one_wins_the_other_names_it(
    tmp_path):
  racers = [_python(_RACER), _python(_RACER)]
  try:
    for racer in racers:
      assert racer.stdout.readline() == "ready\n"
    for race in range(RACES):
      # Half the races on a fresh directory (no lock file yet), half on one
      # shared directory whose lock file names the previous winner.
      directory = tmp_path / (f"fresh{race}" if race % 2 else "shared")
      order = racers if race % 4 < 2 else racers[::-1]
      for racer in order:
        racer.stdin.write(f"{directory}\n")
        racer.stdin.flush()
      outcomes = [json.loads(racer.stdout.readline()) for racer in racers]
      winners = [o["won"] for o in outcomes if "won" in o]
      losers = [o for o in outcomes if "lost" in o]
      assert len(winners) == 1 and len(losers) == 1, (race, outcomes)
      assert f"pid {winners[0]} on " in losers[0]["lost"], (race, outcomes)
      assert losers[0]["holder"]["pid"] == winners[0]
      for racer in racers:
        racer.stdin.write("\n")
        racer.stdin.flush()
      for racer in racers:
        assert racer.stdout.readline() == "released\n"
  finally:
    for racer in racers:
      _stop(racer)


def test_a_holder_killed_with_sigkill_releases_the_lock(tmp_path):
  holder = _python(_HOLDER, tmp_path)
  try:
    assert holder.stdout.readline() == "held\n"
    with pytest.raises(locking.LockHeldError, match=f"pid {holder.pid} on "):
      with locking.exclusive(str(tmp_path), "held dir"):
        pass
    assert locking.holder_of(str(tmp_path))["pid"] == holder.pid
    os.kill(holder.pid, signal.SIGKILL)
    assert holder.wait(timeout=60) == -signal.SIGKILL
  finally:
    _stop(holder)
  # No cleanup: the dead holder's record is still in the lock file, but the
  # lock went with its process.
  with open(tmp_path / locking.LOCK_FILE) as f:
    assert json.load(f)["pid"] == holder.pid
  assert locking.holder_of(str(tmp_path)) is None
  with locking.exclusive(str(tmp_path), "held dir") as path:
    with open(path) as f:
      assert json.load(f)["pid"] == os.getpid()


def test_a_second_lock_of_one_directory_in_one_process_is_refused(tmp_path):
  # Why callers that already hold a directory tell training.train not to
  # lock it again (lock_run_dir=False).
  with locking.exclusive(str(tmp_path), "dir"):
    with pytest.raises(locking.LockHeldError, match=f"pid {os.getpid()} "):
      with locking.exclusive(str(tmp_path), "dir"):
        pass
  with locking.exclusive(str(tmp_path), "dir"):
    pass
