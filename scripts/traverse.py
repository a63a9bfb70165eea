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

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import flags
from absl import logging

# scripts/_cli.py: the usage-error convention shared by these programs.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _cli  # pylint: disable=g-import-not-at-top,wrong-import-position

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

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


class UsageError(Exception):
  """Reported as one line, exit code 2."""


def _fail(message):
  _cli.usage_error("traverse.py", message)


_parse_flags = _cli.flags_parser("traverse.py")


def _check_flags():
  if bool(FLAGS.model_dir) == bool(FLAGS.export):
    raise UsageError("give exactly one of --model_dir DIR or --export DIR")
  for name, low in (("num_images", 1), ("num_steps", 2), ("gif_inputs", 1),
                    ("gif_frames", 2), ("samples_per_value", 1)):
    if getattr(FLAGS, name) < low:
      raise UsageError(f"--{name} must be >= {low}, got "
                       f"{getattr(FLAGS, name)}")
  if not FLAGS.limit > 0:
    raise UsageError(f"--limit must be > 0, got {FLAGS.limit}")
  if FLAGS.max_latents is not None and FLAGS.max_latents < 1:
    raise UsageError(f"--max_latents must be >= 1, got {FLAGS.max_latents}")
  if not 0 <= FLAGS.index < FLAGS.num_images:
    raise UsageError(f"--index must lie in [0, --num_images={FLAGS.num_images})"
                     f", got {FLAGS.index}")


def _check_paths():
  """Cheap checks before TensorFlow is imported."""
  if FLAGS.model_dir:
    if not os.path.isdir(FLAGS.model_dir):
      raise UsageError(f"--model_dir {FLAGS.model_dir} does not exist")
    if not os.path.exists(os.path.join(FLAGS.model_dir, "run_config.json")):
      raise UsageError(f"{FLAGS.model_dir} holds no training run "
                       "(run_config.json is missing)")
  elif not os.path.exists(FLAGS.export):
    raise UsageError(f"--export {FLAGS.export} does not exist")


def _load_source():
  from tf_betavae.visualize import sources  # pylint: disable=g-import-not-at-top
  if FLAGS.model_dir:
    try:
      source = sources.from_model_dir(FLAGS.model_dir)
    except FileNotFoundError as e:
      raise UsageError(str(e)) from None
    default_out = os.path.join(FLAGS.model_dir, "pictures")
  else:
    try:
      source = sources.from_export(FLAGS.export)
    except (FileNotFoundError, ValueError, OSError) as e:
      raise UsageError(str(e).splitlines()[0]) from None
    default_out = os.path.join(
        os.path.dirname(os.path.normpath(source.path)), "pictures")
  return source, FLAGS.output_dir or default_out


def run():
  """Writes the pictures; returns {name: path}.  Raises UsageError."""
  _check_flags()
  _check_paths()
  from tf_betavae import data as data_lib  # pylint: disable=g-import-not-at-top
  from tf_betavae.visualize import summaries  # pylint: disable=g-import-not-at-top
  source, output_dir = _load_source()
  dataset = FLAGS.dataset or source.dataset or "dsprites"
  if not data_lib.is_known(dataset):
    raise UsageError(f"unknown --dataset {dataset!r}; valid names: "
                     f"{', '.join(data_lib.DATASETS)}")
  try:
    shape = tuple(data_lib.image_shape(dataset))
    images = summaries.sample_images(dataset, FLAGS.num_images, FLAGS.seed,
                                     data_dir=FLAGS.data_dir)
  except data_lib.DatasetUnavailableError as e:
    raise UsageError(str(e)) from None
  if shape != tuple(source.image_shape):
    raise UsageError(f"the model takes images of shape "
                     f"{list(source.image_shape)}, dataset {dataset!r} has "
                     f"{list(shape)}")
  ground_truth = (summaries.ground_truth_or_none(dataset, FLAGS.data_dir)
                  if FLAGS.factor_response else None)
  logging.info("drawing %s on %d %s images into %s", source.description,
               FLAGS.num_images, dataset, output_dir)
  return summaries.write_image_files(
      output_dir, source.encode_fn, source.decode_fn, images,
      ground_truth=ground_truth, gif_inputs=FLAGS.gif_inputs,
      gif_frames=FLAGS.gif_frames, samples_per_value=FLAGS.samples_per_value,
      index=FLAGS.index, num_steps=FLAGS.num_steps, limit=FLAGS.limit,
      absolute=FLAGS.absolute, max_latents=FLAGS.max_latents)


def main(argv):
  if len(argv) > 1:
    _fail(f"unexpected arguments {argv[1:]}; flags take the form "
          "--name=value")
  logging.set_verbosity(logging.INFO)
  try:
    paths = run()
  except UsageError as e:
    _fail(str(e))
  for name, path in paths.items():
    print(f"{name}: {path}")


if __name__ == "__main__":
  app.run(main, flags_parser=_parse_flags)
