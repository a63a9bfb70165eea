r"""Exports a trained run as a SavedModel, or describes an export.

  python scripts/export.py --model_dir=runs/dsprites_beta8
  python scripts/export.py --model_dir=runs/x --export_dir=exported \
      --model_name=dsprites --version=1 --overwrite
  python scripts/export.py --describe=exported/dsprites_beta8/1

The export has the TF Serving layout <export_dir>/<model_name>/<version>
and the signatures serving_default, encode, decode and reconstruct (see
README.md).  Exporting into an existing version is refused unless
--overwrite (which swaps the new version in atomically on Linux); without
--version the next free version is chosen when the export is complete, so
two exports of one model name at once get two versions.  --describe prints the metadata stored in the export (and the
metric scores written beside it by scripts/evaluate.py, if any).

Usage errors exit with code 2 and a one-line message.
"""

import json

from absl import flags
from absl import logging

from tf_betavae import cli

# Before the imports below load TensorFlow.
cli.import_tensorflow_quietly()

from tf_betavae import export as export_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf_betavae import training  # pylint: disable=g-import-not-at-top,wrong-import-position

PROGRAM = "export.py"

flags.DEFINE_string("model_dir", None, "Training run to export (its latest "
                    "checkpoint).")
flags.DEFINE_string("export_dir", "exported", "Export root.")
flags.DEFINE_string("model_name", None, "Model name under --export_dir; "
                    "default from dataset and beta, e.g. dsprites_beta4.")
flags.DEFINE_integer("version", None, "Version number; default the next "
                     "free one.")
flags.DEFINE_boolean("overwrite", False, "Replace an existing version (in "
                     "one atomic exchange on Linux: a server never sees it "
                     "missing).")
flags.DEFINE_string("describe", None, "Print the metadata of this export "
                    "(a version directory, or a model folder: its latest "
                    "version) and exit.")

FLAGS = flags.FLAGS

_parse_flags = cli.flags_parser(PROGRAM)


def _export():
  """Prints the description or the version directory written."""
  if FLAGS.describe:
    try:
      description = export_lib.describe(FLAGS.describe)
    except FileNotFoundError as e:
      raise cli.UsageError(str(e)) from None
    print(json.dumps(description, indent=2, sort_keys=True))
    return
  if not FLAGS.model_dir:
    raise cli.UsageError("give --model_dir (a training run) or --describe "
                         "(an export)")
  if FLAGS.version is not None and FLAGS.version <= 0:
    raise cli.UsageError(
        f"--version must be a positive integer, got {FLAGS.version}")
  try:
    model, config = training.restore_model(FLAGS.model_dir)
    path = export_lib.export_trained(
        model, config, FLAGS.export_dir,
        training.settings_history(FLAGS.model_dir),
        model_name=FLAGS.model_name, version=FLAGS.version,
        overwrite=FLAGS.overwrite)
  except (FileNotFoundError, export_lib.ExportError) as e:
    raise cli.UsageError(str(e)) from None
  print(path)


def main(argv):
  # Reports its own usage errors: the tests also call main without cli.run.
  if len(argv) > 1:
    cli.usage_error(PROGRAM, f"unexpected arguments {argv[1:]}")
  logging.set_verbosity(logging.INFO)
  try:
    _export()
  except cli.UsageError as e:
    cli.usage_error(PROGRAM, str(e))


if __name__ == "__main__":
  cli.run(main, PROGRAM)
