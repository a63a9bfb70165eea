"""The export program (scripts/export.py) behind its flags.

scripts/export.py defines one flag per field of ``ExportFlags``
(``tf_betavae.cli.define_config_flags``) and calls ``run``, which exports
a training run (``export.export_trained``) or describes an export
(``export.describe``) and returns the text the program prints.  Usage
errors raise ``cli.UsageError`` (the program exits 2 with one line).
"""

import dataclasses
import json


from tf_betavae import cli
from tf_betavae import export as export_lib
from tf_betavae import io_utils
from tf_betavae import training
from tf_betavae.experiments import shipping

PROGRAM = "export.py"


_flag = cli.flag_field


@dataclasses.dataclass
class ExportFlags:
  """The program's settings; each field is a flag of its name."""

  model_dir: str = _flag(None, "Training run to export (its latest "
                         "checkpoint).", kind="string")
  export_dir: str = _flag("exported", "Export root.")
  model_name: str = _flag(
      None, "Model name under --export_dir; default from dataset and beta, "
      "e.g. dsprites_beta4.", kind="string")
  version: int = _flag(None, "Version number; default the next free one.",
                       kind="integer")
  overwrite: bool = _flag(
      False, "Replace an existing version (in one atomic exchange on Linux: "
      "a server never sees it missing).")
  describe: str = _flag(
      None, "Print the metadata of this export (a version directory, or a "
      "model folder: its latest version) and exit.", kind="string")
  selection_results: str = _flag(
      None, "JSON written by scripts/reproduce.py whose UDR picked "
      "--model_dir; how it was chosen goes into the export's metadata.",
      kind="string")
  selection_model: str = _flag(
      "beta_vae", "The trained model of --selection_results the run "
      "belongs to: beta_vae or a method of its --methods (e.g. "
      "factor_vae).")


def selection_record(results_path, selection_model, model_dir):
  """The ``selection`` metadata of a reproduction's JSON for a run.

  Args:
    results_path: str, the JSON written by scripts/reproduce.py.
    selection_model: str, the trained model of that JSON the run belongs
      to (beta_vae or a method of its --methods).
    model_dir: str, the training run; it must be the seed UDR picked.

  Returns:
    dict, see ``experiments.shipping.selection_record``.

  Raises:
    cli.UsageError: the file is missing, not JSON, not a reproduction's, or
      does not pick this run.
  """
  try:
    results = io_utils.read_json(results_path)
  except FileNotFoundError:
    raise cli.UsageError(f"--selection_results {results_path} does not "
                         "exist") from None
  except ValueError as e:
    raise cli.UsageError(f"--selection_results {results_path} is not JSON: "
                         f"{e}") from None
  if not isinstance(results, dict) or "models" not in results:
    raise cli.UsageError(f"--selection_results {results_path} is not the "
                         "JSON of scripts/reproduce.py (no models)")
  try:
    return shipping.selection_record(results, selection_model, model_dir)
  except shipping.SelectionRecordError as e:
    raise cli.UsageError(f"--selection_results: {e}") from None


def _describe(path):
  """The export's description as indented JSON text."""
  try:
    description = export_lib.describe(path)
  except FileNotFoundError as e:
    raise cli.UsageError(str(e)) from None
  return json.dumps(description, indent=2, sort_keys=True)


def run(argv, flag_values):
  """Describes an export (--describe) or exports --model_dir.

  Args:
    argv: the program's remaining arguments (absl's argv).
    flag_values: the parsed absl FlagValues of scripts/export.py.

  Returns:
    str: the description (JSON), or the version directory written.

  Raises:
    cli.UsageError: a bad flag value, a run that cannot be restored or an
      export that cannot be written.
  """
  values = cli.command_flags(ExportFlags, argv, flag_values)
  if values.describe:
    return _describe(values.describe)
  if not values.model_dir:
    raise cli.UsageError("give --model_dir (a training run) or --describe "
                         "(an export)")
  if values.version is not None and values.version <= 0:
    raise cli.UsageError(
        f"--version must be a positive integer, got {values.version}")
  extra = {}
  if values.selection_results:
    extra["selection"] = selection_record(
        values.selection_results, values.selection_model, values.model_dir)
  elif flag_values["selection_model"].present:
    raise cli.UsageError("--selection_model needs --selection_results")
  try:
    model, config = training.restore_model(values.model_dir)
    return export_lib.export_trained(
        model, config, values.export_dir,
        training.settings_history(values.model_dir),
        model_name=values.model_name, version=values.version,
        overwrite=values.overwrite, extra_metadata=extra)
  except (FileNotFoundError, export_lib.ExportError) as e:
    raise cli.UsageError(str(e)) from None
