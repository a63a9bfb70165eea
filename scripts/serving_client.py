r"""Sends images to a running TF Serving and prints the latent means.

  # serve first, e.g.:
  #   docker run -p 8501:8501 -p 8500:8500 \
  #     -v $PWD/exported/dsprites:/models/dsprites -e MODEL_NAME=dsprites \
  #     tensorflow/serving
  python scripts/serving_client.py --model_name=dsprites --num_images=4
  python scripts/serving_client.py --images=batch.npy --server=localhost:8501
  python scripts/serving_client.py --protocol=grpc --server=localhost:8500

Without --images, renders --num_images random dSprites simulator images.
Prints one line per image with its latent means.  Exit code 2 for usage
errors and 1 when the server cannot be reached or refuses the request.
"""

import math
import sys

from absl import flags
import numpy as np

from tf_betavae import cli

# Before the import below loads TensorFlow.
cli.import_tensorflow_quietly()

from tf_betavae import serving  # pylint: disable=g-import-not-at-top,wrong-import-position

PROGRAM = "serving_client.py"

flags.DEFINE_string("server", "localhost:8501", "host:port of TF Serving "
                    "(REST port 8501 by default; gRPC usually 8500).")
flags.DEFINE_string("model_name", "dsprites", "Model name TF Serving serves.")
flags.DEFINE_integer("version", None, "Model version; default the latest.")
flags.DEFINE_enum("protocol", "rest", ["rest", "grpc"], "Request protocol.")
flags.DEFINE_string("signature_name", "serving_default", "Signature to call.")
flags.DEFINE_string("output_key", "latent_mean", "Output to print.")
flags.DEFINE_string("images", None, "A .npy file of float32 images "
                    "[batch, H, W, C] in [0, 1].")
flags.DEFINE_integer("num_images", 4, "Simulator images to send when "
                     "--images is not given.")
flags.DEFINE_integer("seed", 0, "Seed of the simulator images.")
flags.DEFINE_float("timeout", 30.0, "Seconds to wait for the server.")

FLAGS = flags.FLAGS

_parse_flags = cli.flags_parser(PROGRAM)

# A request, not a dataset: simulator images rendered for one call.
_MAX_IMAGES = 10000


def _checked_images():
  """The images to send; exits 2 with one line for a bad flag value."""
  if not (math.isfinite(FLAGS.timeout) and FLAGS.timeout > 0):
    cli.usage_error(PROGRAM, f"--timeout must be a finite number of seconds "
                    f"> 0, got {FLAGS.timeout}")
  if FLAGS.version is not None and FLAGS.version < 1:
    cli.usage_error(PROGRAM, f"--version must be >= 1, got {FLAGS.version}")
  for name in ("server", "model_name", "signature_name", "output_key"):
    if not FLAGS[name].value.strip():
      cli.usage_error(PROGRAM, f"--{name} is blank")
  if not FLAGS.images:
    if FLAGS.num_images > _MAX_IMAGES:
      cli.usage_error(PROGRAM, f"--num_images must be <= {_MAX_IMAGES}, got "
                      f"{FLAGS.num_images}")
    if not 0 <= FLAGS.seed < 2**32:
      cli.usage_error(PROGRAM, f"--seed must lie in [0, 2**32), got "
                      f"{FLAGS.seed}")
  try:
    images = serving.request_images(FLAGS.images, FLAGS.num_images,
                                    FLAGS.seed)
  except ValueError as e:
    cli.usage_error(PROGRAM, str(e))
  # JSON has no NaN: a server would refuse the request after the upload.
  if not len(images) or not np.all(np.isfinite(images)):
    cli.usage_error(PROGRAM, f"--images {FLAGS.images} must hold at least one "
                    "image and only finite pixel values")
  return images


def main(argv):
  # Reports its own usage errors: the tests also call main without cli.run.
  if len(argv) > 1:
    cli.usage_error(PROGRAM, f"unexpected arguments {argv[1:]}")
  images = _checked_images()
  try:
    outputs = serving.predict(
        FLAGS.server, FLAGS.model_name, images, FLAGS.protocol,
        FLAGS.signature_name, version=FLAGS.version,
        output_key=FLAGS.output_key, timeout=FLAGS.timeout)
  except serving.ServingError as e:
    sys.stderr.write(f"{PROGRAM}: {e}\n")
    sys.exit(1)
  for index, row in enumerate(outputs):
    values = " ".join(f"{v:+.4f}" for v in row.reshape(-1))
    print(f"image {index}: {FLAGS.output_key} {values}")


if __name__ == "__main__":
  cli.run(main, PROGRAM)
