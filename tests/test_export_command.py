"""tf_betavae.export_command: scripts/export.py's checks and its reading of
--selection_results."""

import json

from absl import flags
import pytest

from tf_betavae import cli
from tf_betavae import export_command


def _parsed(*args):
  values = flags.FlagValues()
  cli.define_config_flags(export_command.ExportFlags, flag_values=values,
                          module_name="export_test")
  values(["export.py", *args])
  return values


@pytest.mark.parametrize("argv, args, message", [
    (["export.py", "x"], [],
     "unexpected arguments ['x']; flags take the form --name=value"),
    (["export.py"], [], "give --model_dir (a training run) or --describe "
     "(an export)"),
    (["export.py"], ["--model_dir=r", "--version=0"],
     "--version must be a positive integer, got 0"),
    (["export.py"], ["--model_dir=r", "--selection_model=factor_vae"],
     "--selection_model needs --selection_results"),
])
def test_bad_flags_are_usage_errors(argv, args, message):
  with pytest.raises(cli.UsageError) as raised:
    export_command.run(argv, _parsed(*args))
  assert str(raised.value) == message


def test_describe_of_a_missing_export_is_a_usage_error(tmp_path):
  with pytest.raises(cli.UsageError):
    export_command.run(["export.py"],
                       _parsed(f"--describe={tmp_path}/none/1"))


def test_a_missing_run_is_a_usage_error(tmp_path):
  with pytest.raises(cli.UsageError):
    export_command.run(["export.py"], _parsed(f"--model_dir={tmp_path}/r"))


def test_selection_results_that_cannot_be_used(tmp_path):
  missing = tmp_path / "missing.json"
  with pytest.raises(cli.UsageError) as raised:
    export_command.selection_record(str(missing), "beta_vae", "r")
  assert str(raised.value) == (f"--selection_results {missing} does not "
                               "exist")
  junk = tmp_path / "junk.json"
  junk.write_text("{not json")
  with pytest.raises(cli.UsageError, match="is not JSON"):
    export_command.selection_record(str(junk), "beta_vae", "r")
  other = tmp_path / "other.json"
  other.write_text(json.dumps([1, 2]))
  with pytest.raises(cli.UsageError) as raised:
    export_command.selection_record(str(other), "beta_vae", "r")
  assert str(raised.value) == (f"--selection_results {other} is not the "
                               "JSON of scripts/reproduce.py (no models)")
  no_pick = tmp_path / "no_pick.json"
  no_pick.write_text(json.dumps({"models": {}}))
  with pytest.raises(cli.UsageError, match="^--selection_results: "):
    export_command.selection_record(str(no_pick), "beta_vae", "r")
