r"""Exports a trained run as a SavedModel, or describes an export.

  python scripts/export.py --model_dir=runs/dsprites_beta8
  python scripts/export.py --model_dir=runs/x --export_dir=exported \
      --model_name=dsprites --version=1 --overwrite
  python scripts/export.py --describe=exported/dsprites_beta8/1
  python scripts/export.py --export_dir=exported --model_name=dsprites \
      --model_dir=reproduce_runs/runs/<recipe>/seed<s> \
      --selection_results=docs/results.json --selection_model=factor_vae

The export has the TF Serving layout <export_dir>/<model_name>/<version>
and the signatures serving_default, encode, decode and reconstruct (see
README.md).  Exporting into an existing version is refused unless
--overwrite (which swaps the new version in atomically on Linux); without
--version the next free version is chosen when the export is complete, so
two exports of one model name at once get two versions.  --describe prints the metadata stored in the export (and the
metric scores written beside it by scripts/evaluate.py, if any).

--selection_results (the JSON of scripts/reproduce.py, with a UDR over the
seeds of --selection_model) stores how the run was chosen in the export's
metadata, as ``selection``: the seed UDR picked and its UDR, every seed's
UDR and scores, their spread and the pick's full-size scores and checks.
The run must be the seed UDR picked.

Usage errors exit with code 2 and a one-line message.
"""

import json

from absl import flags
from absl import logging

from tf_betavae import cli

# Before the imports below load TensorFlow.
cli.import_tensorflow_quietly()

from tf_betavae import export as export_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf_betavae import io_utils  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf_betavae import training  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf_betavae.experiments import shipping  # pylint: disable=g-import-not-at-top,wrong-import-position

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
flags.DEFINE_string("selection_results", None, "JSON written by "
                    "scripts/reproduce.py whose UDR picked --model_dir; how "
                    "it was chosen goes into the export's metadata.")
flags.DEFINE_string("selection_model", "beta_vae", "The trained model of "
                    "--selection_results the run belongs to: beta_vae or a "
                    "method of its --methods (e.g. factor_vae).")

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
  extra = {}
  if FLAGS.selection_results:
    extra["selection"] = _selection_record()
  elif FLAGS["selection_model"].present:
    raise cli.UsageError("--selection_model needs --selection_results")
  try:
    model, config = training.restore_model(FLAGS.model_dir)
    path = export_lib.export_trained(
        model, config, FLAGS.export_dir,
        training.settings_history(FLAGS.model_dir),
        model_name=FLAGS.model_name, version=FLAGS.version,
        overwrite=FLAGS.overwrite, extra_metadata=extra)
  except (FileNotFoundError, export_lib.ExportError) as e:
    raise cli.UsageError(str(e)) from None
  print(path)


def _selection_record():
  """The ``selection`` metadata of --selection_results for --model_dir."""
  try:
    results = io_utils.read_json(FLAGS.selection_results)
  except FileNotFoundError:
    raise cli.UsageError(f"--selection_results {FLAGS.selection_results} "
                         "does not exist") from None
  except ValueError as e:
    raise cli.UsageError(f"--selection_results {FLAGS.selection_results} "
                         f"is not JSON: {e}") from None
  if not isinstance(results, dict) or "models" not in results:
    raise cli.UsageError(f"--selection_results {FLAGS.selection_results} is "
                         "not the JSON of scripts/reproduce.py (no models)")
  try:
    return shipping.selection_record(results, FLAGS.selection_model,
                                     FLAGS.model_dir)
  except shipping.SelectionRecordError as e:
    raise cli.UsageError(f"--selection_results: {e}") from None


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
