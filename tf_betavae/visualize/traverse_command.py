"""The traverse program (scripts/traverse.py) behind its flags.

scripts/traverse.py defines one flag per field of ``TraverseFlags``
(``tf_betavae.cli.define_config_flags``) and calls ``run``, which checks
the values, writes the pictures and returns the lines the program prints.
Usage errors raise ``cli.UsageError`` (the program exits 2 with one line).
"""

import dataclasses
import math


from tf_betavae import cli
from tf_betavae.visualize import picture_files

PROGRAM = "traverse.py"

# The sampled images are held in memory at once (64 x 64 x 3 floats each).
MAX_IMAGES = 100000


_flag = cli.flag_field


@dataclasses.dataclass
class TraverseFlags:
  """The program's settings; each field is a flag of its name."""

  model_dir: str = _flag(None, "A training run directory.", kind="string")
  export: str = _flag(None, "A SavedModel export (version dir or model "
                      "folder).", kind="string")
  output_dir: str = _flag(
      None, "Where the pictures go; default <model_dir>/pictures or a "
      "'pictures' folder beside the export's versions.", kind="string")
  dataset: str = _flag(
      None, "Dataset the input images come from; default the one the model "
      "was trained on (dsprites when unknown).", kind="string")
  num_images: int = _flag(
      64, "Images sampled to measure KL per latent and to show.")
  seed: int = _flag(0, "Seed of the sampled images.")
  index: int = _flag(0, "Which sampled image the PNG traverses.")
  num_steps: int = _flag(10, "Columns of the traversal grid.")
  limit: float = _flag(3.0, "The sweep spans -limit..+limit.")
  absolute: bool = _flag(
      False, "Set the latent to the sweep value instead of adding it to the "
      "input's posterior mean.")
  max_latents: int = _flag(
      None, "Show only this many latents (most informative first).",
      kind="integer")
  gif_inputs: int = _flag(3, "Inputs animated in traversal.gif.")
  gif_frames: int = _flag(
      20, "Frames of each half of the GIF's back-and-forth sweep.")
  factor_response: bool = _flag(
      True, "Also plot factor_response.png when the dataset has a "
      "ground-truth simulator.")
  data_dir: str = _flag(None, "Where real datasets live.", kind="string")
  samples_per_value: int = _flag(
      16, "Images per factor value of the factor-response plot.")


def check(values):
  """Raises cli.UsageError for a value out of range.

  Args:
    values: TraverseFlags.
  """
  if bool(values.model_dir) == bool(values.export):
    raise cli.UsageError("give exactly one of --model_dir DIR or --export DIR")
  for name, low in (("num_images", 1), ("num_steps", 2), ("gif_inputs", 1),
                    ("gif_frames", 2), ("samples_per_value", 1)):
    if getattr(values, name) < low:
      raise cli.UsageError(f"--{name} must be >= {low}, got "
                           f"{getattr(values, name)}")
  if not (math.isfinite(values.limit) and values.limit > 0):
    raise cli.UsageError(f"--limit must be > 0 and finite, got "
                         f"{values.limit}")
  if values.num_images > MAX_IMAGES:
    raise cli.UsageError(f"--num_images must be <= {MAX_IMAGES}, got "
                         f"{values.num_images}")
  cli.check_seed("seed", values.seed)
  if values.max_latents is not None and values.max_latents < 1:
    raise cli.UsageError(
        f"--max_latents must be >= 1, got {values.max_latents}")
  if not 0 <= values.index < values.num_images:
    raise cli.UsageError(f"--index must lie in [0, --num_images="
                         f"{values.num_images}), got {values.index}")


def run(argv, flag_values):
  """Checks the flags and writes the pictures.

  Args:
    argv: the program's remaining arguments (absl's argv).
    flag_values: the parsed absl FlagValues of scripts/traverse.py.

  Returns:
    list of str: one line ``name: path`` per picture written.

  Raises:
    cli.UsageError: a bad flag value, or a model or dataset that cannot be
      used.
  """
  values = cli.command_flags(TraverseFlags, argv, flag_values)
  check(values)
  try:
    # Every field is a parameter of write_pictures, named alike.
    paths = picture_files.write_pictures(**dataclasses.asdict(values))
  except picture_files.PicturesError as e:
    raise cli.UsageError(str(e)) from None
  return [f"{name}: {path}" for name, path in paths.items()]
