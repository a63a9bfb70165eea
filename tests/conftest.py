"""Shared fixtures: a tiny trained run reused by training/export/script tests."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The suite runs in two pytest-xdist worker processes (setup.cfg), and many
# tests start subprocesses: on a GPU machine each process must take GPU
# memory as it needs it, not all of it at start (TensorFlow's default).
os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")

import pytest  # pylint: disable=g-import-not-at-top,wrong-import-position

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
  sys.path.insert(0, REPO_ROOT)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
  """A 300-step default-architecture plain VAE run with its export.

  Long enough that the encoder has learned position (the transfer test
  compares it with an untrained encoder).

  Returns:
    dict: model_dir, export_root, summary (training.train's return value).
  """
  from tf_betavae import training  # pylint: disable=g-import-not-at-top
  root = tmp_path_factory.mktemp("tiny_run")
  model_dir = str(root / "model")
  export_root = str(root / "exported")
  config = training.TrainConfig(steps=300, log_every=100,
                                checkpoint_every=100, learning_rate=1e-3,
                                beta=1.0, seed=3)
  summary = training.train(config, model_dir, export_dir=export_root)
  return {"model_dir": model_dir, "export_root": export_root,
          "summary": summary, "config": config}


def _snapshot(root):
  """{relative path: (size, mtime in ns)} of everything under root; None if
  root is absent.  Two equal snapshots mean nothing was written there."""
  if not os.path.exists(root):
    return None
  entries = {}
  for folder, dirs, files in os.walk(root):
    for name in dirs + files:
      path = os.path.join(folder, name)
      stat = os.stat(path)
      entries[os.path.relpath(path, root)] = (stat.st_size,
                                              stat.st_mtime_ns)
  return entries


@pytest.fixture
def dir_snapshot():
  """The function ``snapshot(root)`` that refused-command tests compare."""
  return _snapshot
