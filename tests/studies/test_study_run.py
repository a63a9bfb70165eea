"""scripts/study.py running a study on the local engine: every job trained,
scored and reported; a rerun skips what is done; a killed driver's rerun
runs only the unfinished jobs; a job that fails does not stop the others;
--model_num runs one job as a job array's task would."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

from tests.studies import tiny_study
from tf_betavae.studies import job as job_lib
from tf_betavae.studies import spec as spec_lib
from tf_betavae.studies import study_dir as study_dir_lib

SCRIPT = os.path.join(tiny_study.ROOT, "scripts", "study.py")
ENV = dict(os.environ, PYTHONPATH=tiny_study.ROOT)


def _command(study_dir, *args):
  return ([sys.executable, SCRIPT, "--preset=sweep", "--methods=beta_vae",
           f"--study_dir={study_dir}", "--steps=30"] + tiny_study.FLAGS
          + list(args))


def _run(study_dir, *args, timeout=300):
  return subprocess.run(_command(study_dir, *args), capture_output=True,
                        text=True, timeout=timeout, env=ENV,
                        cwd=tiny_study.ROOT)


def _rows(study_dir):
  with open(os.path.join(study_dir, "results.csv")) as f:
    return list(csv.DictReader(f))


def test_a_study_runs_scores_and_reports_and_a_failed_job_stops_none(tmp_path):
  study_dir = str(tmp_path / "study")
  # cars3d has no loader here: its jobs fail with its message, the
  # dsprites jobs go on.
  grid = ("--datasets=dsprites,cars3d", "--values=1,4", "--seeds=0,1")
  first = _run(study_dir, *grid, "--workers=2")
  assert first.returncode == 1, first.stderr[-3000:]
  assert "ran 8 of 8 jobs" in first.stdout
  assert "4 done, 4 failed" in first.stdout
  assert first.stdout.count("failed: ") == 4 and "cars3d" in first.stdout
  # Progress lines: each job's end with the counts so far.
  progress = [l for l in first.stderr.splitlines() if "of 8 finished" in l]
  assert len(progress) == 8, first.stderr[-3000:]
  assert "8 of 8 finished" in progress[-1] and "4 done, 4 failed" in (
      progress[-1])
  rows = _rows(study_dir)
  assert [int(r["model_num"]) for r in rows] == list(range(8))
  done = [r for r in rows if r["state"] == "done"]
  assert [(r["dataset"], float(r["value"]), int(r["seed"])) for r in done] \
      == [("dsprites", 1.0, 0), ("dsprites", 1.0, 1), ("dsprites", 4.0, 0),
          ("dsprites", 4.0, 1)]
  for row in done:
    assert 0.0 <= float(row["mig"]) <= 1.0 and row["beta_vae"] != ""
    assert row["udr_lasso"] != "" and row["udr_spearman"] != ""
    assert row["host"] and float(row["wall_seconds"]) > 0
  failed = [r for r in rows if r["state"] == "failed"]
  assert len(failed) == 4 and all("cars3d" in r["error"] for r in failed)
  report = open(os.path.join(study_dir, "report.md")).read()
  assert "8 jobs: 4 done, 4 failed" in report
  # Every job's scores in the report are the ones its done.json holds.
  spec = tiny_study.spec(values=(1.0, 4.0), seeds=(0, 1),
                         datasets=("dsprites", "cars3d"))
  for job, row in zip(spec_lib.jobs(spec), rows):
    assert row["job_id"] == spec_lib.job_id(job)
    if row["state"] == "done":
      stored = json.load(open(os.path.join(
          study_dir_lib.job_dir(study_dir, job), "done.json")))["result"]
      assert float(row["mig"]) == stored["metrics"]["mig"]

  # One job on its own, as a job array's task: a done one is skipped; the
  # same job run alone in another study directory scores the same.
  one = _run(study_dir, *grid, "--model_num=2")
  assert one.returncode == 0, one.stderr[-2000:]
  assert "model_num 2" in one.stdout and "skipped" in one.stdout
  alone_dir = str(tmp_path / "alone")
  study_dir_lib.open_study(alone_dir, spec)
  job = spec_lib.jobs(spec)[2]
  ran_alone = job_lib.run_job_task(alone_dir, job.model_num)
  assert ran_alone["state"] == "done", ran_alone["error"]
  assert ran_alone["row"]["metrics"] == {
      "beta_vae": float(rows[2]["beta_vae"]), "mig": float(rows[2]["mig"])}
  assert ran_alone["row"]["job_id"] == rows[2]["job_id"]

  # The report alone, from the directory only.
  only = subprocess.run(
      [sys.executable, SCRIPT, f"--study_dir={alone_dir}", "--report_only"],
      capture_output=True, text=True, timeout=120, env=ENV)
  assert only.returncode == 0, only.stderr
  assert "8 jobs: 1 done, 0 failed" in only.stdout
  # A slice's report: seed 0 of the first study (β 1 and 4, two datasets).
  sliced = subprocess.run(
      [sys.executable, SCRIPT, f"--study_dir={study_dir}", "--report_only",
       "--seeds=0"], capture_output=True, text=True, timeout=120, env=ENV)
  assert sliced.returncode == 0, sliced.stderr
  assert "4 jobs: 2 done, 2 failed" in sliced.stdout
  assert [int(r["model_num"]) for r in _rows(study_dir)] == [0, 2, 4, 6]


def test_a_killed_driver_leaves_no_worker_and_a_rerun_runs_the_rest(
    tmp_path):
  study_dir = str(tmp_path / "study")
  grid = ("--values=2", "--seeds=0,1,2")
  spec = tiny_study.spec(values=(2.0,), seeds=(0, 1, 2))
  jobs = spec_lib.jobs(spec)
  driver = subprocess.Popen(_command(study_dir, *grid, "--workers=1"),
                            env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
  try:
    deadline = time.monotonic() + 240
    while study_dir_lib.job_state(study_dir, jobs[0]) != "done":
      assert driver.poll() is None, "the study ended early"
      assert time.monotonic() < deadline, "no job done within 240 s"
      time.sleep(0.2)
    driver.send_signal(signal.SIGKILL)
    driver.wait(timeout=30)
  finally:
    if driver.poll() is None:
      driver.kill()
  first_done = os.path.getmtime(os.path.join(
      study_dir_lib.job_dir(study_dir, jobs[0]), "done.json"))
  # The pinned worker notices its parent is gone and ends (a second).
  deadline = time.monotonic() + 30
  while any(study_dir_lib.job_state(study_dir, j) == "running"
            for j in jobs):
    assert time.monotonic() < deadline, "a worker outlived its driver"
    time.sleep(0.2)
  # The rerun's driver never loads TensorFlow: its workers do.
  audit = ("import atexit, runpy, sys\n"
           "atexit.register(lambda: print('driver imported tensorflow:', "
           "'tensorflow' in sys.modules))\n"
           "sys.argv = sys.argv[1:]\n"
           "runpy.run_path(sys.argv[0], run_name='__main__')\n")
  rerun = subprocess.run([sys.executable, "-c", audit]
                         + _command(study_dir, *grid)[1:],
                         capture_output=True, text=True, timeout=300,
                         env=ENV, cwd=tiny_study.ROOT)
  assert rerun.returncode == 0, rerun.stderr[-3000:]
  assert "driver imported tensorflow: False" in rerun.stdout
  assert "ran 2 of 3 jobs" in rerun.stdout and "(1 were done)" in (
      rerun.stdout)
  assert all(study_dir_lib.job_state(study_dir, j) == "done" for j in jobs)
  assert os.path.getmtime(os.path.join(
      study_dir_lib.job_dir(study_dir, jobs[0]), "done.json")) == first_done
