"""tf_betavae.tf_startup: whether workers start quietly reaches them through
the environment.  (Subprocess checks of real workers: DCI's in
tests/metrics/test_dci.py, the pinned workers' in
tests/experiments/test_parallel.py.)"""

import os

import pytest

from tf_betavae import cli
from tf_betavae import tf_startup


@pytest.fixture
def environ(monkeypatch):
  """A copy of the environment without the quieting variables, in place of
  os.environ for one test (so nothing set here reaches later tests or the
  workers they start)."""
  env = {k: v for k, v in os.environ.items()
         if k not in (tf_startup.QUIET_ENV, "TF_CPP_MIN_LOG_LEVEL",
                      "GRPC_VERBOSITY")}
  monkeypatch.setattr(os, "environ", env)
  return env


def test_a_quieted_program_tells_its_workers(environ):
  cli.quiet_tensorflow(["train.py", "--steps=10"])
  assert environ[tf_startup.QUIET_ENV] == "1"
  assert environ["TF_CPP_MIN_LOG_LEVEL"] == "2"


def test_tf_verbose_keeps_the_workers_verbose(environ):
  # Even below a quieted program: its child run with --tf_verbose shows the
  # noise, and so do the workers that child starts.
  environ[tf_startup.QUIET_ENV] = "1"
  cli.quiet_tensorflow(["train.py", "--tf_verbose"])
  assert tf_startup.QUIET_ENV not in environ


def test_a_level_the_user_set_is_kept(environ):
  environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
  tf_startup.set_quiet_environment(True)
  assert environ["TF_CPP_MIN_LOG_LEVEL"] == "0"
  assert environ[tf_startup.QUIET_ENV] == "1"


def test_a_worker_of_a_verbose_program_is_left_alone(environ, monkeypatch):
  imported = []
  monkeypatch.setattr(tf_startup, "import_quietly",
                      lambda: imported.append(True))
  monkeypatch.setattr(tf_startup, "quiet_loggers",
                      lambda: imported.append(True))
  tf_startup.quiet_worker_start()
  assert not imported
  environ[tf_startup.QUIET_ENV] = "1"
  tf_startup.quiet_worker_start()
  assert imported == [True, True]
