"""tf_betavae.experiments.reproduce_command: scripts/reproduce.py's flags
turned into Settings."""

import dataclasses

from absl import flags
import pytest

from tf_betavae import cli
from tf_betavae.experiments import reproduce_command
from tf_betavae.experiments import settings as settings_lib


def _values(**changes):
  return reproduce_command.ReproduceFlags(**changes)


def test_seeds():
  assert reproduce_command.seeds_of(_values()) is None
  assert reproduce_command.seeds_of(_values(seeds=["3", "1"])) == [3, 1]


@pytest.mark.parametrize("changes, message", [
    ({"seeds": ["0", "a"]},
     "--seeds must be comma-separated integers, got '0,a'"),
    ({"seeds": ["0"], "num_seeds": 2},
     "give --seeds or --num_seeds, not both"),
])
def test_bad_seeds_are_usage_errors(changes, message):
  with pytest.raises(cli.UsageError) as raised:
    reproduce_command.seeds_of(_values(**changes))
  assert str(raised.value) == message


@pytest.mark.parametrize("changes, message", [
    ({"steps": 0}, "--steps must be positive, got 0"),
    ({"dsprites_file": "/nowhere/d.npz"},
     "--dsprites_file /nowhere/d.npz does not exist"),
])
def test_bad_sizes_and_files_are_settings_errors(changes, message, tmp_path):
  with pytest.raises(settings_lib.UsageError) as raised:
    reproduce_command.settings_of(_values(work_dir=str(tmp_path), **changes))
  assert str(raised.value) == message


def test_recipe_flags_given_override_the_presets_recipe(tmp_path):
  settings = reproduce_command.settings_of(_values(
      preset="select_factor_vae", work_dir=str(tmp_path), beta=2.0,
      arch="broadcast", num_seeds=2, metrics=["mig", " ", "sap"]))
  assert settings.recipe.beta == 2.0
  assert settings.recipe.arch == "broadcast"  # the preset's is conv
  assert settings.recipe.latent_dim == 8  # the preset's, not given
  assert settings.seeds == [0, 1]
  assert settings.metrics == ["mig", "sap"]


def test_every_recipe_flag_is_a_recipe_field():
  recipe_fields = {f.name for f in dataclasses.fields(settings_lib.Recipe)}
  recipe_flags = {f.name for f in dataclasses.fields(
      reproduce_command.ReproduceFlags)
                  if "the CPU recipe's" in f.metadata["help"]}
  assert recipe_flags and recipe_flags <= recipe_fields


def test_run_refuses_an_output_md_that_is_a_directory(tmp_path):
  values = flags.FlagValues()
  cli.define_config_flags(reproduce_command.ReproduceFlags,
                          flag_values=values, module_name="reproduce_test")
  values(["reproduce.py", f"--output_md={tmp_path}",
          f"--work_dir={tmp_path}/w"])
  with pytest.raises(cli.UsageError, match="is a directory"):
    reproduce_command.run(["reproduce.py"], values, ["reproduce.py"])
  with pytest.raises(cli.UsageError, match="unexpected arguments"):
    reproduce_command.run(["reproduce.py", "x"], values, ["reproduce.py"])


def test_choices_written_out_are_the_librarys():
  # Written out so that a usage error comes before TensorFlow loads.
  choices = {f.name: tuple(f.metadata["choices"]) for f in
             dataclasses.fields(reproduce_command.ReproduceFlags)
             if "choices" in f.metadata}
  assert set(choices["preset"]) == set(settings_lib.PRESETS)
  assert choices["udr_criterion"] == settings_lib.UDR_CRITERIA
  assert choices["code_table"] == settings_lib.REPRODUCE_CODE_TABLE_MODES
