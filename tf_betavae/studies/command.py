"""The study program (scripts/study.py) behind its flags.

scripts/study.py defines one flag per field of ``StudyFlags``
(``tf_betavae.cli.define_config_flags``) and calls ``run``, which builds
the study (a preset, sliced by --datasets --methods --values --seeds
--steps), records or checks it in --study_dir, and returns the job table
the program prints.  Only --list is built: running jobs comes with the
job runner and its engines (docs/studies.md).  Usage errors raise
``cli.UsageError`` (the program exits 2 with one line).

Nothing here imports TensorFlow.
"""

import dataclasses
import os
from typing import List

from tf_betavae import cli
from tf_betavae.studies import spec as spec_lib
from tf_betavae.studies import study_dir as study_dir_lib

PROGRAM = "study.py"
NOT_BUILT = ("running jobs is not built yet; give --list to print the "
             "study's jobs")
COLUMNS = ("model_num", "job_id", "dataset", "method", "value", "seed",
           "state")
NO_STATE = "-"  # the state column without --study_dir

_flag = cli.flag_field


@dataclasses.dataclass
class StudyFlags:
  """The program's settings; each field is a flag of its name."""

  preset: str = _flag(spec_lib.UNSUPERVISED_STUDY_V1, "The study: "
                      "disentanglement_lib's unsupervised study (12,600 "
                      "jobs).", choices=tuple(spec_lib.PRESETS))
  study_dir: str = _flag(None, "The study's directory: study.json is written "
                         "there (or checked), job states are read from it.",
                         kind="string")
  datasets: List[str] = _flag([], "Keep only these datasets of the study "
                              "(comma-separated).", kind="list")
  methods: List[str] = _flag([], "Keep only these methods of the study.",
                             kind="list")
  values: List[str] = _flag([], "Keep only these values of the one method "
                            "given with --methods.", kind="list")
  seeds: List[str] = _flag([], "Keep only these seeds.", kind="list")
  steps: int = _flag(None, "Training steps of every job (default: the "
                     "study preset's, 300,000 for unsupervised_study_v1).",
                     kind="integer")
  model_num: int = _flag(None, "One job, by its number in the whole study "
                         "(disentanglement_lib's model_num).",
                         kind="integer")
  list: bool = _flag(False, "Print the jobs (model_num, job_id, dataset, "
                     "method, value, seed, state) and exit.")


def _numbers(texts, flag, convert, kind):
  out = []
  for text in texts:
    try:
      out.append(convert(text))
    except ValueError:
      raise cli.UsageError(f"--{flag} must be {kind}, got {text!r}") from None
  return out


def build_spec(values):
  """The sliced StudySpec of the flags; cli.UsageError for a bad one."""
  try:
    spec = spec_lib.preset(values.preset)
    return spec_lib.slice_spec(
        spec, datasets=values.datasets or None,
        methods=values.methods or None,
        values=_numbers(values.values, "values", float, "numbers") or None,
        seeds=_numbers(values.seeds, "seeds", int, "integers") or None,
        steps=values.steps)
  except spec_lib.StudyError as e:
    raise cli.UsageError(str(e)) from None


def job_table(rows):
  """The rows as a text table under a header of COLUMNS.

  Args:
    rows: list of (Job, state) pairs.
  """
  cells = [COLUMNS] + [
      (str(job.model_num), spec_lib.job_id(job), job.dataset, job.method,
       f"{job.value:g}", str(job.seed), state) for job, state in rows]
  widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
  return "\n".join(
      "  ".join(cell.ljust(width) for cell, width in zip(row, widths))
      .rstrip() for row in cells)


def run(argv, flag_values):
  """Checks the flags and returns the text to print.

  Args:
    argv: the program's remaining arguments (absl's argv).
    flag_values: the parsed absl FlagValues of scripts/study.py.

  Returns:
    str: the job table and a line counting its jobs.

  Raises:
    cli.UsageError: a bad flag, a study directory holding another study,
      or no --list (running jobs is not built yet).
  """
  values = cli.command_flags(StudyFlags, argv, flag_values,
                             info_logging=False)
  if values.study_dir is not None:
    cli.check_output_dir("study_dir", values.study_dir)
  spec = build_spec(values)
  try:
    jobs = (spec_lib.jobs(spec) if values.model_num is None
            else [spec_lib.job_of(spec, values.model_num)])
  except spec_lib.StudyError as e:
    raise cli.UsageError(str(e)) from None
  if not values.list:
    raise cli.UsageError(NOT_BUILT)
  if values.study_dir is None:
    states = [NO_STATE] * len(jobs)
  else:
    try:
      study_dir_lib.open_study(values.study_dir, spec)
    except (spec_lib.StudyError, OSError) as e:
      raise cli.UsageError(str(e)) from None
    states = [study_dir_lib.job_state(values.study_dir, job) for job in jobs]
  where = (f" in {os.path.abspath(values.study_dir)}"
           if values.study_dir is not None else "")
  return (job_table(list(zip(jobs, states))) + "\n"
          + f"{len(jobs)} of the {spec.num_jobs} jobs of {spec.name}{where}")
