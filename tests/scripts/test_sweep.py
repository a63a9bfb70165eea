"""scripts/sweep.py end to end: a tiny two-β sweep, its rerun, usage errors."""

import csv
import glob
import os
import subprocess
import sys

import numpy as np
from PIL import Image
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "sweep.py")
TINY = ["--betas=0.5,2", "--seeds=0,1", "--steps=3", "--batch_size=8",
        "--udr_num_points=200",
        "--latent_dim=3", "--metric=beta_vae", "--num_train=10",
        "--num_eval=6", "--num_reconstruction_images=16"]


def _sweep(*args):
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
  return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True,
                        text=True, env=env, cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
  return str(tmp_path_factory.mktemp("sweep"))


def _rows(sweep_dir):
  with open(os.path.join(sweep_dir, "sweep.csv"), newline="") as f:
    return list(csv.DictReader(f))


# The sweep end to end and its rerun train four runs (70 s together in the
# last clean-clone CI, which ran the default suite 15 s under its 15
# minutes): -m slow. The sweep is a one-method study, whose engine
# tests/studies/test_study_run.py runs by default.
@pytest.mark.slow
def test_sweep_writes_csv_plot_and_best_beta(sweep_dir):
  result = _sweep(f"--sweep_dir={sweep_dir}", *TINY)
  assert result.returncode == 0, result.stderr
  # The sweep is a study: its jobs, UDR groups and report, plus the
  # sweep's own table, plot and held-out reconstructions.
  assert {"study.json", "jobs", "udr", "results.csv", "report.md",
          "reconstruction", "sweep.csv", "sweep.png"} <= set(
              os.listdir(sweep_dir))
  assert sorted(os.listdir(os.path.join(sweep_dir, "udr"))) == [
      "dsprites__beta_vae__0.5.json", "dsprites__beta_vae__2.json"]
  rows = _rows(sweep_dir)
  assert len({r["run_dir"] for r in rows}) == 4
  assert [(r["beta"], r["seed"]) for r in rows] == [
      ("0.5", "0"), ("0.5", "1"), ("2.0", "0"), ("2.0", "1")]
  # UDR of each β's two seeds; the pick is the seed with the higher UDR.
  for beta in ("0.5", "2.0"):
    group = [r for r in rows if r["beta"] == beta]
    assert all(0.0 <= float(r["udr"]) <= 1.0 for r in group)
    picked = [r for r in group if r["udr_picked"] == "True"]
    assert len(picked) == 1
    assert float(picked[0]["udr"]) == max(float(r["udr"]) for r in group)
    assert (f"beta {float(beta):g}: UDR picks seed {picked[0]['seed']} "
            in result.stdout)
  for column in ("beta", "seed", "steps", "score", "reconstruction", "kl",
                 "wall_seconds", "udr_spearman"):
    assert column in rows[0]
  for row in rows:
    assert int(row["steps"]) == 3
    assert 0.0 <= float(row["score"]) <= 1.0
    assert float(row["reconstruction"]) > 0  # nats per held-out image
    assert float(row["kl"]) >= 0 and float(row["wall_seconds"]) > 0
    assert os.path.exists(os.path.join(row["export_path"], "saved_model.pb"))
  with Image.open(os.path.join(sweep_dir, "sweep.png")) as picture:
    array = np.asarray(picture.convert("RGB"))
  assert array.shape == (400, 700, 3) and array.std() > 10
  scores = {float(r["beta"]): float(r["score"]) for r in rows}
  best = max(scores, key=lambda b: (scores[b], -b))
  assert f"best beta: {best:g} " in result.stdout


@pytest.mark.slow
def test_rerun_skips_finished_runs(sweep_dir):
  summaries = glob.glob(os.path.join(sweep_dir, "jobs", "*", "run",
                                     "train_summary.json"))
  assert len(summaries) == 4
  udr_files = glob.glob(os.path.join(sweep_dir, "udr", "*.json"))
  assert len(udr_files) == 2
  udr_before = [os.stat(p).st_mtime_ns for p in udr_files]
  before = [os.stat(p).st_mtime_ns for p in summaries]
  rows_before = _rows(sweep_dir)
  result = _sweep(f"--sweep_dir={sweep_dir}", *TINY)
  assert result.returncode == 0, result.stderr
  assert "trained 0 run(s), skipped 4 finished run(s)" in result.stdout
  assert [os.stat(p).st_mtime_ns for p in summaries] == before
  assert [os.stat(p).st_mtime_ns for p in udr_files] == udr_before
  assert not glob.glob(os.path.join(sweep_dir, "jobs", "*", "exported",
                                    "model", "2"))
  assert _rows(sweep_dir) == rows_before
  # Other settings are another study: refused, naming what differs.
  other = _sweep(f"--sweep_dir={sweep_dir}", *TINY, "--steps=4")
  assert other.returncode == 2 and "steps" in other.stderr
  assert "--sweep_dir" in other.stderr


USAGE_ERRORS = [
    (["--betas=1,abc"], "--betas must be a comma-separated list of numbers"),
    (["--betas=-1"], "--beta must be >= 0"),
    (["--seeds=x"], "--seeds must be a comma-separated list of integers"),
    (["--dataset=celeb_a"], "celeb_a"),
    (["--metric=nope"], "metric"),
    (["--udr_num_points=3"], "--udr_num_points must be at least 10"),
]


@pytest.fixture(scope="module")
def usage_outcomes(tmp_path_factory, cases_in_one_process):
  root = tmp_path_factory.mktemp("usage")
  dirs = [root / f"case{i}" for i in range(len(USAGE_ERRORS))]
  for d in dirs:
    d.mkdir()
  outcomes = cases_in_one_process(
      SCRIPT, [[f"--sweep_dir={d}", *args]
               for d, (args, _) in zip(dirs, USAGE_ERRORS)], root)
  return dirs, outcomes


@pytest.mark.parametrize("index", range(len(USAGE_ERRORS)))
def test_usage_errors(usage_outcomes, index, one_usage_error):
  dirs, outcomes = usage_outcomes
  one_usage_error("sweep.py", *outcomes[index], USAGE_ERRORS[index][1])
  assert not os.listdir(dirs[index])


def test_usage_error_in_a_real_process(tmp_path, one_usage_error):
  result = _sweep(f"--sweep_dir={tmp_path}", "--betas=1,abc")
  one_usage_error("sweep.py", result.returncode, result.stderr,
                  "--betas must be a comma-separated list of numbers")
  assert not os.listdir(tmp_path)


def test_a_sweep_dir_in_use_exits_2_and_writes_nothing(
    dir_snapshot, tmp_path, one_usage_error):
  from tf_betavae import locking  # pylint: disable=g-import-not-at-top
  with locking.exclusive(str(tmp_path), "held by the test"):
    before = dir_snapshot(tmp_path)
    result = _sweep(f"--sweep_dir={tmp_path}", *TINY)
    assert dir_snapshot(tmp_path) == before
  one_usage_error("sweep.py", result.returncode, result.stderr,
                  f"sweep directory {tmp_path} is in use by pid "
                  f"{os.getpid()} on ")
  assert result.stderr.count("\n") == 1, result.stderr
