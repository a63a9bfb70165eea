"""tf_betavae.visualize.traverse_command: the checks of scripts/traverse.py."""

import dataclasses
import inspect

from absl import flags
import pytest

from tf_betavae import cli
from tf_betavae.visualize import picture_files
from tf_betavae.visualize import traverse_command


def _parsed(*args):
  values = flags.FlagValues()
  cli.define_config_flags(traverse_command.TraverseFlags, flag_values=values,
                          module_name="traverse_test")
  values(["traverse.py", *args])
  return values


@pytest.mark.parametrize("changes, message", [
    ({}, "give exactly one of --model_dir DIR or --export DIR"),
    ({"model_dir": "r", "export": "e"}, "give exactly one of"),
    ({"model_dir": "r", "num_steps": 1}, "--num_steps must be >= 2, got 1"),
    ({"model_dir": "r", "gif_frames": 0}, "--gif_frames must be >= 2, got 0"),
    ({"model_dir": "r", "limit": float("inf")},
     "--limit must be > 0 and finite, got inf"),
    ({"model_dir": "r", "num_images": 100001},
     "--num_images must be <= 100000, got 100001"),
    ({"model_dir": "r", "seed": 2**32}, "--seed must lie in [0, 2**32)"),
    ({"model_dir": "r", "max_latents": 0}, "--max_latents must be >= 1"),
    ({"model_dir": "r", "index": 64},
     "--index must lie in [0, --num_images=64), got 64"),
])
def test_bad_values_are_usage_errors(changes, message):
  values = traverse_command.TraverseFlags(**changes)
  with pytest.raises(cli.UsageError) as raised:
    traverse_command.check(values)
  assert message in str(raised.value)


def test_good_values_pass():
  traverse_command.check(traverse_command.TraverseFlags(
      export="e", index=63, max_latents=1, limit=0.5))


def test_every_flag_is_a_parameter_of_write_pictures():
  # run() hands the fields to write_pictures by name.
  parameters = inspect.signature(picture_files.write_pictures).parameters
  drawing = {"index", "num_steps", "limit", "absolute", "max_latents",
             "gif_inputs", "gif_frames", "samples_per_value"}
  for field in dataclasses.fields(traverse_command.TraverseFlags):
    assert field.name in parameters or field.name in drawing, field.name


def test_run_checks_the_parsed_flags_before_loading_a_model():
  with pytest.raises(cli.UsageError, match="--num_steps must be >= 2"):
    traverse_command.run(["traverse.py"],
                         _parsed("--export=nowhere", "--num_steps=1"))
  with pytest.raises(cli.UsageError, match=r"unexpected arguments \['x'\]"):
    traverse_command.run(["traverse.py", "x"], _parsed())
