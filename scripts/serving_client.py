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

import os
import sys

from absl import app
from absl import flags

# scripts/_cli.py: the usage-error convention shared by these programs.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _cli  # pylint: disable=g-import-not-at-top,wrong-import-position

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tf_betavae import serving  # pylint: disable=wrong-import-position

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


def _usage_error(message):
  _cli.usage_error("serving_client.py", message)


_parse_flags = _cli.flags_parser("serving_client.py")


def _load_images():
  import numpy as np  # pylint: disable=g-import-not-at-top
  if FLAGS.images:
    try:
      images = np.load(FLAGS.images)
    except (OSError, ValueError) as e:
      _usage_error(f"cannot read --images {FLAGS.images}: {e}")
    if images.ndim != 4:
      _usage_error(f"--images must hold [batch, H, W, C], got shape "
                   f"{images.shape}")
    return images.astype(np.float32)
  if FLAGS.num_images <= 0:
    _usage_error(f"--num_images must be > 0, got {FLAGS.num_images}")
  from tf_betavae import data  # pylint: disable=g-import-not-at-top
  simulator = data.ground_truth("dsprites")
  rng = np.random.RandomState(FLAGS.seed)
  return simulator.sample_observations_from_factors(
      simulator.sample_factors(FLAGS.num_images, rng))


def main(argv):
  if len(argv) > 1:
    _usage_error(f"unexpected arguments {argv[1:]}")
  images = _load_images()
  try:
    if FLAGS.protocol == "rest":
      outputs = serving.predict_rest(
          FLAGS.server, FLAGS.model_name, images, FLAGS.signature_name,
          version=FLAGS.version, output_key=FLAGS.output_key,
          timeout=FLAGS.timeout)
    else:
      outputs = serving.predict_grpc(
          FLAGS.server, FLAGS.model_name, images, FLAGS.signature_name,
          output_key=FLAGS.output_key, version=FLAGS.version,
          timeout=FLAGS.timeout)
  except serving.ServingError as e:
    sys.stderr.write(f"serving_client.py: {e}\n")
    sys.exit(1)
  for index, row in enumerate(outputs):
    values = " ".join(f"{v:+.4f}" for v in row.reshape(-1))
    print(f"image {index}: {FLAGS.output_key} {values}")


if __name__ == "__main__":
  app.run(main, flags_parser=_parse_flags)
