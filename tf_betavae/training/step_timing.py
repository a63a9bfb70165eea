"""Training speed of the default model, with and without its input pipeline.

``time_variant`` trains the default dSprites model (TrainConfig's defaults
at a given batch size) through the real input pipeline, then the same step
on one batch held on the device; the difference is the time the step waits
for input.  scripts/gpu_check.py reports it per variant (mixed precision,
XLA).
"""

import time

import tensorflow as tf

from tf_betavae.data import dsprites_simulator
from tf_betavae.training import build
from tf_betavae.training import config as config_lib
from tf_betavae.training import steps as steps_lib

# images/s the default model should reach on one H100-class GPU.
TARGET_IMAGES_PER_SECOND = 20000

# Variant name -> (mixed precision, jit_compile).
VARIANTS = {"plain": (False, False), "mixed": (True, False),
            "xla": (False, True), "mixed_xla": (True, True)}


def time_variant(mixed_precision, jit_compile, steps, warmup, batch_size):
  """Speed of one variant with the input pipeline and with one resident batch.

  Args:
    mixed_precision: bool; float16 on a GPU, bfloat16 otherwise.
    jit_compile: bool, XLA-compile the training step.
    steps: int >= 1, timed steps of each measurement.
    warmup: int >= 0, untimed steps (tracing) before each.
    batch_size: int, images per step.

  Returns:
    dict: ``mixed_precision`` (the policy name, or False), ``jit_compile``,
    ``images_per_second`` (with the input pipeline),
    ``images_per_second_no_input`` (one batch held on the device) and
    ``input_wait_share`` (1 - step time without input / with it, in
    [0, 1]).
  """
  on_gpu = bool(tf.config.list_physical_devices("GPU"))
  policy = "mixed_float16" if on_gpu else "mixed_bfloat16"
  config = config_lib.TrainConfig(
      batch_size=batch_size,
      mixed_precision=policy if mixed_precision else False,
      jit_compile=jit_compile)
  model = build.build_compiled_model(config)
  runner = steps_lib.StepRunner(model, tf.distribute.get_strategy(),
                                jit_compile)
  dataset = dsprites_simulator.training_dataset(batch_size, seed=0)

  def timed(iterator):
    """Seconds per step over ``steps`` steps after ``warmup`` untimed."""
    runner.run(iterator, tf.constant(warmup, tf.int64))
    float(model.loss_tracker.result())  # wait for the device
    start = time.perf_counter()
    runner.run(iterator, tf.constant(steps, tf.int64))
    float(model.loss_tracker.result())
    return (time.perf_counter() - start) / steps

  with_input = timed(iter(dataset))
  resident = next(iter(dataset))
  without_input = timed(iter(tf.data.Dataset.from_tensors(resident).repeat()))
  return {
      "mixed_precision": config.mixed_precision or False,
      "jit_compile": jit_compile,
      "images_per_second": batch_size / with_input,
      "images_per_second_no_input": batch_size / without_input,
      "input_wait_share": max(0.0, 1.0 - without_input / with_input),
  }
