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

import math

from absl import flags
from absl import logging

from tf_betavae import cli

# Before the import below loads TensorFlow.
cli.import_tensorflow_quietly()

from tf_betavae.visualize import picture_files as pictures  # pylint: disable=g-import-not-at-top,wrong-import-position

PROGRAM = "traverse.py"

flags.DEFINE_string("model_dir", None, "A training run directory.")
flags.DEFINE_string("export", None,
                    "A SavedModel export (version dir or model folder).")
flags.DEFINE_string("output_dir", None,
                    "Where the pictures go; default <model_dir>/pictures or "
                    "a 'pictures' folder beside the export's versions.")
flags.DEFINE_string("dataset", None,
                    "Dataset the input images come from; default the one the "
                    "model was trained on (dsprites when unknown).")
flags.DEFINE_integer("num_images", 64,
                     "Images sampled to measure KL per latent and to show.")
flags.DEFINE_integer("seed", 0, "Seed of the sampled images.")
flags.DEFINE_integer("index", 0, "Which sampled image the PNG traverses.")
flags.DEFINE_integer("num_steps", 10, "Columns of the traversal grid.")
flags.DEFINE_float("limit", 3.0, "The sweep spans -limit..+limit.")
flags.DEFINE_boolean("absolute", False,
                     "Set the latent to the sweep value instead of adding it "
                     "to the input's posterior mean.")
flags.DEFINE_integer("max_latents", None,
                     "Show only this many latents (most informative first).")
flags.DEFINE_integer("gif_inputs", 3, "Inputs animated in traversal.gif.")
flags.DEFINE_integer("gif_frames", 20,
                     "Frames of each half of the GIF's back-and-forth sweep.")
flags.DEFINE_boolean("factor_response", True,
                     "Also plot factor_response.png when the dataset has a "
                     "ground-truth simulator.")
flags.DEFINE_string("data_dir", None, "Where real datasets live.")
flags.DEFINE_integer("samples_per_value", 16,
                     "Images per factor value of the factor-response plot.")

FLAGS = flags.FLAGS

_parse_flags = cli.flags_parser(PROGRAM)

# The sampled images are held in memory at once (64 x 64 x 3 floats each).
_MAX_IMAGES = 100000


def _check_flags():
  """Raises cli.UsageError for a flag value out of range."""
  if bool(FLAGS.model_dir) == bool(FLAGS.export):
    raise cli.UsageError("give exactly one of --model_dir DIR or --export DIR")
  for name, low in (("num_images", 1), ("num_steps", 2), ("gif_inputs", 1),
                    ("gif_frames", 2), ("samples_per_value", 1)):
    if getattr(FLAGS, name) < low:
      raise cli.UsageError(f"--{name} must be >= {low}, got "
                           f"{getattr(FLAGS, name)}")
  if not (math.isfinite(FLAGS.limit) and FLAGS.limit > 0):
    raise cli.UsageError(f"--limit must be > 0 and finite, got "
                         f"{FLAGS.limit}")
  if FLAGS.num_images > _MAX_IMAGES:
    raise cli.UsageError(f"--num_images must be <= {_MAX_IMAGES}, got "
                         f"{FLAGS.num_images}")
  if not 0 <= FLAGS.seed < 2**32:
    raise cli.UsageError(f"--seed must lie in [0, 2**32), got {FLAGS.seed}")
  if FLAGS.max_latents is not None and FLAGS.max_latents < 1:
    raise cli.UsageError(
        f"--max_latents must be >= 1, got {FLAGS.max_latents}")
  if not 0 <= FLAGS.index < FLAGS.num_images:
    raise cli.UsageError(f"--index must lie in [0, --num_images="
                         f"{FLAGS.num_images}), got {FLAGS.index}")


def _write_pictures():
  """Checks the flags and writes the pictures; returns {name: path}."""
  _check_flags()
  try:
    return pictures.write_pictures(
        model_dir=FLAGS.model_dir, export=FLAGS.export,
        output_dir=FLAGS.output_dir, dataset=FLAGS.dataset,
        num_images=FLAGS.num_images, seed=FLAGS.seed, data_dir=FLAGS.data_dir,
        factor_response=FLAGS.factor_response, gif_inputs=FLAGS.gif_inputs,
        gif_frames=FLAGS.gif_frames,
        samples_per_value=FLAGS.samples_per_value, index=FLAGS.index,
        num_steps=FLAGS.num_steps, limit=FLAGS.limit,
        absolute=FLAGS.absolute, max_latents=FLAGS.max_latents)
  except pictures.PicturesError as e:
    raise cli.UsageError(str(e)) from None


def main(argv):
  # Reports its own usage errors: the tests also call main without cli.run.
  if len(argv) > 1:
    cli.usage_error(PROGRAM, f"unexpected arguments {argv[1:]}; flags take "
                    "the form --name=value")
  logging.set_verbosity(logging.INFO)
  try:
    paths = _write_pictures()
  except cli.UsageError as e:
    cli.usage_error(PROGRAM, str(e))
  for name, path in paths.items():
    print(f"{name}: {path}")


if __name__ == "__main__":
  cli.run(main, PROGRAM)
