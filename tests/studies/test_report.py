"""tf_betavae.studies.report: rows, counts, groups and the report files."""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tf_betavae import locking
from tf_betavae.studies import report
from tf_betavae.studies import spec as spec_lib
from tf_betavae.studies import study_dir as study_dir_lib

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
METRICS = ("mig", "dci", "sap")


def _spec():
  # 2 methods × 2 values × 3 seeds = 12 jobs, scored with three metrics.
  return spec_lib.StudySpec(
      name="report_test", datasets=("dsprites",),
      methods=(("beta_vae", (1, 4)), ("factor_vae", (10, 20))),
      seeds=(0, 1, 2), steps=50, metrics=METRICS)


def _result(job, index):
  """A done row with known values: every score a function of ``index``."""
  return {
      "model_num": job.model_num, "job_id": spec_lib.job_id(job),
      "dataset": job.dataset, "method": job.method,
      "hyperparameter": job.hyperparameter, "value": job.value,
      "seed": job.seed, "steps": 50, "host": f"host{index % 2}",
      "wall_seconds": 10.0 + index, "train_seconds": 8.0 + index,
      "evaluation_seconds": 2.0,
      "export_path": f"jobs/{spec_lib.job_id(job)}/exported/model/1",
      "reconstruction": 100.0 - index, "kl": 5.0 + 0.5 * index,
      "active_latents": index % 4,
      "metrics": {"mig": 0.1 * index, "dci": (index * 7 % 5) / 5.0,
                  "sap": 0.05 * (index % 3)},
  }


def _build(root, done_indices, failed_index=None, started_index=None):
  """A study directory: jobs at ``done_indices`` done, one failed, one
  started (a directory without a marker); the others pending.

  Returns:
    (spec, jobs, {job index: result row})
  """
  spec = _spec()
  jobs = spec_lib.jobs(spec)
  study_dir_lib.open_study(root, spec)
  results = {}
  for index in done_indices:
    study_dir_lib.write_job_file(root, jobs[index])
    results[index] = _result(jobs[index], index)
    study_dir_lib.mark_done(root, jobs[index], results[index])
  if failed_index is not None:
    study_dir_lib.write_job_file(root, jobs[failed_index])
    study_dir_lib.mark_failed(root, jobs[failed_index],
                              MemoryError("out of memory | at step 7"))
  if started_index is not None:
    study_dir_lib.write_job_file(root, jobs[started_index])
  return spec, jobs, results


def _write_udr(root, name, entries):
  """udr/<name>.json with per_seed entries (job, lasso, spearman)."""
  job = entries[0][0]
  per_seed = {str(j.seed): {"job_id": spec_lib.job_id(j), "udr_lasso": lasso,
                            "udr_spearman": spearman,
                            "informative_latents": 3}
              for j, lasso, spearman in entries}
  os.makedirs(os.path.join(root, "udr"), exist_ok=True)
  with open(os.path.join(root, "udr", name + ".json"), "w") as f:
    json.dump({"key": {"method": job.method},
               "result": {"dataset": job.dataset, "method": job.method,
                          "value": job.value, "per_seed": per_seed}}, f)


@pytest.fixture
def study(tmp_path):
  """Jobs 0-8 done, 9 failed, 10 started, 11 pending; UDR for jobs 3-5
  (beta = 4) and for the failed job 9 (which must not count)."""
  root = str(tmp_path / "study")
  spec, jobs, results = _build(root, range(9), failed_index=9,
                               started_index=10)
  _write_udr(root, "beta4", [(jobs[i], 0.1 * i, 1.0 - 0.1 * i)
                             for i in (3, 4, 5)])
  _write_udr(root, "factor20", [(jobs[9], 0.9, 0.9)])
  return {"root": root, "spec": spec, "jobs": jobs, "results": results}


def test_collect_gives_every_column_of_every_job(study):
  rows = report.collect(study["root"], study["jobs"], METRICS)
  assert [r["model_num"] for r in rows] == list(range(12))
  expected_columns = report.columns(METRICS)
  assert expected_columns[:16] == report.JOB_COLUMNS
  assert expected_columns[16:] == METRICS + ("udr_lasso", "udr_spearman",
                                             "error")
  for row in rows:
    assert tuple(row) == expected_columns
  assert [r["state"] for r in rows] == ["done"] * 9 + ["failed", "started",
                                                      "pending"]
  for index, result in study["results"].items():
    row = rows[index]
    assert row["job_id"] == result["job_id"]
    for column in ("host", "wall_seconds", "train_seconds",
                   "evaluation_seconds", "reconstruction", "kl",
                   "active_latents", "steps"):
      assert row[column] == result[column], column
    for metric in METRICS:
      assert row[metric] == result["metrics"][metric]
    assert row["error"] is None
  job = study["jobs"][7]
  assert (rows[7]["dataset"], rows[7]["method"], rows[7]["hyperparameter"],
          rows[7]["value"], rows[7]["seed"]) == (
              "dsprites", "factor_vae", job.hyperparameter, 10.0, 1)
  # UDR reaches the done jobs it names, not the failed one.
  assert [rows[i]["udr_lasso"] for i in (3, 4, 5)] == pytest.approx(
      [0.3, 0.4, 0.5])
  assert rows[4]["udr_spearman"] == pytest.approx(0.6)
  assert rows[0]["udr_lasso"] is None and rows[9]["udr_lasso"] is None
  assert rows[9]["error"] == "MemoryError: out of memory | at step 7"
  for index in (10, 11):
    assert rows[index]["error"] is None and rows[index]["mig"] is None
    assert rows[index]["steps"] == 50  # the planned steps
    assert rows[index]["host"] is None


def test_collect_without_metrics_takes_the_union_and_sees_running_jobs(
    study):
  jobs = study["jobs"]
  with locking.exclusive(study_dir_lib.job_dir(study["root"], jobs[10]),
                         "job"):
    rows = report.collect(study["root"], jobs[::-1])
  # The metric columns in spec_lib.METRICS' order.
  assert tuple(rows[0])[16:19] == ("mig", "dci", "sap")
  assert rows[10]["state"] == "running"
  assert [r["model_num"] for r in rows] == list(range(12))


def test_a_later_udr_file_wins_and_bad_files_are_skipped(study):
  jobs = study["jobs"]
  path = os.path.join(study["root"], "udr", "beta4.json")
  os.utime(path, (1_000_000, 1_000_000))
  _write_udr(study["root"], "recomputed", [(jobs[3], 0.77, 0.11)])
  with open(os.path.join(study["root"], "udr", "broken.json"), "w") as f:
    f.write("{not json")
  rows = report.collect(study["root"], jobs, METRICS)
  assert rows[3]["udr_lasso"] == pytest.approx(0.77)
  assert rows[4]["udr_lasso"] == pytest.approx(0.4)


def test_counts_and_their_line(study):
  rows = report.collect(study["root"], study["jobs"], METRICS)
  counts = report.counts(rows)
  assert counts == {"done": 9, "failed": 1, "running": 0, "started": 1,
                    "pending": 1, "total": 12}
  assert report.counts_text(counts) == (
      "12 jobs: 9 done, 1 failed, 0 running, 1 interrupted, "
      "1 never started")


def test_groups_are_mean_and_std_over_the_done_seeds(study):
  rows = report.collect(study["root"], study["jobs"], METRICS)
  groups = report.groups(rows, METRICS)
  assert [(g["method"], g["value"]) for g in groups] == [
      ("beta_vae", 1.0), ("beta_vae", 4.0), ("factor_vae", 10.0),
      ("factor_vae", 20.0)]
  assert [g["done"] for g in groups] == [3, 3, 3, 0]
  assert [g["jobs"] for g in groups] == [3, 3, 3, 3]
  assert groups[2]["seeds_done"] == [0, 1, 2]
  results = study["results"]
  for group, indices in zip(groups[:3], ((0, 1, 2), (3, 4, 5), (6, 7, 8))):
    for metric in METRICS:
      values = np.array([results[i]["metrics"][metric] for i in indices])
      stats = group["stats"][metric]
      assert stats["mean"] == pytest.approx(values.mean())
      assert stats["std"] == pytest.approx(values.std(ddof=1))
      assert stats["n"] == 3
    kl = np.array([results[i]["kl"] for i in indices])
    assert group["stats"]["kl"]["mean"] == pytest.approx(kl.mean())
  udr = groups[1]["stats"]["udr_lasso"]
  assert udr["mean"] == pytest.approx(0.4)
  assert udr["std"] == pytest.approx(np.std([0.3, 0.4, 0.5], ddof=1))
  assert groups[0]["stats"]["udr_lasso"] == {"mean": None, "std": None,
                                             "n": 0}
  assert groups[3]["stats"]["mig"]["mean"] is None


def test_write_report_writes_csv_json_markdown_and_figures(study):
  root = study["root"]
  out = report.write_report(root, study["spec"])
  assert out["counts"]["done"] == 9
  with open(os.path.join(root, "results.csv"), newline="") as f:
    reader = csv.DictReader(f)
    csv_rows = list(reader)
  assert tuple(reader.fieldnames) == report.columns(METRICS)
  assert len(csv_rows) == 12
  assert csv_rows[4]["udr_lasso"] == "0.4"
  assert float(csv_rows[2]["mig"]) == pytest.approx(0.2)
  assert csv_rows[11]["mig"] == "" and csv_rows[11]["state"] == "pending"
  assert csv_rows[9]["error"].startswith("MemoryError")

  with open(os.path.join(root, "results.json")) as f:
    results = json.load(f)
  assert set(results) >= {"study", "counts", "rows", "groups"}
  assert results["study"] == study["spec"].record()
  assert results["counts"] == out["counts"]
  assert results["rows"] == report.collect(root, study["jobs"], METRICS)
  assert len(results["groups"]) == 4

  with open(out["markdown"]) as f:
    text = f.read()
  assert "12 jobs: 9 done, 1 failed, 0 running, 1 interrupted, 1 never " \
         "started" in text
  assert "9 of 12 jobs are done" in text
  assert "out of memory \\| at step 7" in text  # escaped for the table
  assert "| dsprites | beta_vae | beta = 4 | 3/3 |" in text
  assert out["figures"]
  for path in out["figures"]:
    assert os.path.getsize(path) > 1000
    assert os.path.relpath(path, root) in text
  names = {os.path.basename(p) for p in out["figures"]}
  assert {"rank_correlation.png", "udr_vs_metrics.png",
          "distribution_mig.png", "distribution_udr_lasso.png"} <= names
  assert not [n for n in os.listdir(root) if n.startswith(".tmp")]


@pytest.mark.parametrize("done", [0, 1])
def test_a_study_with_too_few_done_jobs_reports_and_skips_plots(
    tmp_path, done):
  root = str(tmp_path / "study")
  spec, _, _ = _build(root, range(done))
  out = report.write_report(root, spec)
  assert out["figures"] == []
  skipped = dict(out["skipped"])
  assert "rank_correlation" in skipped and "distribution_mig" in skipped
  with open(out["markdown"]) as f:
    text = f.read()
  assert f"12 jobs: {done} done, 0 failed" in text
  assert "- rank_correlation: skipped, needs at least 3 done jobs" in text
  with open(out["csv"]) as f:
    assert len(f.read().splitlines()) == 13


def test_a_slice_reports_its_own_jobs(study):
  sliced = spec_lib.slice_spec(study["spec"], methods=["factor_vae"])
  out = report.write_report(study["root"], sliced)
  assert out["counts"]["total"] == 6
  with open(out["json"]) as f:
    rows = json.load(f)["rows"]
  assert [r["model_num"] for r in rows] == list(range(6, 12))


def test_the_report_does_not_import_tensorflow(study):
  code = (
      "import sys\n"
      "from tf_betavae.studies import report, report_plots, hparams\n"
      "from tf_betavae.studies import spec as spec_lib\n"
      f"spec = spec_lib.spec_from_record({study['spec'].record()!r})\n"
      f"out = report.write_report({study['root']!r}, spec)\n"
      "assert out['figures'] and len(out['hparams']) == 10, out\n"
      "print('tensorflow' in sys.modules)\n")
  result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120,
                          check=False)
  assert result.returncode == 0, result.stderr
  assert result.stdout.strip() == "False"
