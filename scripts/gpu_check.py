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

from absl import flags

from tf_betavae import cli

# Before the import below loads TensorFlow.
cli.import_tensorflow_quietly()

from tf_betavae.training import gpu_check_command as command  # pylint: disable=g-import-not-at-top,wrong-import-position

# One flag per GpuCheckFlags field, with its default and help.
cli.define_config_flags(command.GpuCheckFlags)

FLAGS = flags.FLAGS
PROGRAM = command.PROGRAM
_parse_flags = cli.flags_parser(PROGRAM)


def main(argv):
  try:
    for line in command.run(argv, FLAGS):
      print(line)
  except cli.UsageError as e:
    cli.usage_error(PROGRAM, str(e))


if __name__ == "__main__":
  cli.run(main, PROGRAM)
