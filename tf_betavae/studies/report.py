"""The study report: every job's scores in one table, groups over seeds,
figures and TensorBoard HParams sessions.

``write_report(study_dir, spec)`` reads the study directory (done.json,
failed.json, lock probes, ``udr/*.json``) and writes::

  <study_dir>/results.csv    one row per job, the columns of ``columns()``
  <study_dir>/results.json   {"study", "counts", "columns", "rows", "groups"}
  <study_dir>/report.md      counts, the group table, failed jobs, figures
  <study_dir>/report/*.png   report_plots' figures
  <study_dir>/hparams/       hparams' TensorBoard sessions, one per done job

Every file is written atomically (tf_betavae.io_utils), so a report may be
rewritten while a study runs and a reader sees the old one or the new one.
A partly finished study reports the jobs it has; a missing value is None in
JSON and an empty cell in the CSV.  A study with variants has a
``variant`` column after ``dataset`` and its groups are (dataset, variant,
method, value); a study without them reports as before variants existed.

Nothing here imports TensorFlow.
"""

import csv
import glob
import io
import math
import numbers
import os

from absl import logging
import numpy as np

from tf_betavae import io_utils
from tf_betavae import locking
from tf_betavae.studies import spec as spec_lib
from tf_betavae.studies import study_dir as study_dir_lib

CSV_FILE = "results.csv"
JSON_FILE = "results.json"
MARKDOWN_FILE = "report.md"
FIGURES_SUBDIR = "report"
UDR_SUBDIR = "udr"
REPORT_LOCK = ".report.lock"

# Columns before the metrics: who the job is, where it stands, what its
# training cost (seconds) and its final training values (nats).
JOB_COLUMNS = (
    "model_num", "job_id", "dataset", "method", "hyperparameter", "value",
    "seed", "steps", "state", "host", "wall_seconds", "train_seconds",
    "evaluation_seconds", "reconstruction", "kl", "active_latents")
UDR_COLUMNS = ("udr_lasso", "udr_spearman")
ERROR_COLUMN = "error"
VARIANT_COLUMN = "variant"
# Read from a done job's result row as they are (numbers checked).
_RESULT_NUMBERS = ("wall_seconds", "train_seconds", "evaluation_seconds",
                   "reconstruction", "kl", "active_latents")


def job_columns(variants=False):
  """JOB_COLUMNS, with ``variant`` after ``dataset`` when ``variants``."""
  if not variants:
    return JOB_COLUMNS
  at = JOB_COLUMNS.index("dataset") + 1
  return JOB_COLUMNS[:at] + (VARIANT_COLUMN,) + JOB_COLUMNS[at:]


def columns(metrics=spec_lib.METRICS, variants=False):
  """The report's columns: the job's (``job_columns``), one per metric
  key, UDR, error.

  Args:
    metrics: metric keys in the order their columns come.
    variants: whether the study has variants (a ``variant`` column).

  Returns:
    tuple of str.
  """
  return (job_columns(variants) + tuple(metrics) + UDR_COLUMNS
          + (ERROR_COLUMN,))


# The columns of a study scored with every metric (spec_lib.METRICS).
COLUMNS = columns()


def _finite(value):
  """``value`` as float (int for integral ints), None when it is missing,
  not a number or not finite (a NaN score reads as no score)."""
  if (isinstance(value, bool) or not isinstance(value, numbers.Real)
      or not math.isfinite(float(value))):
    return None
  return int(value) if isinstance(value, numbers.Integral) else float(value)


def _read_marker(path):
  """The JSON object at ``path``, or None when absent or unreadable (a
  damaged marker is logged and read as no marker)."""
  try:
    record = io_utils.read_json_if_present(path)
  except (OSError, ValueError) as e:
    logging.warning("study report: cannot read %s: %s", path, e)
    return None
  return record if isinstance(record, dict) else None


def read_udr(study_dir, done_job_ids):
  """UDR scores per job from ``<study_dir>/udr/*.json``.

  Each file holds ``{"key": ..., "result": {"per_seed": {seed: {"job_id",
  "udr_lasso", "udr_spearman", ...}}}}``.  An entry counts only when its
  job_id is in ``done_job_ids`` (a score of a job this study did not
  finish, or of another study, is left out).  Where files disagree the one
  written last wins (files in modification order, then by name).

  Returns:
    dict job_id -> {"udr_lasso": float or None, "udr_spearman": ...}.
  """
  paths = glob.glob(os.path.join(study_dir, UDR_SUBDIR, "*.json"))
  paths.sort(key=lambda p: (os.path.getmtime(p), p))
  scores = {}
  for path in paths:
    record = _read_marker(path)
    result = (record or {}).get("result")
    per_seed = result.get("per_seed") if isinstance(result, dict) else None
    if not isinstance(per_seed, dict):
      continue
    for entry in per_seed.values():
      if not isinstance(entry, dict) or entry.get("job_id") not in (
          done_job_ids):
        continue
      scores[entry["job_id"]] = {c: _finite(entry.get(c))
                                 for c in UDR_COLUMNS}
  return scores


def _metric_keys(results):
  """Metric keys of the done results: spec_lib.METRICS' order first, then
  any others sorted."""
  found = set()
  for result in results:
    metrics = result.get("metrics")
    if isinstance(metrics, dict):
      found.update(metrics)
  return (tuple(m for m in spec_lib.METRICS if m in found)
          + tuple(sorted(found - set(spec_lib.METRICS))))


def collect(study_dir, jobs, metrics=None, variants=None):
  """One row per job of ``jobs``, in model_num order.

  Args:
    study_dir: the study directory.
    jobs: list of spec_lib.Job.
    metrics: metric keys for the metric columns; None: every key found in
      the done jobs' results.
    variants: whether rows have a ``variant`` column (the job's label);
      None: when some job has a variant.

  Returns:
    list of dict, each with every column of ``columns(metrics)``: the
    job's identity (steps: trained steps when done, else the planned
    steps), ``state`` (study_dir.job_state), the done result's timings
    (seconds), training values (nats) and metric scores, the UDR scores
    (read_udr), and ``error`` ("Type: message" of failed.json when the job
    is not done).  Missing values are None.
  """
  jobs = sorted(jobs, key=lambda job: job.model_num)
  states, results, failures = [], [], []
  for job in jobs:
    directory = study_dir_lib.job_dir(study_dir, job)
    state = study_dir_lib.job_state(study_dir, job)
    done = (_read_marker(os.path.join(directory, study_dir_lib.DONE_FILE))
            if state == study_dir_lib.DONE else None)
    result = (done or {}).get("result")
    failed = (_read_marker(os.path.join(directory, study_dir_lib.FAILED_FILE))
              if state != study_dir_lib.DONE else None)
    states.append(state)
    results.append(result if isinstance(result, dict) else {})
    failures.append(failed or {})
  if metrics is None:
    metrics = _metric_keys(results)
  if variants is None:
    variants = any(job.variant for job in jobs)
  done_ids = {spec_lib.job_id(job) for job, state in zip(jobs, states)
              if state == study_dir_lib.DONE}
  udr = read_udr(study_dir, done_ids)

  rows = []
  for job, state, result, failed in zip(jobs, states, results, failures):
    job_id = spec_lib.job_id(job)
    row = dict.fromkeys(columns(metrics, variants))
    row.update(model_num=job.model_num, job_id=job_id, dataset=job.dataset,
               method=job.method, hyperparameter=job.hyperparameter,
               value=float(job.value), seed=job.seed, state=state)
    if variants:
      row[VARIANT_COLUMN] = job.variant
    steps = _finite(result.get("steps"))
    row["steps"] = steps if steps is not None else job.steps
    host = result.get("host", failed.get("host"))
    row["host"] = host if isinstance(host, str) else None
    for column in _RESULT_NUMBERS:
      row[column] = _finite(result.get(column))
    scores = result.get("metrics")
    scores = scores if isinstance(scores, dict) else {}
    for metric in metrics:
      row[metric] = _finite(scores.get(metric))
    row.update(udr.get(job_id, {}))
    if failed.get("error") is not None:
      kind = failed.get("error_type")
      row[ERROR_COLUMN] = (f"{kind}: {failed['error']}" if kind
                           else str(failed["error"]))
    rows.append(row)
  return rows


def counts(rows):
  """How many rows are in each state, and in all.

  Returns:
    dict with int "done", "failed", "running", "started" (a try that
    stopped without a marker), "pending" (never started) and "total".
  """
  out = {state: 0 for state in study_dir_lib.STATES}
  for row in rows:
    out[row["state"]] += 1
  out["total"] = len(rows)
  return out


def counts_text(job_counts):
  """One line, e.g. "12 jobs: 10 done, 1 failed, 0 running, 0 interrupted,
  1 never started"."""
  c = job_counts
  noun = "job" if c["total"] == 1 else "jobs"
  return (f"{c['total']} {noun}: {c['done']} done, {c['failed']} failed, "
          f"{c['running']} running, {c['started']} interrupted, "
          f"{c['pending']} never started")


def group_columns(metrics):
  """The columns summarised per group: metrics, UDR, the training values."""
  return tuple(metrics) + UDR_COLUMNS + ("reconstruction", "kl",
                                         "active_latents")


def _stats(values):
  """{"mean", "std", "n"} of the non-None ``values``; std is the sample
  standard deviation (ddof 1), None with fewer than two values."""
  values = np.asarray([v for v in values if v is not None], dtype=np.float64)
  n = int(values.size)
  return {"mean": float(values.mean()) if n else None,
          "std": float(values.std(ddof=1)) if n > 1 else None,
          "n": n}


def groups(rows, metrics):
  """Each (dataset, method, value) over its seeds, in the rows' order;
  each (dataset, variant, method, value) when the rows have a variant.

  Args:
    rows: collect's rows.
    metrics: the metric keys to summarise.

  Returns:
    list of dict: dataset, variant (only when the rows have one), method,
    hyperparameter, value, "jobs" (rows in the group), "done" (rows done),
    "seeds_done" (their seeds) and "stats": {column: {"mean", "std", "n"}}
    over the done rows for every column of ``group_columns(metrics)``
    (None where no seed has it).
  """
  order, members = [], {}
  for row in rows:
    key = (row["dataset"], row["method"], row["value"],
           row.get(VARIANT_COLUMN))
    if key not in members:
      order.append(key)
      members[key] = []
    members[key].append(row)
  out = []
  for key in order:
    group = members[key]
    done = [r for r in group if r["state"] == study_dir_lib.DONE]
    entry = {"dataset": key[0]}
    if VARIANT_COLUMN in group[0]:
      entry[VARIANT_COLUMN] = key[3]
    entry.update({
        "method": key[1],
        "hyperparameter": group[0]["hyperparameter"], "value": key[2],
        "jobs": len(group), "done": len(done),
        "seeds_done": [r["seed"] for r in done],
        "stats": {c: _stats(r.get(c) for r in done)
                  for c in group_columns(metrics)},
    })
    out.append(entry)
  return out


def _csv_text(rows, column_names):
  buffer = io.StringIO()
  writer = csv.DictWriter(buffer, fieldnames=list(column_names),
                          lineterminator="\n")
  writer.writeheader()
  for row in rows:
    writer.writerow({c: "" if row.get(c) is None else row[c]
                     for c in column_names})
  return buffer.getvalue()


def _number_text(value):
  return "-" if value is None else f"{value:.3g}"


def _cell(text, limit=160):
  """``text`` fit for one markdown table cell."""
  text = " ".join(str(text).split()).replace("|", "\\|")
  return text if len(text) <= limit else text[:limit - 3] + "..."


def _table(header, body):
  lines = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" for _ in header) + "|"]
  lines += ["| " + " | ".join(cells) + " |" for cells in body]
  return lines


def _variant_text(label, pairs):
  """E.g. "k1 (k=1)": a variant's label and its settings."""
  settings = ", ".join(f"{name}={value}" for name, value in pairs)
  return f"{label} ({settings or 'no settings'})"


def markdown(spec, job_counts, group_rows, rows, metrics, figures, skipped):
  """report.md's text.

  Args:
    spec: the StudySpec.
    job_counts: counts(rows).
    group_rows: groups(rows, metrics).
    rows: collect's rows.
    metrics: metric keys.
    figures: paths of the figures, relative to the study directory.
    skipped: (figure name, reason) pairs of figures not drawn.
  """
  c = job_counts
  lines = [f"# Study report: {spec.name}", "",
           f"{counts_text(c)}.", ""]
  if c["done"] < c["total"]:
    lines += [f"Partial report: {c['done']} of {c['total']} jobs are done "
              f"({c['failed']} failed, {c['running']} running, "
              f"{c['started']} interrupted, {c['pending']} never started); "
              "the tables and figures below use the done jobs only.", ""]
  methods = "; ".join(
      f"{m} ({', '.join(f'{v:g}' for v in values)})"
      for m, values in spec.methods)
  lines += [f"- Datasets: {', '.join(spec.datasets)}"]
  if spec.variants:
    lines += ["- Variants: " + "; ".join(
        _variant_text(label, pairs) for label, pairs in spec.variants)]
  lines += [f"- Methods and values: {methods}",
            f"- Seeds: {len(spec.seeds)}; steps: "
            f"{spec.steps if spec.steps is not None else 'training default'}",
            f"- Metrics: {', '.join(metrics) or 'none'}", ""]

  stat_columns = tuple(metrics) + UDR_COLUMNS
  variant = [VARIANT_COLUMN] if spec.variants else []
  lines += ["## Groups over seeds", "",
            "Mean ± sample standard deviation over the done seeds of each "
            f"({', '.join(['dataset'] + variant)}, method, value); `-` where "
            "no seed has a score.", ""]
  header = (["dataset"] + variant + ["method", "value", "done"]
            + list(stat_columns))
  body = []
  for g in group_rows:
    cells = ([g["dataset"]] + [g.get(VARIANT_COLUMN, "") for _ in variant]
             + [g["method"], f"{g['hyperparameter']} = {g['value']:g}",
                f"{g['done']}/{g['jobs']}"])
    for column in stat_columns:
      s = g["stats"][column]
      text = _number_text(s["mean"])
      if s["std"] is not None:
        text += f" ± {_number_text(s['std'])}"
      cells.append(text)
    body.append(cells)
  lines += _table(header, body) + [""]

  failed = [r for r in rows if r["error"] is not None
            and r["state"] != study_dir_lib.DONE]
  if failed:
    lines += ["## Failed jobs", ""]
    lines += _table(["model_num", "job_id", "state", "error"],
                    [[str(r["model_num"]), r["job_id"], r["state"],
                      _cell(r["error"])] for r in failed]) + [""]

  lines += ["## Figures", ""]
  for path in figures:
    name = os.path.splitext(os.path.basename(path))[0].replace("_", " ")
    lines += [f"![{name}]({path})", ""]
  for name, reason in skipped:
    lines += [f"- {name}: skipped, {reason}"]
  if skipped:
    lines += [""]
  lines += ["## Files", "",
            f"- `{CSV_FILE}`, `{JSON_FILE}`: one row per job "
            f"({', '.join(columns(metrics, bool(spec.variants))[:3])}, "
            "...).",
            "- `hparams/`: TensorBoard HParams sessions, one per done job "
            "(`tensorboard --logdir STUDY_DIR`).", ""]
  return "\n".join(lines)


def write_report(study_dir, spec, jobs=None):
  """Writes the study's report files (see the module docstring).

  Args:
    study_dir: the study directory.
    spec: the StudySpec (its metrics name the metric columns).
    jobs: the jobs to report; None: every job of ``spec`` (its slice, if
      it is one).

  Returns:
    dict: "csv", "json", "markdown" (paths), "figures" (paths of the PNGs
    written), "skipped" ((figure, reason) pairs), "hparams" (paths of the
    event files) and "counts" (counts(rows)).
  """
  # Imported here so that reading rows does not load matplotlib.
  from tf_betavae.studies import hparams as hparams_lib  # pylint: disable=g-import-not-at-top
  from tf_betavae.studies import report_plots  # pylint: disable=g-import-not-at-top

  # Two writers at once (say, an engine after each job and a person by
  # hand) would each remove the other's new HParams sessions and figures:
  # one at a time.  Its own lock file, so an engine holding the study's
  # lock for a whole run can still write reports.
  with locking.exclusive(study_dir, "study report", wait=True,
                         lock_name=REPORT_LOCK):
    if jobs is None:
      jobs = spec_lib.jobs(spec)
    metrics = spec.score_keys()
    variants = bool(spec.variants)
    rows = collect(study_dir, jobs, metrics, variants)
    job_counts = counts(rows)
    group_rows = groups(rows, metrics)
    column_names = columns(metrics, variants)

    figures_dir = os.path.join(study_dir, FIGURES_SUBDIR)
    figures, skipped = report_plots.write_figures(rows, metrics, figures_dir)
    event_files = hparams_lib.write_hparams(study_dir, spec, rows, metrics)

    csv_path = io_utils.write_text_atomic(
        os.path.join(study_dir, CSV_FILE), _csv_text(rows, column_names),
        suffix=".csv")
    json_path = io_utils.write_json_atomic(
        os.path.join(study_dir, JSON_FILE),
        {"study": spec.record(), "counts": job_counts,
         "columns": list(column_names), "rows": rows, "groups": group_rows})
    relative = [os.path.relpath(p, study_dir) for p in figures]
    markdown_path = io_utils.write_text_atomic(
        os.path.join(study_dir, MARKDOWN_FILE),
        markdown(spec, job_counts, group_rows, rows, metrics, relative,
                 skipped), suffix=".md")
    return {"csv": csv_path, "json": json_path, "markdown": markdown_path,
            "figures": figures, "skipped": skipped, "hparams": event_files,
            "counts": job_counts}
