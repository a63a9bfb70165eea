"""The gpu_check program (scripts/gpu_check.py) behind its flags.

scripts/gpu_check.py defines one flag per field of ``GpuCheckFlags``
(``tf_betavae.cli.define_config_flags``) and prints the lines ``run``
yields: the device, one line per variant as it is timed
(``step_timing.time_variant``), the best speed against
``step_timing.TARGET_IMAGES_PER_SECOND``.  Usage errors raise
``cli.UsageError`` (the program exits 2 with one line) before any model is
built.
"""

import dataclasses

import tensorflow as tf

from tf_betavae import cli
from tf_betavae import io_utils
from tf_betavae.training import config as config_lib
from tf_betavae.training import step_timing

PROGRAM = "gpu_check.py"


_flag = cli.flag_field


@dataclasses.dataclass
class GpuCheckFlags:
  """The program's settings; each field is a flag of its name."""

  steps: int = _flag(300, "Timed steps per variant.")
  warmup_steps: int = _flag(50, "Untimed steps (tracing) first.")
  batch_size: int = _flag(256, "Global batch size.")
  allow_cpu: bool = _flag(False, "Run even without a GPU (to check the code "
                          "path; numbers are then CPU numbers).")
  output: str = _flag(None, "Optional JSON file for the numbers.",
                      kind="string")
  variants: list = _flag(
      list(step_timing.VARIANTS), "Variants to time, in this order: "
      "plain, mixed (mixed precision), xla (jit_compile), mixed_xla (both).",
      kind="list")


def check(values):
  """Raises cli.UsageError for a bad value.

  Checked before any model is built: a bad value would otherwise fail only
  after the first variant's minutes.

  Args:
    values: GpuCheckFlags.
  """
  if values.steps < 1:
    raise cli.UsageError(f"--steps must be >= 1, got {values.steps}")
  if values.warmup_steps < 0:
    raise cli.UsageError(f"--warmup_steps must be >= 0, got "
                         f"{values.warmup_steps}")
  try:
    config_lib.TrainConfig(batch_size=values.batch_size).validate()
  except config_lib.ConfigError as e:
    raise cli.UsageError(str(e)) from None
  variants = step_timing.VARIANTS
  if not values.variants or any(v not in variants for v in values.variants):
    raise cli.UsageError(f"--variants takes a comma list of "
                         f"{', '.join(variants)}; got "
                         f"{','.join(values.variants)!r}")
  if values.output:
    cli.check_output_file("output", values.output)


def variant_line(result):
  """One table line of a ``step_timing.time_variant`` result."""
  return (f"mixed_precision={str(result['mixed_precision']):14s} "
          f"jit_compile={str(result['jit_compile']):5s}  "
          f"{result['images_per_second']:9.0f} images/s  (no input: "
          f"{result['images_per_second_no_input']:9.0f})  input wait "
          f"{100 * result['input_wait_share']:5.1f}%")


def run(argv, flag_values):
  """Checks the flags, then times each variant.

  Args:
    argv: the program's remaining arguments (absl's argv).
    flag_values: the parsed absl FlagValues of scripts/gpu_check.py.

  Yields:
    str: the lines to print, each as soon as it is known; --output is
    written after the last.

  Raises:
    cli.UsageError: a bad flag value (before the first line).
  """
  values = cli.command_flags(GpuCheckFlags, argv, flag_values,
                             info_logging=False)
  check(values)
  gpus = tf.config.list_physical_devices("GPU")
  if not gpus and not values.allow_cpu:
    yield ("gpu_check: no GPU visible to TensorFlow; skipping "
           "(--allow_cpu runs the same code on the CPU)")
    return
  device = (tf.config.experimental.get_device_details(gpus[0]).get(
      "device_name", "GPU") if gpus else "CPU")
  yield (f"gpu_check on {device}, batch {values.batch_size}, "
         f"{values.steps} timed steps per variant")
  results = []
  for mixed, jit in (step_timing.VARIANTS[v] for v in values.variants):
    results.append(step_timing.time_variant(
        mixed, jit, values.steps, values.warmup_steps, values.batch_size))
    yield variant_line(results[-1])
  best = max(r["images_per_second"] for r in results)
  yield (f"best: {best:.0f} images/s (target on one H100-class GPU: "
         f"{step_timing.TARGET_IMAGES_PER_SECOND})")
  if values.output:
    io_utils.write_json_atomic(values.output, {
        "device": device, "batch_size": values.batch_size,
        "results": results})
