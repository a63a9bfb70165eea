r"""Trains a small head on an exported encoder (transfer / linear probe).

  python scripts/transfer.py --saved_model=exported/dsprites/1 --factor=pos_x
  python scripts/transfer.py --saved_model=exported/dsprites/2 \
      --factor=shape --fine_tune --learning_rate=1e-3

Trains a softmax head on the export's latent means to predict one factor of
the dSprites simulator, the encoder fixed (TFSMLayer) or, with --fine_tune,
trained too; prints the mode, train and test accuracy beside chance.  Usage
errors exit with code 2.
"""

import math
import os

from absl import flags

from tf_betavae import cli

# Before the imports below load TensorFlow.
cli.import_tensorflow_quietly()

from tf_betavae import data  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf_betavae import io_utils  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf_betavae import transfer  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf_betavae.experiments import model_loading  # pylint: disable=g-import-not-at-top,wrong-import-position

PROGRAM = "transfer.py"

flags.DEFINE_string("saved_model", None, "SavedModel version directory.")
flags.DEFINE_string("factor", "pos_x", "Factor to predict: shape, scale, "
                    "orientation, pos_x or pos_y.")
flags.DEFINE_string("dataset", None, "Ground-truth dataset; default the one "
                    "the export was trained on, read from where its run read "
                    "it (dsprites when it records none).")
flags.DEFINE_integer("num_train", 5000, "Training examples.")
flags.DEFINE_integer("num_test", 2000, "Test examples.")
flags.DEFINE_integer("epochs", 20, "Epochs over the training examples.")
flags.DEFINE_integer("hidden_units", 0, "0: linear head; else one ReLU layer.")
flags.DEFINE_float("learning_rate", 1e-2, "Adam learning rate.")
flags.DEFINE_bool("fine_tune", False, "Train the encoder with the head.")
flags.DEFINE_integer("seed", 0, "Seed of the examples and the head.")
flags.DEFINE_string("output", None, "Optional JSON file for the result.")

FLAGS = flags.FLAGS

_parse_flags = cli.flags_parser(PROGRAM)


def _check_flags():
  """Raises cli.UsageError for a missing model or a value out of range."""
  if not FLAGS.saved_model:
    raise cli.UsageError("--saved_model is required")
  if not os.path.exists(os.path.join(FLAGS.saved_model, "saved_model.pb")):
    raise cli.UsageError(f"--saved_model {FLAGS.saved_model} is not a "
                         "SavedModel directory (no saved_model.pb)")
  for name in ("num_train", "num_test", "epochs"):
    if FLAGS[name].value <= 0:
      raise cli.UsageError(f"--{name} must be > 0, got {FLAGS[name].value}")
  if FLAGS.hidden_units < 0:
    raise cli.UsageError(f"--hidden_units must be >= 0, got "
                         f"{FLAGS.hidden_units}")
  if not (math.isfinite(FLAGS.learning_rate) and FLAGS.learning_rate > 0):
    raise cli.UsageError(f"--learning_rate must be > 0 and finite, got "
                         f"{FLAGS.learning_rate}")
  if not 0 <= FLAGS.seed < 2**32:
    raise cli.UsageError(f"--seed must lie in [0, 2**32), got {FLAGS.seed}")
  if FLAGS.output:
    cli.check_output_file("output", FLAGS.output)


def _train_probe():
  """Checks the flags and trains the head; returns train_probe's dict."""
  _check_flags()
  try:
    ground_truth = model_loading.model_data(
        FLAGS.saved_model, dataset=FLAGS.dataset).ground_truth()
  except (data.UnknownDatasetError, data.DatasetUnavailableError,
          model_loading.SelectionError) as e:
    raise cli.UsageError(str(e)) from None
  names = list(getattr(ground_truth, "factor_names", []))
  if names and FLAGS.factor not in names:
    raise cli.UsageError(f"--factor must be one of {', '.join(names)}, got "
                         f"{FLAGS.factor!r}")
  try:
    return transfer.train_probe(
        FLAGS.saved_model, ground_truth, FLAGS.factor,
        num_train=FLAGS.num_train, num_test=FLAGS.num_test,
        epochs=FLAGS.epochs, learning_rate=FLAGS.learning_rate,
        hidden_units=FLAGS.hidden_units, seed=FLAGS.seed,
        fine_tune=FLAGS.fine_tune)
  except (KeyError, ValueError, FileNotFoundError,
          data.DatasetUnavailableError) as e:
    # A KeyError's message comes quoted.
    raise cli.UsageError(str(e).strip("'\"")) from None


def main(argv):
  # Reports its own usage errors: the tests also call main without cli.run.
  if len(argv) > 1:
    cli.usage_error(PROGRAM, f"unexpected arguments {argv[1:]}")
  try:
    result = _train_probe()
  except cli.UsageError as e:
    cli.usage_error(PROGRAM, str(e))
  print(f"{'fine-tuned' if result['fine_tune'] else 'frozen'} encoder, factor "
        f"{result['factor']} ({result['num_classes']} classes): train accuracy "
        f"{result['train_accuracy']:.3f}, test accuracy "
        f"{result['test_accuracy']:.3f}, chance {result['chance']:.3f}")
  if FLAGS.output:
    io_utils.write_json_atomic(FLAGS.output, result)


if __name__ == "__main__":
  cli.run(main, PROGRAM)
