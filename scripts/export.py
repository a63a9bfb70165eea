r"""Exports a trained run as a SavedModel, or describes an export.

  python scripts/export.py --model_dir=runs/dsprites_beta8
  python scripts/export.py --model_dir=runs/x --export_dir=exported \
      --model_name=dsprites --version=1 --overwrite
  python scripts/export.py --describe=exported/dsprites_beta8/1
  python scripts/export.py --export_dir=exported --model_name=dsprites \
      --model_dir=reproduce_runs/study/jobs/<job_id>/run \
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

from absl import flags

from tf_betavae import cli

# Before the imports below load TensorFlow.
cli.import_tensorflow_quietly()

from tf_betavae import export_command as command  # pylint: disable=g-import-not-at-top,wrong-import-position

# One flag per ExportFlags field, with its default and help.
cli.define_config_flags(command.ExportFlags)

FLAGS = flags.FLAGS
PROGRAM = command.PROGRAM
_parse_flags = cli.flags_parser(PROGRAM)


def main(argv):
  # Reports its own usage errors: the tests also call main without cli.run.
  try:
    text = command.run(argv, FLAGS)
  except cli.UsageError as e:
    cli.usage_error(PROGRAM, str(e))
  print(text)


if __name__ == "__main__":
  cli.run(main, PROGRAM)
