"""tf_betavae.experiments.sweep_command: scripts/sweep.py's checks."""

from absl import flags
import pytest

from tf_betavae import cli
from tf_betavae.experiments import sweep_command


def test_numbers_keep_the_first_of_each_value_in_order():
  assert sweep_command.numbers("values", [" 4", "1", "4.0", "16"],
                               float) == [4.0, 1.0, 16.0]
  assert sweep_command.numbers("seeds", ["2", "0", "2"], int) == [2, 0]
  assert sweep_command.numbers("betas", None, float) is None


@pytest.mark.parametrize("name, texts, convert, message", [
    ("seeds", ["0", "1.5"], int,
     "--seeds must be a comma-separated list of integers, got '1.5'"),
    ("values", ["4", "x"], float,
     "--values must be a comma-separated list of numbers, got 'x'"),
    ("betas", [], float, "--betas is empty"),
])
def test_bad_numbers_are_usage_errors(name, texts, convert, message):
  with pytest.raises(cli.UsageError) as raised:
    sweep_command.numbers(name, texts, convert)
  assert str(raised.value) == message


@pytest.mark.parametrize("changes, message", [
    ({"num_train": 1}, "--num_train must be at least 2"),
    ({"num_eval": 0}, "--num_eval must be at least 2"),
    ({"udr_num_points": 9}, "--udr_num_points must be at least 10, got 9"),
    ({"num_reconstruction_images": 0},
     "--num_reconstruction_images must be at least 1"),
    ({"steps": 0}, "--steps must be a positive integer, got 0"),
    ({"metric_seed": 2**32},
     "--metric_seed must lie in [0, 2**32), got 4294967296"),
])
def test_bad_sizes_are_usage_errors(changes, message):
  with pytest.raises(cli.UsageError) as raised:
    sweep_command.check_sizes(sweep_command.SweepFlags(**changes))
  assert str(raised.value) == message


def test_defaults_pass():
  sweep_command.check_sizes(sweep_command.SweepFlags())


def test_every_pass_through_setting_is_a_flag_and_a_train_setting():
  from tf_betavae import training  # pylint: disable=g-import-not-at-top
  values = flags.FlagValues()
  cli.define_config_flags(sweep_command.SweepFlags, flag_values=values,
                          module_name="sweep_test")
  train_settings = {f.name for f in
                    training.TrainConfig.__dataclass_fields__.values()}
  for name in sweep_command.PASS_THROUGH:
    assert name in values and name in train_settings, name


def test_run_checks_the_flags_before_anything_is_written(tmp_path):
  values = flags.FlagValues()
  cli.define_config_flags(sweep_command.SweepFlags, flag_values=values,
                          module_name="sweep_test")
  values(["sweep.py", "--seeds=0,x", f"--sweep_dir={tmp_path}/s"])
  with pytest.raises(cli.UsageError, match="--seeds must be a comma"):
    sweep_command.run(["sweep.py"], values)
  assert not (tmp_path / "s").exists()
