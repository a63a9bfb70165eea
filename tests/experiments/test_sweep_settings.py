"""What a sweep is: its values, its base settings (the study preset
included), its run names, and its CSV read back (older ones too)."""

import csv

import pytest

from tf_betavae import training
from tf_betavae.experiments import sweep
from tf_betavae.experiments import sweep_settings
from tf_betavae.models import methods as methods_lib
from tf_betavae.training import presets


def test_values_default_to_1_4_16_for_beta_vae_and_the_grid_otherwise():
  assert sweep_settings.sweep_values("beta_vae") == [1.0, 4.0, 16.0]
  assert sweep_settings.sweep_values("beta_vae", study=True) == [
      1.0, 2.0, 4.0, 6.0, 8.0, 16.0]
  for name, method in methods_lib.METHODS.items():
    if name != "beta_vae":
      assert sweep_settings.sweep_values(name) == [
          float(v) for v in method.study_grid]
  # Given values (or the β-VAE's --betas) win over both.
  assert sweep_settings.sweep_values("factor_vae", [5.0], study=True) == [5.0]
  assert sweep_settings.sweep_values("beta_vae", betas=[2.0]) == [2.0]
  with pytest.raises(sweep_settings.UsageError, match="--betas is the"):
    sweep_settings.sweep_values("beta_tc_vae", betas=[2.0])


def test_axis_labels_name_the_hyperparameter():
  assert sweep_settings.axis_label("beta_vae") == "β"
  assert sweep_settings.axis_label("factor_vae") == "γ (factor_gamma)"


def test_study_takes_the_preset_and_explicit_settings_win():
  study = presets.PRESETS["study"]
  base, _ = sweep_settings.prepare(None, [1.0], "dsprites",
                                   method="dip_vae_i", study=True)
  for name, value in study.items():
    assert getattr(base, name) == value, name
  assert (base.batch_size, base.learning_rate, base.steps, base.latent_dim,
          base.arch, base.likelihood) == (64, 1e-4, 300000, 10, "conv",
                                          "bernoulli")
  assert base.method == "dip_vae_i" and base.objective == "H"
  tiny, _ = sweep_settings.prepare(5, [1.0], "dsprites", method="dip_vae_i",
                                   study=True, learning_rate=1e-3,
                                   lambda_d_factor=3.0)
  assert (tiny.steps, tiny.learning_rate, tiny.lambda_d_factor) == (
      5, 1e-3, 3.0)
  assert tiny.checkpoint_every == 5 and tiny.log_every == 5  # capped
  assert tiny.batch_size == 64  # still the study's
  plain, _ = sweep_settings.prepare(None, [1.0], "dsprites")
  assert (plain.steps, plain.learning_rate) == (sweep_settings.DEFAULT_STEPS,
                                                5e-4)


def test_annealed_vae_is_objective_b_and_each_run_gets_its_value():
  base, _ = sweep_settings.prepare(7, [5.0, 10.0], "dsprites",
                                   method="annealed_vae", gamma=100.0,
                                   capacity_steps=50)
  assert base.objective == "B" and base.method == "annealed_vae"
  run = sweep_settings.with_value(base, 10.0, seed=3)
  assert (run.capacity_max, run.seed, run.gamma, run.capacity_steps) == (
      10.0, 3, 100.0, 50)
  run.validate()
  # Its own rate unless one is given (TrainConfig's 5e-4 learns nothing).
  assert base.learning_rate == methods_lib.ANNEALED_VAE_LEARNING_RATE
  given, _ = sweep_settings.prepare(7, [5.0], "dsprites",
                                    method="annealed_vae", learning_rate=1e-3)
  assert given.learning_rate == 1e-3
  factor, _ = sweep_settings.prepare(7, [5.0], "dsprites",
                                     method="factor_vae")
  assert factor.learning_rate == training.TrainConfig().learning_rate


def _write_old_csv(path):
  """A sweep.csv as sweeps wrote it before other methods existed."""
  old_columns = ("beta", "seed", "steps", "metric", "score", "reconstruction",
                 "train_reconstruction", "kl", "active_latents",
                 "wall_seconds", "run_dir", "export_path", "udr",
                 "udr_spearman", "udr_picked")
  with open(path, "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(old_columns)
    writer.writerow(["4.0", "0", "10", "mig", "0.2", "30.5", "31.0", "20.0",
                     "5", "60.0", "runs/beta4_seed0", "e/1", "", "",
                     "False"])


def test_an_older_csv_reads_as_a_beta_vae_sweep(tmp_path):
  path = str(tmp_path / "sweep.csv")
  _write_old_csv(path)
  (row,) = sweep.read_csv(path)
  assert (row["method"], row["hyperparameter"], row["value"]) == (
      "beta_vae", "beta", 4.0)
  assert row["beta"] == 4.0 and row["udr"] is None and not row["udr_picked"]
  # Written again it gains the columns, and reads back the same.
  sweep.write_csv([row], path)
  assert sweep.read_csv(path) == [row]


def test_rows_group_by_value_and_the_beta_column_is_empty_without_beta(
    tmp_path):
  rows = [{"beta": None, "method": "factor_vae",
           "hyperparameter": "factor_gamma", "value": value, "seed": seed,
           "steps": 3, "metric": "mig", "score": score,
           "reconstruction": 10.0, "train_reconstruction": 11.0, "kl": 1.0,
           "active_latents": 1, "wall_seconds": 1.0, "run_dir": "r",
           "export_path": "e", "udr": None, "udr_spearman": None,
           "udr_picked": False}
          for value, seed, score in ((10.0, 0, 0.1), (10.0, 1, 0.3),
                                     (20.0, 0, 0.25))]
  summary = sweep.summarize(rows)
  assert [(s["value"], s["num_seeds"]) for s in summary] == [(10.0, 2),
                                                             (20.0, 1)]
  assert sweep.best_value(rows)["value"] == 20.0
  path = str(tmp_path / "sweep.csv")
  sweep.write_csv(rows, path)
  with open(path, newline="") as f:
    assert {r["beta"] for r in csv.DictReader(f)} == {""}
  assert [r["value"] for r in sweep.read_csv(path)] == [10.0, 10.0, 20.0]
  lines = sweep.summary_lines(
      {"method": "factor_vae", "hyperparameter": "factor_gamma",
       "rows": rows, "csv": path, "plot": "p", "udr_picks": {},
       "trained": [], "skipped": [], "best": sweep.best_value(rows)}, "mig")
  assert lines[-1].startswith("best factor_gamma: 20 (mig score 0.2500")
