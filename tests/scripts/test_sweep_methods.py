"""scripts/sweep.py over another method's hyperparameter: a tiny FactorVAE
sweep end to end, and the usage errors of --method, --values and the
methods' settings."""

import csv
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "sweep.py")
TINY = ["--seeds=0,1", "--steps=3", "--batch_size=8", "--udr_num_points=200",
        "--latent_dim=3", "--metric=beta_vae", "--num_train=10",
        "--num_eval=6", "--num_reconstruction_images=16"]


def _sweep(*args):
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
  return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True,
                        text=True, env=env, cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def factor_vae_sweep(tmp_path_factory):
  sweep_dir = tmp_path_factory.mktemp("factor_vae_sweep")
  result = _sweep(f"--sweep_dir={sweep_dir}", "--method=factor_vae",
                  "--values=10,20", "--discriminator_learning_rate=2e-4",
                  *TINY)
  rows = []
  if os.path.exists(sweep_dir / "sweep.csv"):
    with open(sweep_dir / "sweep.csv", newline="") as f:
      rows = list(csv.DictReader(f))
  return sweep_dir, result, rows


# The FactorVAE sweep is a second real sweep (about a minute on 2 cores);
# tests/scripts/test_sweep.py runs one in the default run, and
# tests/experiments/test_sweep_settings.py checks each method's settings.
@pytest.mark.slow
def test_each_value_and_seed_is_a_job_of_the_sweeps_study(
    factor_vae_sweep):
  sweep_dir, result, rows = factor_vae_sweep
  assert result.returncode == 0, result.stderr[-3000:]
  with open(sweep_dir / "study.json") as f:
    study = json.load(f)
  assert study["name"] == "sweep_factor_vae"
  assert study["methods"] == [["factor_vae", [10.0, 20.0]]]
  assert study["metrics"] == ["beta_vae"] and study["seeds"] == [0, 1]
  assert sorted(os.listdir(sweep_dir / "udr")) == [
      "dsprites__factor_vae__10.json", "dsprites__factor_vae__20.json"]
  assert len(os.listdir(sweep_dir / "jobs")) == 4
  for gamma in (10, 20):
    for seed in (0, 1):
      (row,) = [r for r in rows
                if (float(r["value"]), int(r["seed"])) == (gamma, seed)]
      with open(os.path.join(row["run_dir"], "run_config.json")) as f:
        config = json.load(f)
      # The swept value, the seed, and the method's own setting passed on.
      assert config["method"] == "factor_vae" and config["seed"] == seed
      assert config["factor_gamma"] == gamma
      assert config["discriminator_learning_rate"] == 2e-4
      assert config["steps"] == 3


@pytest.mark.slow  # shares the FactorVAE sweep above
def test_csv_names_the_method_and_hyperparameter(factor_vae_sweep):
  _, result, rows = factor_vae_sweep
  assert result.returncode == 0, result.stderr[-3000:]
  assert [(r["value"], r["seed"]) for r in rows] == [
      ("10.0", "0"), ("10.0", "1"), ("20.0", "0"), ("20.0", "1")]
  assert {(r["method"], r["hyperparameter"]) for r in rows} == {
      ("factor_vae", "factor_gamma")}
  assert {r["beta"] for r in rows} == {""}  # FactorVAE reads no β
  for value in ("10.0", "20.0"):
    group = [r for r in rows if r["value"] == value]
    picked = [r for r in group if r["udr_picked"] == "True"]
    assert len(picked) == 1
    assert float(picked[0]["udr"]) == max(float(r["udr"]) for r in group)
    assert (f"factor_gamma {float(value):g}: UDR picks seed "
            f"{picked[0]['seed']} " in result.stdout)
  scores = {}
  for row in rows:
    scores.setdefault(float(row["value"]), []).append(float(row["score"]))
  means = {v: sum(s) / len(s) for v, s in scores.items()}
  best = max(means, key=lambda v: (means[v], -v))
  assert f"best factor_gamma: {best:g} " in result.stdout


# About 20 s (a process start); tests/scripts/test_sweep.py checks that a
# rerun skips finished runs in the default run.
@pytest.mark.slow
def test_a_rerun_of_the_method_sweep_skips_every_run(factor_vae_sweep):
  sweep_dir, result, rows = factor_vae_sweep
  assert result.returncode == 0, result.stderr[-3000:]
  rerun = _sweep(f"--sweep_dir={sweep_dir}", "--method=factor_vae",
                 "--values=10,20", "--discriminator_learning_rate=2e-4",
                 *TINY)
  assert rerun.returncode == 0, rerun.stderr[-3000:]
  assert "trained 0 run(s), skipped 4 finished run(s)" in rerun.stdout
  with open(sweep_dir / "sweep.csv", newline="") as f:
    assert list(csv.DictReader(f)) == rows


USAGE_ERRORS = [
    (["--method=nope"], "--method: unknown method 'nope'"),
    (["--method=factor_vae", "--values=10,-1"],
     "--factor_gamma must be a finite number >= 0, got -1.0"),
    (["--method=dip_vae_i", "--values=nan"],
     "--lambda_od must be a finite number >= 0"),
    (["--method=annealed_vae", "--values=-5"], "--capacity_max must be >= 0"),
    (["--method=beta_tc_vae", "--values=inf"], "--beta must be a finite"),
    (["--method=factor_vae", "--betas=1,2"], "--betas is the β-VAE's"),
    (["--values=1", "--betas=2"], "give --values or --betas, not both"),
    (["--values=1,x"], "--values must be a comma-separated list of numbers"),
    (["--values="], "--values is empty"),
    (["--method=factor_vae", "--values=1,1.0000001"],
     "are both 1 with 6 significant digits"),
    (["--method=factor_vae", "--lambda_d_factor=2"],
     "--lambda_d_factor is a setting of dip_vae_i, dip_vae_ii, not of "
     "--method=factor_vae"),
    (["--gamma=10"], "--gamma is a setting of annealed_vae, not of "
                     "--method=beta_vae"),
    (["--method=dip_vae_ii", "--capacity_steps=10"],
     "--capacity_steps is a setting of annealed_vae"),
    (["--method=factor_vae", "--discriminator_learning_rate=0"],
     "--discriminator_learning_rate must be > 0"),
    (["--method=annealed_vae", "--capacity_steps=0"],
     "--capacity_steps must be a positive integer"),
    (["--study", "--steps=0"], "--steps must be a positive integer"),
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
def test_bad_method_input_exits_2_and_writes_nothing(usage_outcomes, index,
                                                     one_usage_error):
  dirs, outcomes = usage_outcomes
  one_usage_error("sweep.py", *outcomes[index], USAGE_ERRORS[index][1])
  assert not os.listdir(dirs[index])


def test_a_setting_of_another_method_in_a_real_process(tmp_path,
                                                       one_usage_error):
  result = _sweep(f"--sweep_dir={tmp_path / 'new'}", "--method=dip_vae_i",
                  "--discriminator_learning_rate=1e-3")
  one_usage_error("sweep.py", result.returncode, result.stderr,
                  "--discriminator_learning_rate is a setting of factor_vae, "
                  "not of --method=dip_vae_i")
  assert not os.path.exists(tmp_path / "new")
