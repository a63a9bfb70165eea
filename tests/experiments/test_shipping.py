"""The selection record of a shipped export (experiments.shipping)."""

import math

import pytest

from tf_betavae.experiments import shipping


def _results(run_dirs, picked=2):
  """Results of a reproduction whose FactorVAE row has three seeds."""
  mig = [0.35, 0.21, 0.25]
  dl = [0.86, 0.92, 0.94]
  udr = [0.40, 0.45, 0.50]
  seeds = {str(s): {"scores": {"mig": mig[s], "beta_vae_dl": dl[s]},
                    "training": {"run_dir": run_dirs[s]}}
           for s in range(3)}
  factor = {"label": "FactorVAE (γ = 35)", "kind": "trained", "seeds": seeds,
            "udr": {"picked_seed": picked,
                    "per_seed": {str(s): {"udr_lasso": udr[s],
                                          "udr_spearman": udr[s] / 2,
                                          "informative_latents": 4 + s}
                                 for s in range(3)}}}
  label = "UDR-picked FactorVAE (γ = 35)"
  return {
      "command": "python scripts/reproduce.py --preset=select",
      "settings": {"preset": "select", "steps": 20000, "num_train": 2000,
                   "num_eval": 1000, "metric_sizes": {"mig": [10000, None]}},
      "models": {"factor_vae": factor,
                 "beta_vae": {"label": "β-VAE", "kind": "trained",
                              "seeds": {}},
                 "vae": {"label": "VAE (β = 1)", "kind": "trained",
                         "seeds": {}},
                 "pca": {"label": "PCA", "kind": "baseline", "seeds": {}}},
      "selection": {
          "picked": {"beta_vae": 0, "factor_vae": picked, "vae": 0,
                     "pca": 0},
          "scores": {"beta_vae": {"beta_vae_dl": 0.85, "mig": 0.3},
                     "factor_vae": {"beta_vae_dl": 0.95, "mig": 0.26},
                     "vae": {"beta_vae_dl": 0.78, "mig": 0.05},
                     "pca": {"beta_vae_dl": 0.82, "mig": 0.06}},
          "checks": [
              {"name": "UDR-picked β-VAE (seed 0) MIG at full size ≥ 0.35",
               "passed": False, "detail": "0.3000", "model": "beta_vae"},
              {"name": f"{label} (seed {picked}) MIG at full size ≥ 0.35",
               "passed": False, "detail": "0.2600", "model": "factor_vae"},
              {"name": f"{label} beats PCA (seed 0) on the β-VAE metric",
               "passed": True, "detail": "0.9500 vs 0.8200",
               "model": "factor_vae"}]}}


def test_record_of_the_picked_run(tmp_path):
  run_dirs = [str(tmp_path / f"seed{s}") for s in range(3)]
  record = shipping.selection_record(_results(run_dirs), "factor_vae",
                                     run_dirs[2] + "/")
  assert record["picked_seed"] == 2 and record["model"] == "factor_vae"
  assert record["criterion"] == "udr_lasso"
  assert (record["udr_lasso"], record["udr_spearman"],
          record["informative_latents"]) == (0.50, 0.25, 6)
  assert record["per_seed"]["0"]["scores"] == {"mig": 0.35,
                                               "beta_vae_dl": 0.86}
  # Population spread, computed here by hand.
  mean = (0.35 + 0.21 + 0.25) / 3
  std = math.sqrt(sum((v - mean) ** 2 for v in (0.35, 0.21, 0.25)) / 3)
  assert record["spread"]["mig"] == pytest.approx(
      {"mean": mean, "std": std, "min": 0.21, "max": 0.35, "n": 3})
  # The pick's full-size scores and the references', not the β-VAE's.
  assert set(record["full_size"]) == {"factor_vae", "vae", "pca"}
  assert record["full_size"]["factor_vae"] == {"beta_vae_dl": 0.95,
                                               "mig": 0.26}
  assert [c["detail"] for c in record["checks"]] == ["0.2600",
                                                     "0.9500 vs 0.8200"]
  assert record["table_sizes"]["num_train"] == 2000
  assert record["preset"] == "select" and record["steps"] == 20000
  assert record["command"] == "python scripts/reproduce.py --preset=select"


@pytest.mark.parametrize("model, run_index, fragment", [
    ("factor_vae", 0, "is not the run UDR picked for 'factor_vae': that is "
     "seed 2"),
    ("dip_vae_i", 2, "no trained model 'dip_vae_i'; they have beta_vae, "
     "factor_vae, vae"),
    ("pca", 2, "no trained model 'pca'"),
    ("beta_vae", 2, "no UDR for 'beta_vae'"),
])
def test_records_that_would_not_describe_the_run_are_refused(
    tmp_path, model, run_index, fragment):
  run_dirs = [str(tmp_path / f"seed{s}") for s in range(3)]
  with pytest.raises(shipping.SelectionRecordError, match=fragment):
    shipping.selection_record(_results(run_dirs), model,
                              run_dirs[run_index])
