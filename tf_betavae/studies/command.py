"""The study program (scripts/study.py) behind its flags.

scripts/study.py defines one flag per field of ``StudyFlags``
(``tf_betavae.cli.define_config_flags``) and calls ``run``, which builds
the study (a preset, sliced by --datasets --variants --methods --values
--seeds, with --steps and the scoring settings), records or checks it in
--study_dir, and then does one of four things:

* ``--list``: returns the job table;
* ``--report_only``: writes the report of what the directory holds;
* ``--model_num=N``: runs that one job here (a job array's task);
* otherwise: runs every unfinished job on ``--engine``, then the UDR of
  each group, then writes the report.

Usage errors raise ``cli.UsageError`` (the program exits 2 with one line).
Only ``--model_num`` imports TensorFlow in this process; the engines run
jobs in processes of their own.
"""

import dataclasses
import os
from typing import List

from absl import logging

from tf_betavae import cli
from tf_betavae.studies import engines
from tf_betavae.studies import spec as spec_lib
from tf_betavae.studies import study_dir as study_dir_lib

PROGRAM = "study.py"
SWEEP = "sweep"
PAPER = "paper"
PRESETS = tuple(spec_lib.PRESETS) + (PAPER, SWEEP)
COLUMNS = ("model_num", "job_id", "dataset", "method", "value", "seed",
           "state")
# The job table of a study with variants: the variant after the dataset.
VARIANT_COLUMNS = COLUMNS[:3] + ("variant",) + COLUMNS[3:]
NO_STATE = "-"  # the state column without --study_dir

_flag = cli.flag_field


@dataclasses.dataclass
class StudyFlags:
  """The program's settings; each field is a flag of its name."""

  preset: str = _flag(spec_lib.UNSUPERVISED_STUDY_V1, "The study: "
                      "unsupervised_study_v1 is disentanglement_lib's "
                      "unsupervised study (12,600 jobs); weak_study is "
                      "Locatello et al. 2020's weakly-supervised one "
                      "(group_vae, ml_vae, ada_gvae, ada_ml_vae; variants "
                      "k1 and krnd; 10 seeds; 480 jobs on dsprites, "
                      "--datasets names its datasets); paper is what "
                      "scripts/reproduce.py trains (its default preset, "
                      "cpu: the β-VAE recipe and the VAE, 3 seeds, scored "
                      "with both protocols of the β-VAE metric); sweep is one "
                      "method (--methods) over any --values and --seeds "
                      "(default 0,1,2) on --datasets (default dsprites), "
                      "from TrainConfig's defaults.", choices=PRESETS)
  study_dir: str = _flag(None, "The study's directory, the study's only "
                         "state: study.json is written there (or checked), "
                         "each job lives in jobs/<job_id>/, the report in "
                         "results.csv, results.json and report.md. Needed "
                         "for everything but --list.", kind="string")
  datasets: List[str] = _flag([], "Keep only these datasets of the study "
                              "(comma-separated).", kind="list")
  methods: List[str] = _flag([], "Keep only these methods of the study.",
                             kind="list")
  values: List[str] = _flag([], "Keep only these values of the one method "
                            "given with --methods.", kind="list")
  seeds: List[str] = _flag([], "Keep only these seeds.", kind="list")
  variants: List[str] = _flag([], "Keep only these variants (labels, e.g. "
                              "k1,krnd for weak_study) of a study with "
                              "variants.", kind="list")
  steps: int = _flag(None, "Training steps of every job (default: the "
                     "study preset's, 300,000 for unsupervised_study_v1).",
                     kind="integer")
  model_num: int = _flag(None, "One job, by its number in the whole study "
                         "(disentanglement_lib's model_num).",
                         kind="integer")
  list: bool = _flag(False, "Print the jobs (model_num, job_id, dataset, "
                     "variant in a study with variants, method, value, "
                     "seed, state) and exit.")
  report_only: bool = _flag(False, "Write the report of what --study_dir "
                            "holds (done, failed and unstarted jobs) and "
                            "exit; runs nothing.")
  metrics: List[str] = _flag([], "Metrics scoring every job (default: the "
                             "preset's: " + ",".join(spec_lib.METRICS) + ").",
                             kind="list")
  metric_sizes: List[str] = _flag(
      [], "Smaller metric samples, as metric=num_train:num_eval (either may "
      "be empty for the metric's own size), e.g. mig=1000:,beta_vae=500:100. "
      "Default: disentanglement_lib's sizes.", kind="list")
  representations: List[str] = _flag(
      [], "What every metric scores: mean (the posterior mean, the default) "
      "and/or sampled (one sample from the posterior per image); one column "
      "set each in the report (sampled as <metric>:sampled).", kind="list")
  udr_num_points: int = _flag(None, "Images of the sample UDR compares a "
                              "group's seeds on (default 10,000).",
                              kind="integer")
  train_settings: List[str] = _flag(
      [], "TrainConfig settings every job shares, as name=value (e.g. "
      "arch=mlp,latent_dim=8); part of each job's id.", kind="list")
  engine: str = _flag(engines.LOCAL, "Where jobs run: local (worker "
                      "processes on this machine, pinned to CPU shares) or "
                      "ray (one Ray task per job; pip install -e '.[ray]').",
                      choices=engines.ENGINES)
  threads_per_job: int = _flag(
      None, "TensorFlow's CPU threads in every job on every engine (default "
      "1). Recorded in the study: a job's result depends on it.",
      kind="integer")
  workers: int = _flag(None, "local: jobs at once, each in a worker "
                       "process pinned to its share of the CPUs (default: "
                       "CPUs // threads_per_job).", kind="integer")
  ray_address: str = _flag(None, "ray: the address of a cluster started with "
                           "`ray start --head` (host:port or auto); without "
                           "it a Ray is started on this machine for the "
                           "run.", kind="string")
  num_cpus: float = _flag(None, "ray: CPUs each job reserves (default: "
                          "threads_per_job).", kind="float")
  num_gpus: float = _flag(0.0, "ray: GPUs each job reserves.")
  max_retries: int = _flag(3, "ray: retries of a job whose worker process "
                           "or node died (a job's own error is not "
                           "retried).")


def _numbers(texts, flag, convert, kind):
  out = []
  for text in texts:
    try:
      out.append(convert(text))
    except ValueError:
      raise cli.UsageError(f"--{flag} must be {kind}, got {text!r}") from None
  return out


def _setting_value(text):
  """A name=value setting's value: an int, a float, true/false, else the
  text."""
  lowered = text.lower()
  if lowered in ("true", "false"):
    return lowered == "true"
  for convert in (int, float):
    try:
      return convert(text)
    except ValueError:
      pass
  return text


def _train_settings(texts):
  settings = {}
  for text in texts:
    name, sep, value = text.partition("=")
    if not sep or not name:
      raise cli.UsageError(f"--train_settings takes name=value items, got "
                           f"{text!r}")
    settings[name] = _setting_value(value)
  return settings


def _metric_sizes(texts):
  sizes = {}
  for text in texts:
    name, sep, pair = text.partition("=")
    num_train, colon, num_eval = pair.partition(":")
    if not sep or not colon:
      raise cli.UsageError(f"--metric_sizes takes metric=num_train:num_eval "
                           f"items (either may be empty), got {text!r}")
    sizes[name] = tuple(
        _numbers([size], "metric_sizes", int, "integers")[0] if size else None
        for size in (num_train, num_eval))
  return sizes


def _grid_spec(values):
  """The study the preset and grid flags name, before slicing."""
  if values.preset == PAPER:
    # Imported here: the paper study is built from reproduce.py's settings,
    # which import TensorFlow (only this preset's driver loads it).
    from tf_betavae.experiments import paper_study  # pylint: disable=g-import-not-at-top
    return paper_study.default_spec(values.steps), True
  if values.preset == spec_lib.WEAK_STUDY and values.datasets:
    # The weak study's datasets are a choice (disentanglement_lib trains
    # several; the preset one): --datasets names them rather than slicing.
    return spec_lib.weak_study(datasets=tuple(values.datasets)), True
  if values.preset != SWEEP:
    return spec_lib.preset(values.preset), True
  if len(values.methods) != 1 or not values.values:
    raise cli.UsageError("--preset=sweep needs one method (--methods=M) and "
                         "its values (--values=...)")
  return spec_lib.sweep_spec(
      values.methods[0], _numbers(values.values, "values", float, "numbers"),
      _numbers(values.seeds, "seeds", int, "integers") or (0, 1, 2),
      datasets=values.datasets or ("dsprites",), steps=values.steps), False


def build_spec(values):
  """The sliced StudySpec of the flags; cli.UsageError for a bad one."""
  try:
    spec, sliceable = _grid_spec(values)
    changes = {}
    if values.metrics:
      changes["metrics"] = tuple(values.metrics)
    if values.metric_sizes:
      changes["metric_sizes"] = _metric_sizes(values.metric_sizes)
    if values.representations:
      changes["representations"] = tuple(values.representations)
    if values.udr_num_points is not None:
      changes["udr_num_points"] = values.udr_num_points
    if values.threads_per_job is not None:
      changes["threads_per_job"] = values.threads_per_job
    if values.train_settings:
      changes["train_settings"] = _train_settings(values.train_settings)
    spec = dataclasses.replace(spec, **changes)
    if not sliceable:
      return spec
    return _sliced(spec, values, steps=values.steps)
  except spec_lib.StudyError as e:
    raise cli.UsageError(str(e)) from None


def _sliced(spec, values, steps=None):
  """``spec`` narrowed by --datasets, --variants, --methods, --values and
  --seeds (an empty flag keeps its level)."""
  return spec_lib.slice_spec(
      spec, datasets=values.datasets or None,
      variants=values.variants or None,
      methods=values.methods or None,
      values=_numbers(values.values, "values", float, "numbers") or None,
      seeds=_numbers(values.seeds, "seeds", int, "integers") or None,
      steps=steps)


def job_table(rows):
  """The rows as a text table under a header of COLUMNS (VARIANT_COLUMNS
  when a job has a variant).

  Args:
    rows: list of (Job, state) pairs.
  """
  variants = any(job.variant for job, _ in rows)
  header = VARIANT_COLUMNS if variants else COLUMNS
  cells = [header] + [
      (str(job.model_num), spec_lib.job_id(job), job.dataset)
      + ((job.variant,) if variants else ())
      + (job.method, f"{job.value:g}", str(job.seed), state)
      for job, state in rows]
  widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
  return "\n".join(
      "  ".join(cell.ljust(width) for cell, width in zip(row, widths))
      .rstrip() for row in cells)


def _engine_options(values):
  if values.workers is not None and values.workers < 1:
    raise cli.UsageError(f"--workers must be >= 1, got {values.workers}")
  if (values.num_cpus is not None and values.num_cpus <= 0) or (
      values.num_gpus < 0):
    raise cli.UsageError("--num_cpus must be > 0 and --num_gpus >= 0")
  if values.max_retries < 0:
    raise cli.UsageError(f"--max_retries must be >= 0, got "
                         f"{values.max_retries}")
  if values.engine != engines.RAY:
    if values.ray_address is not None:
      raise cli.UsageError("--ray_address needs --engine=ray")
  else:
    from tf_betavae.studies import ray_engine  # pylint: disable=g-import-not-at-top
    if not ray_engine.ray_available():
      raise cli.UsageError("--engine=ray needs Ray: pip install -e '.[ray]'")
  return engines.EngineOptions(
      engine=values.engine, workers=values.workers,
      ray_address=values.ray_address, num_cpus=values.num_cpus,
      num_gpus=values.num_gpus, max_retries=values.max_retries)


def _report(study_dir, spec, jobs):
  from tf_betavae.studies import report  # pylint: disable=g-import-not-at-top
  written = report.write_report(study_dir, spec, jobs)
  return (f"report: {os.path.join(study_dir, 'report.md')} "
          f"({report.counts_text(written['counts'])})")


def _one_job(study_dir, job):
  """Runs one job here (a job array's task); returns (text, exit code)."""
  from tf_betavae import tf_startup  # pylint: disable=g-import-not-at-top
  from tf_betavae.studies import job as job_lib  # pylint: disable=g-import-not-at-top
  if job_lib.done_row(study_dir, job) is None:  # a done job needs no TF
    tf_startup.quiet_worker_start()
  result = job_lib.run_job_task(study_dir, job.model_num)
  text = (f"model_num {job.model_num} ({spec_lib.job_id(job)}): "
          f"{result['state']} in {result['seconds']:.0f} s")
  if result["error"]:
    text += f": {result['error']}"
  if result["row"]:
    text += "\n" + " ".join(f"{k}={v:.4f}" for k, v in
                            sorted(result["row"]["metrics"].items()))
  return text, 1 if result["state"] == job_lib.FAILED else 0


def run(argv, flag_values):
  """Checks the flags and does what they ask.

  Args:
    argv: the program's remaining arguments (absl's argv).
    flag_values: the parsed absl FlagValues of scripts/study.py.

  Returns:
    (text to print, exit code): 0, or 1 when a job failed.

  Raises:
    cli.UsageError: a bad flag, a study directory holding another study,
      no --study_dir where one is needed.
  """
  values = cli.command_flags(StudyFlags, argv, flag_values,
                             info_logging=False)
  if values.study_dir is not None:
    cli.check_output_dir("study_dir", values.study_dir)
  if values.report_only:
    return _report_only(values)
  spec = build_spec(values)
  try:
    jobs = (spec_lib.jobs(spec) if values.model_num is None
            else [spec_lib.job_of(spec, values.model_num)])
  except spec_lib.StudyError as e:
    raise cli.UsageError(str(e)) from None
  if values.list:
    return _list(values, spec, jobs), 0
  if values.study_dir is None:
    raise cli.UsageError("running a study needs --study_dir (its only "
                         "state); give --list to print its jobs")
  options = _engine_options(values)
  _open(values.study_dir, spec)
  logging.set_verbosity(logging.INFO)
  if values.model_num is not None:
    return _one_job(values.study_dir, jobs[0])
  result = engines.run_study(values.study_dir, spec, jobs, options)
  lines = [f"ran {len(result.outcomes)} of {len(jobs)} jobs in "
           f"{result.seconds:.0f} s ({result.already_done} were done): "
           f"{result.count('done')} done, {result.failed} failed"
           + (f", {result.count('busy')} busy elsewhere"
              if result.count("busy") else "")]
  for outcome in result.outcomes:
    if outcome["state"] == "failed":
      lines.append(f"  model_num {outcome['model_num']} failed: "
                   f"{outcome['error']}")
  lines.append(_report(values.study_dir, spec, jobs))
  return "\n".join(lines), 1 if result.failed else 0


def _open(study_dir, spec):
  try:
    study_dir_lib.open_study(study_dir, spec)
  except (spec_lib.StudyError, OSError) as e:
    raise cli.UsageError(str(e)) from None


def _report_only(values):
  """The report of the study in --study_dir, or of the slice that
  --datasets, --variants, --methods, --values and --seeds keep of it."""
  if values.study_dir is None:
    raise cli.UsageError("--report_only needs --study_dir")
  if values.list or values.model_num is not None:
    raise cli.UsageError("--report_only reports a study or a slice of it; "
                         "leave out --list and --model_num")
  from tf_betavae.studies import job as job_lib  # pylint: disable=g-import-not-at-top
  try:
    spec = _sliced(job_lib.load_spec(values.study_dir), values)
  except spec_lib.StudyError as e:
    raise cli.UsageError(str(e)) from None
  return _report(values.study_dir, spec, spec_lib.jobs(spec)), 0


def _list(values, spec, jobs):
  if values.study_dir is None:
    states = [NO_STATE] * len(jobs)
  else:
    _open(values.study_dir, spec)
    states = [study_dir_lib.job_state(values.study_dir, job) for job in jobs]
  where = (f" in {os.path.abspath(values.study_dir)}"
           if values.study_dir is not None else "")
  return (job_table(list(zip(jobs, states))) + "\n"
          + f"{len(jobs)} of the {spec.num_jobs} jobs of {spec.name}{where}")
