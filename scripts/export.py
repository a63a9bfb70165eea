r"""Exports a trained run as a SavedModel, or describes an export.

  python scripts/export.py --model_dir=runs/dsprites_beta8
  python scripts/export.py --model_dir=runs/x --export_dir=exported \
      --model_name=dsprites --version=1 --overwrite
  python scripts/export.py --describe=exported/dsprites_beta8/1

The export has the TF Serving layout <export_dir>/<model_name>/<version>
and the signatures serving_default, encode, decode and reconstruct (see
README.md).  Exporting into an existing version is refused unless
--overwrite.  --describe prints the metadata stored in the export (and the
metric scores written beside it by scripts/evaluate.py, if any).

Usage errors exit with code 2 and a one-line message.
"""

import json
import os
import sys

from absl import app
from absl import flags
from absl import logging

# scripts/_cli.py: the usage-error convention shared by these programs.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _cli  # pylint: disable=g-import-not-at-top,wrong-import-position

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tf_betavae import export as export_lib  # pylint: disable=wrong-import-position

flags.DEFINE_string("model_dir", None, "Training run to export (its latest "
                    "checkpoint).")
flags.DEFINE_string("export_dir", "exported", "Export root.")
flags.DEFINE_string("model_name", None, "Model name under --export_dir; "
                    "default from dataset and beta, e.g. dsprites_beta4.")
flags.DEFINE_integer("version", None, "Version number; default the next "
                     "free one.")
flags.DEFINE_boolean("overwrite", False, "Replace an existing version.")
flags.DEFINE_string("describe", None, "Print the metadata of this export "
                    "(a version directory, or a model folder: its latest "
                    "version) and exit.")

FLAGS = flags.FLAGS


def _usage_error(message):
  _cli.usage_error("export.py", message)


_parse_flags = _cli.flags_parser("export.py")


def describe(path):
  """Metadata of an export plus metrics.json beside it, as a dict."""
  version_dir = export_lib.latest_version_dir(path)
  description = {"path": version_dir,
                 "metadata": export_lib.read_metadata(version_dir)}
  metrics_path = os.path.join(version_dir, "metrics.json")
  if os.path.exists(metrics_path):
    with open(metrics_path) as f:
      description["metrics"] = json.load(f)
  return description


def main(argv):
  if len(argv) > 1:
    _usage_error(f"unexpected arguments {argv[1:]}")
  logging.set_verbosity(logging.INFO)
  if FLAGS.describe:
    try:
      description = describe(FLAGS.describe)
    except FileNotFoundError as e:
      _usage_error(str(e))
    print(json.dumps(description, indent=2, sort_keys=True))
    return
  if not FLAGS.model_dir:
    _usage_error("give --model_dir (a training run) or --describe (an "
                 "export)")
  if FLAGS.version is not None and FLAGS.version <= 0:
    _usage_error(f"--version must be a positive integer, got {FLAGS.version}")
  from tf_betavae import training  # pylint: disable=g-import-not-at-top
  try:
    model, config = training.restore_model(FLAGS.model_dir)
  except FileNotFoundError as e:
    _usage_error(str(e))
  step = int(model.optimizer.iterations.numpy())
  try:
    path = export_lib.export_model(
        model, FLAGS.export_dir, model_name=FLAGS.model_name,
        version=FLAGS.version, overwrite=FLAGS.overwrite,
        metadata=export_lib.training_metadata(
            config, step, training.settings_history(FLAGS.model_dir)))
  except export_lib.ExportError as e:
    _usage_error(str(e))
  print(path)


if __name__ == "__main__":
  app.run(main, flags_parser=_parse_flags)
