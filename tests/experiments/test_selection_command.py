"""tf_betavae.experiments.selection_command: scripts/select_models.py's
checks."""

import sys

import pytest

from tf_betavae import cli
from tf_betavae.experiments import selection_command

_MODELS = ["a", "b", "c", "d"]


def test_importing_it_leaves_tensorflow_unloaded():
  # Checked in a fresh process: this one may have loaded it already.
  import subprocess  # pylint: disable=g-import-not-at-top
  done = subprocess.run(
      [sys.executable, "-c", "import sys; "
       "from tf_betavae.experiments import selection_command, "
       "sweep_command, reproduce_command; "
       "print('tensorflow' in sys.modules)"],
      capture_output=True, text=True, check=True)
  assert done.stdout.strip() == "False"


@pytest.mark.parametrize("texts, sizes", [([], []), (["2", "4"], [2, 4])])
def test_pool_sizes(texts, sizes):
  assert selection_command.pool_sizes_of(texts, 4) == sizes


@pytest.mark.parametrize("texts, num_models, message", [
    (["1"], 4, "--pool_sizes must be integers in [2, 4] (the number of "
     "models), got '1'"),
    (["5"], 4, "got '5'"),
    (["x"], 4, "got 'x'"),
    (["20"], 40, "--pool_sizes=20: 40 models give 137846528820 pools, more "
     "than 1000000; choose a smaller or larger size"),
])
def test_bad_pool_sizes(texts, num_models, message):
  with pytest.raises(cli.UsageError) as raised:
    selection_command.pool_sizes_of(texts, num_models)
  assert str(raised.value).endswith(message)


@pytest.mark.parametrize("changes, paths, message", [
    ({}, ["a"], "give at least 2 models to rank (--models DIR DIR ...), "
     "got 1"),
    ({"num_points": 1}, _MODELS, "--num_points must be at least 2"),
    ({"supervised_num_eval": 0}, _MODELS,
     "--supervised_num_eval must be at least 2"),
    ({"seed": -1}, _MODELS, "--seed must lie in [0, 2**32), got -1"),
    ({"kl_filter_threshold": float("nan")}, _MODELS,
     "--kl_filter_threshold must be a finite number >= 0, got nan"),
    ({"pool_sizes": ["9"]}, _MODELS, "--pool_sizes must be integers"),
])
def test_bad_values_are_usage_errors(changes, paths, message):
  values = selection_command.SelectModelsFlags(**changes)
  with pytest.raises(cli.UsageError) as raised:
    selection_command.check(values, paths)
  assert str(raised.value).startswith(message)


def test_output_must_be_a_writable_file(tmp_path):
  values = selection_command.SelectModelsFlags(output=str(tmp_path))
  with pytest.raises(cli.UsageError, match="is a directory"):
    selection_command.check(values, _MODELS)
  values = selection_command.SelectModelsFlags(
      output=str(tmp_path / "r.json"), pool_sizes=["3"])
  assert selection_command.check(values, _MODELS) == [3]
