r"""Trains a small head on a frozen exported encoder (transfer / linear probe).

  python scripts/transfer.py --saved_model=exported/dsprites/1 --factor=pos_x
  python scripts/transfer.py --saved_model=exported/dsprites_beta8/1 \
      --factor=shape --hidden_units=64 --num_train=20000

Loads the SavedModel's serving_default signature as a frozen Keras layer
(keras.layers.TFSMLayer), puts a softmax head on its latent means, trains the
head to predict one ground-truth factor of the dSprites simulator, and prints
train and test accuracy beside chance.  Usage errors exit with code 2.
"""

import json
import os
import sys

from absl import app
from absl import flags

# scripts/_cli.py: the usage-error convention shared by these programs.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _cli  # pylint: disable=g-import-not-at-top,wrong-import-position

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

flags.DEFINE_string("saved_model", None, "SavedModel version directory.")
flags.DEFINE_string("factor", "pos_x", "Factor to predict: shape, scale, "
                    "orientation, pos_x or pos_y.")
flags.DEFINE_string("dataset", "dsprites", "Ground-truth dataset.")
flags.DEFINE_integer("num_train", 5000, "Training examples.")
flags.DEFINE_integer("num_test", 2000, "Test examples.")
flags.DEFINE_integer("epochs", 20, "Epochs over the training examples.")
flags.DEFINE_integer("hidden_units", 0, "0: linear head; else one ReLU layer.")
flags.DEFINE_float("learning_rate", 1e-2, "Adam learning rate of the head.")
flags.DEFINE_integer("seed", 0, "Seed of the examples and the head.")
flags.DEFINE_string("output", None, "Optional JSON file for the result.")

FLAGS = flags.FLAGS


def _usage_error(message):
  _cli.usage_error("transfer.py", message)


_parse_flags = _cli.flags_parser("transfer.py")


def main(argv):
  if len(argv) > 1:
    _usage_error(f"unexpected arguments {argv[1:]}")
  if not FLAGS.saved_model:
    _usage_error("--saved_model is required")
  if not os.path.exists(os.path.join(FLAGS.saved_model, "saved_model.pb")):
    _usage_error(f"--saved_model {FLAGS.saved_model} is not a SavedModel "
                 "directory (no saved_model.pb)")
  for name in ("num_train", "num_test", "epochs"):
    if FLAGS[name].value <= 0:
      _usage_error(f"--{name} must be > 0, got {FLAGS[name].value}")
  from tf_betavae import data  # pylint: disable=g-import-not-at-top
  from tf_betavae import transfer  # pylint: disable=g-import-not-at-top
  try:
    ground_truth = data.ground_truth(FLAGS.dataset)
    result = transfer.train_probe(
        FLAGS.saved_model, ground_truth, FLAGS.factor,
        num_train=FLAGS.num_train, num_test=FLAGS.num_test,
        epochs=FLAGS.epochs, learning_rate=FLAGS.learning_rate,
        hidden_units=FLAGS.hidden_units, seed=FLAGS.seed)
  except (KeyError, ValueError, data.DatasetUnavailableError) as e:
    _usage_error(str(e).strip("'\""))
  print(f"factor {result['factor']} ({result['num_classes']} classes): "
        f"train accuracy {result['train_accuracy']:.3f}, test accuracy "
        f"{result['test_accuracy']:.3f}, chance {result['chance']:.3f}")
  if FLAGS.output:
    with open(FLAGS.output, "w") as f:
      json.dump(result, f, indent=2)


if __name__ == "__main__":
  app.run(main, flags_parser=_parse_flags)
