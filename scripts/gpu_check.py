r"""GPU check: training speed of the default model with and without mixed
precision and XLA, and the share of step time spent waiting for input.

  python scripts/gpu_check.py
  python scripts/gpu_check.py --allow_cpu --steps=5 --warmup_steps=2   # code-path check
  python scripts/gpu_check.py --variants=plain,mixed_xla   # two of the four

Without a GPU it prints a line saying so and exits 0 (unless --allow_cpu).
For each variant of --variants (plain, mixed = --mixed_precision, xla =
--jit_compile, mixed_xla = both; all four by default) it trains
the default dSprites conv model (batch --batch_size) through the real input
pipeline and prints images/s, then the same step on one batch held on the
device (no input pipeline): input wait share = 1 − (time per step without
input) / (time per step with it).  The last line compares the best speed
with TARGET_IMAGES_PER_SECOND, the goal for one H100-class GPU.
"""

import time

from absl import flags

from tf_betavae import cli

# Before the imports below load TensorFlow.
cli.import_tensorflow_quietly()

import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position,wrong-import-order

from tf_betavae import io_utils  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf_betavae import training  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf_betavae.data import dsprites_simulator  # pylint: disable=g-import-not-at-top,wrong-import-position

flags.DEFINE_integer("steps", 300, "Timed steps per variant.")
flags.DEFINE_integer("warmup_steps", 50, "Untimed steps (tracing) first.")
flags.DEFINE_integer("batch_size", 256, "Global batch size.")
flags.DEFINE_boolean("allow_cpu", False, "Run even without a GPU (to check "
                     "the code path; numbers are then CPU numbers).")
flags.DEFINE_string("output", None, "Optional JSON file for the numbers.")
flags.DEFINE_list("variants", "plain,mixed,xla,mixed_xla",
                  "Variants to time, in this order: plain, mixed (mixed "
                  "precision), xla (jit_compile), mixed_xla (both).")

FLAGS = flags.FLAGS
PROGRAM = "gpu_check.py"
_parse_flags = cli.flags_parser(PROGRAM)

# images/s the default model should reach on one H100-class GPU.
TARGET_IMAGES_PER_SECOND = 20000

# Variant name -> (mixed precision, jit_compile).
VARIANTS = {"plain": (False, False), "mixed": (True, False),
            "xla": (False, True), "mixed_xla": (True, True)}


def _time_variant(mixed_precision, jit_compile, steps, warmup, batch_size):
  """images/s with the input pipeline and with one resident batch."""
  on_gpu = bool(tf.config.list_physical_devices("GPU"))
  policy = "mixed_float16" if on_gpu else "mixed_bfloat16"
  config = training.TrainConfig(
      batch_size=batch_size,
      mixed_precision=policy if mixed_precision else False,
      jit_compile=jit_compile)
  model = training.build_compiled_model(config)
  runner = training.StepRunner(model, tf.distribute.get_strategy(),
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


def _check_flags():
  """Usage errors (exit 2, one line) before any model is built: a bad
  value would otherwise fail only after the first variant's minutes."""
  if FLAGS.steps < 1:
    cli.usage_error(PROGRAM, f"--steps must be >= 1, got {FLAGS.steps}")
  if FLAGS.warmup_steps < 0:
    cli.usage_error(PROGRAM, f"--warmup_steps must be >= 0, got "
                    f"{FLAGS.warmup_steps}")
  try:
    training.TrainConfig(batch_size=FLAGS.batch_size).validate()
  except training.ConfigError as e:
    cli.usage_error(PROGRAM, str(e))
  if not FLAGS.variants or any(v not in VARIANTS for v in FLAGS.variants):
    cli.usage_error(PROGRAM, f"--variants takes a comma list of "
                    f"{', '.join(VARIANTS)}; got {','.join(FLAGS.variants)!r}")
  if FLAGS.output:
    try:
      cli.check_output_file("output", FLAGS.output)
    except cli.UsageError as e:
      cli.usage_error(PROGRAM, str(e))


def main(argv):
  if len(argv) > 1:
    cli.usage_error(PROGRAM, f"unexpected arguments {argv[1:]}; flags take "
                    "the form --name=value")
  _check_flags()
  gpus = tf.config.list_physical_devices("GPU")
  if not gpus and not FLAGS.allow_cpu:
    print("gpu_check: no GPU visible to TensorFlow; skipping "
          "(--allow_cpu runs the same code on the CPU)")
    return
  device = (tf.config.experimental.get_device_details(gpus[0]).get(
      "device_name", "GPU") if gpus else "CPU")
  print(f"gpu_check on {device}, batch {FLAGS.batch_size}, "
        f"{FLAGS.steps} timed steps per variant")
  results = []
  for mixed, jit in (VARIANTS[v] for v in FLAGS.variants):
    result = _time_variant(mixed, jit, FLAGS.steps, FLAGS.warmup_steps,
                           FLAGS.batch_size)
    results.append(result)
    print(f"mixed_precision={str(result['mixed_precision']):14s} "
          f"jit_compile={str(jit):5s}  {result['images_per_second']:9.0f} "
          f"images/s  (no input: {result['images_per_second_no_input']:9.0f})"
          f"  input wait {100 * result['input_wait_share']:5.1f}%")
  best = max(r["images_per_second"] for r in results)
  print(f"best: {best:.0f} images/s (target on one H100-class GPU: "
        f"{TARGET_IMAGES_PER_SECOND})")
  if FLAGS.output:
    io_utils.write_json_atomic(FLAGS.output, {
        "device": device, "batch_size": FLAGS.batch_size,
        "results": results})


if __name__ == "__main__":
  cli.run(main, PROGRAM)
