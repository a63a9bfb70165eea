r"""Pictures of a trained β-VAE: traversals, reconstructions, KL, factors.

  python scripts/traverse.py --model_dir runs/dsprites_beta8
  python scripts/traverse.py --export exported/dsprites_beta8 --output_dir pics
  python scripts/traverse.py --model_dir runs/b4 --index 5 --limit 2.5

Works from a training run (its latest checkpoint) or from a SavedModel
export (a version directory or a model folder, whose highest version is
used).  Writes traversal.png (one row per latent, most informative first,
KL in nats on the row), traversal.gif (the same sweep animated for a few
inputs), reconstructions.png, kl_per_latent.png and, on datasets with a
ground-truth simulator (dSprites), factor_response.png.  Output goes to
--output_dir, by default <model_dir>/pictures or <export>/../pictures.

Usage errors exit with code 2 and a one-line message.
"""

from absl import flags

from tf_betavae import cli

# Before the import below loads TensorFlow.
cli.import_tensorflow_quietly()

from tf_betavae.visualize import traverse_command as command  # pylint: disable=g-import-not-at-top,wrong-import-position

# One flag per TraverseFlags field, with its default and help.
cli.define_config_flags(command.TraverseFlags)

FLAGS = flags.FLAGS
PROGRAM = command.PROGRAM
_parse_flags = cli.flags_parser(PROGRAM)


def main(argv):
  # Reports its own usage errors: the tests also call main without cli.run.
  try:
    lines = command.run(argv, FLAGS)
  except cli.UsageError as e:
    cli.usage_error(PROGRAM, str(e))
  for line in lines:
    print(line)


if __name__ == "__main__":
  cli.run(main, PROGRAM)
