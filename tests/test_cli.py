"""tf_betavae.cli: flags generated from TrainConfig, console entry points."""

import configparser
import dataclasses
import os
import subprocess
import sys

from absl import flags
import pytest

from tf_betavae import cli
from tf_betavae import tf_startup
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
    elif "kind" in field.metadata:  # an Optional that names its kind
      assert flag.flag_type() == field.metadata["kind"], field.name
    else:
      assert flag.flag_type() == "string", field.name
  assert flag_values["beta"].flag_type() == "float"
  assert flag_values["steps"].flag_type() == "int"
  assert flag_values["jit_compile"].flag_type() == "bool"
  assert flag_values["arch"].flag_type() == "string enum"
  assert flag_values["lambda_d_factor"].flag_type() == "float"


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
  assert len(entry_points) == 12
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
  assert "beta_vae: the KL weight" in result.stdout
  assert "--method" in result.stdout


def _record(pathname, level):
  import logging  # pylint: disable=g-import-not-at-top
  return logging.LogRecord("absl", level, pathname, 1, "message", None, None)


def test_tensorflow_info_is_hidden_and_everything_else_kept():
  import logging  # pylint: disable=g-import-not-at-top
  keep = tf_startup.LibraryInfoFilter().filter
  tf_file = os.path.join(os.sep, "site-packages", "tensorflow", "python",
                         "checkpoint", "functional_saver.py")
  ours = os.path.join(os.sep, "work", "tf_betavae", "training", "loop.py")
  assert not keep(_record(tf_file, logging.INFO))
  assert keep(_record(tf_file, logging.WARNING))
  assert keep(_record(tf_file, logging.ERROR))
  assert keep(_record(ours, logging.INFO))


@pytest.mark.parametrize("driver", [False, True])
def test_startup_noise_keeps_cuinit_failures_where_a_driver_exists(driver):
  line = ("E0000 cuda_platform.cc:52] failed call to cuInit: INTERNAL: "
          "CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)")
  assert tf_startup.startup_noise(line, driver_present=driver) is (not driver)
  assert tf_startup.startup_noise(
      "I0000 port.cc:153] oneDNN custom operations are on.",
      driver_present=driver)
  assert not tf_startup.startup_noise("E0000 something real broke",
                                      driver_present=driver)


def test_a_program_starts_with_its_own_lines(tmp_path):
  result = subprocess.run(
      [sys.executable, os.path.join(REPO_ROOT, "scripts", "evaluate.py"),
       "--saved_model=" + str(tmp_path / "missing")],
      capture_output=True, text=True, timeout=300, check=False,
      env={k: v for k, v in os.environ.items()
           if k != "TF_CPP_MIN_LOG_LEVEL"})
  assert result.returncode == 2, result.stderr
  lines = [l for l in result.stderr.splitlines() if l.strip()]
  assert lines and lines[0].startswith("evaluate.py: error:"), lines
  assert not any("cuInit" in l or "oneDNN" in l or "cudart" in l
                 for l in lines), lines


def test_output_dirs_and_names_are_checked_before_any_work(tmp_path):
  a_file = tmp_path / "a_file"
  a_file.write_text("x")
  cli.check_output_dir("model_dir", str(tmp_path / "new" / "run"))  # fine
  for path, fragment in [(" ", "is blank"), (str(a_file), "is a file"),
                         (str(a_file / "below"), "is a file, not a folder")]:
    with pytest.raises(cli.UsageError, match=fragment):
      cli.check_output_dir("model_dir", path)
  cli.check_name("export_name", "dsprites_beta8")  # fine
  for name in ("", " ", ".", "..", "a/b"):
    with pytest.raises(cli.UsageError, match="not a usable name"):
      cli.check_name("export_name", name)
  assert not (tmp_path / "new").exists()


def test_error_messages_are_one_line():
  message = cli.one_line("bad\rvalue\x0cand\nmore\u2028end")
  assert len(message.splitlines()) == 1
  assert message == "bad\\rvalue\\x0cand\\nmore\\u2028end"


def test_a_list_flag_field_gives_each_instance_its_own_list():

  @dataclasses.dataclass
  class Settings:
    items: list = cli.flag_field(["a", "b"], "Items.", kind="list")
    count: int = cli.flag_field(None, "Count.", kind="integer")

  first, second = Settings(), Settings()
  first.items.append("c")
  assert second.items == ["a", "b"]
  values = flags.FlagValues()
  cli.define_config_flags(Settings, flag_values=values, module_name="t")
  values(["prog", "--count=3"])
  assert values["items"].default == ["a", "b"]
  assert values["items"].flag_type() == "comma separated list of strings"
  parsed = Settings(**cli.config_values_from_flags(Settings, values))
  assert parsed == Settings(items=["a", "b"], count=3)


def test_command_flags_refuse_arguments_and_check_seeds():

  @dataclasses.dataclass
  class Options:
    seed: int = cli.flag_field(0, "Seed.", kind="integer")

  values = flags.FlagValues()
  cli.define_config_flags(Options, flag_values=values,
                          module_name="command_test")
  values(["prog", "--seed=7"])
  assert cli.command_flags(Options, ["prog"], values,
                           info_logging=False) == Options(seed=7)
  with pytest.raises(cli.UsageError, match=r"unexpected arguments \['x'\]; "
                     "flags take the form --name=value"):
    cli.command_flags(Options, ["prog", "x"], values, info_logging=False)
  cli.check_seed("seed", 2**32 - 1)
  for bad in (-1, 2**32):
    with pytest.raises(cli.UsageError,
                       match=rf"--seed must lie in \[0, 2\*\*32\), got {bad}"):
      cli.check_seed("seed", bad)
