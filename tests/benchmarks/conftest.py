"""What the benchmark tests share: the benchmark programs importable by
name, and the package of this checkout in every subprocess they start."""

import os
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BENCHMARKS = os.path.join(REPO_ROOT, "benchmarks")
# pytest runs in importlib mode, which puts no test or benchmark folder on
# sys.path; the tests import the benchmark programs as modules.
for _path in (REPO_ROOT, BENCHMARKS):
  if _path not in sys.path:
    sys.path.insert(0, _path)


@pytest.fixture(autouse=True)
def _package_on_path(monkeypatch):
  """Subprocesses (benchmarks, their workers, scripts/train.py) import
  tf_betavae from this checkout, installed or not."""
  paths = [REPO_ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(
      os.pathsep) if p]
  monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))
