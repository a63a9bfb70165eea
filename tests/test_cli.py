"""tf_betavae.cli: flags generated from TrainConfig, console entry points."""

import configparser
import dataclasses
import os
import subprocess
import sys

from absl import flags
import pytest

from tf_betavae import cli
from tf_betavae import training

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def flag_values():
  values = flags.FlagValues()
  cli.define_config_flags(training.TrainConfig, flag_values=values,
                          module_name="train_test")
  return values


def test_every_setting_has_a_flag_with_its_help_type_and_default(
    flag_values):
  kinds = {int: int, float: float, bool: bool}
  for field in dataclasses.fields(training.TrainConfig):
    if field.metadata.get("flag", True) is False:
      assert field.name not in flag_values  # the program defines it
      continue
    flag = flag_values[field.name]
    assert flag.help.endswith(field.metadata["help"]) and flag.help
    assert flag.default == field.default, field.name
    if "choices" in field.metadata:
      assert flag.flag_type() == "string enum"
      assert list(flag.parser.enum_values) == list(field.metadata["choices"])
    elif field.type in kinds and field.default is not None:
      assert isinstance(flag.default, kinds[field.type]), field.name
    else:
      assert flag.flag_type() == "string", field.name
  assert flag_values["beta"].flag_type() == "float"
  assert flag_values["steps"].flag_type() == "int"
  assert flag_values["jit_compile"].flag_type() == "bool"
  assert flag_values["arch"].flag_type() == "string enum"


def test_explicit_flags_override_the_base_values(flag_values):
  flag_values(["prog", "--beta=2", "--steps=7"])
  values = cli.config_values_from_flags(
      training.TrainConfig, flag_values, base={"beta": 8.0, "latent_dim": 3})
  assert values["beta"] == 2.0 and values["steps"] == 7
  assert values["latent_dim"] == 3  # from the base: not given explicitly
  assert values["learning_rate"] == training.TrainConfig().learning_rate
  training.TrainConfig(**values)


def _entry_points():
  parser = configparser.ConfigParser()
  parser.read(os.path.join(REPO_ROOT, "setup.cfg"))
  lines = parser["options.entry_points"]["console_scripts"].strip()
  return dict(tuple(p.strip() for p in line.split("="))
              for line in lines.splitlines())


def test_every_console_script_has_a_function_and_a_program():
  entry_points = _entry_points()
  assert len(entry_points) == 10
  for name, target in entry_points.items():
    module, function = target.split(":")
    assert module == "tf_betavae.cli", name
    assert callable(getattr(cli, function)), name
    script = cli.find_script(function)
    assert os.path.isfile(script), name
    assert name == "tfbv-" + function.replace("_", "-")
  programs = sorted(f[:-3] for f in os.listdir(os.path.join(REPO_ROOT,
                                                            "scripts"))
                    if f.endswith(".py") and not f.startswith("_"))
  assert sorted(t.split(":")[1] for t in entry_points.values()) == programs


def test_a_missing_program_is_a_clear_error():
  with pytest.raises(FileNotFoundError, match="no_such_program.py is not "
                     "installed"):
    cli.find_script("no_such_program")


def _help(command):
  return subprocess.run(
      command + ["--help"], capture_output=True, text=True, timeout=300,
      env=dict(os.environ, PYTHONPATH=REPO_ROOT), cwd=REPO_ROOT)


def test_the_train_entry_point_prints_its_help():
  result = _help([sys.executable, "-c",
                  "from tf_betavae import cli; cli.train()"])
  # The program's own --help, exit code included (absl exits 1 after it).
  script = _help([sys.executable, os.path.join("scripts", "train.py")])
  assert result.returncode == script.returncode, result.stderr[-2000:]
  # Only the line naming the program differs.
  assert ([l for l in result.stdout.splitlines() if l.startswith(" ")] ==
          [l for l in script.stdout.splitlines() if l.startswith(" ")])
  assert result.stdout.startswith("Trains a β-VAE")
  for name in ("--beta", "--steps", "--preset", "--model_dir",
               "--mixed_precision", "--lr_decay"):
    assert name in result.stdout, name
  assert "KL weight of objective H" in result.stdout
