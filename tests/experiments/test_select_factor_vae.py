"""The select_factor_vae preset: UDR picks among another method's seeds.

Its settings (seeds per model, recipe, criterion), the UDR criterion a pick
follows, a selection check without a β-VAE pick, the report's wording and
the shipped record's criterion.
"""

import dataclasses

from absl import flags
import pytest

from tf_betavae import cli

from tf_betavae.experiments import evaluations
from tf_betavae.experiments import report
from tf_betavae.experiments import reproduce_command
from tf_betavae.experiments import paper_study
from tf_betavae.experiments import settings as settings_lib
from tf_betavae.experiments import shipping
from tf_betavae.experiments import udr
from tf_betavae.experiments import cache
from tf_betavae.studies import group_udr


def test_factor_vae_on_every_seed_the_rest_on_the_first(tmp_path):
  settings = settings_lib.settings_from_preset("select_factor_vae",
                                               str(tmp_path))
  assert settings.seeds == list(range(7)) and settings.selection_check
  assert settings.methods == {"factor_vae": 35.0}
  assert settings.udr_criterion == "udr_spearman"
  assert settings.recipe.latent_dim == 8 and settings.recipe.beta == 8.0
  assert settings.model_seeds("factor_vae") == list(range(7))
  for model in ("beta_vae", "vae", "pca", "ica", "pixels", "untrained"):
    assert settings.model_seeds(model) == [0], model
  configs = [settings.model_train_config(m, 0)
             for m in ("beta_vae", "vae", "factor_vae")]
  assert [c.latent_dim for c in configs] == [8, 8, 8]
  assert [c.method for c in configs] == ["beta_vae", "beta_vae",
                                         "factor_vae"]
  assert configs[2].factor_gamma == 35.0 and configs[2].steps == 20000
  # Nine runs in all: what the 3-hour budget is sized for.
  assert paper_study.paper_spec(settings).num_jobs == 9
  recorded = settings.to_dict()
  assert recorded["reference_beta_vae"] is True
  assert recorded["udr_criterion"] == "udr_spearman"


def test_the_other_presets_record_what_they_always_did(tmp_path):
  for name in ("cpu", "select", "quick", "gpu"):
    settings = settings_lib.settings_from_preset(name, str(tmp_path))
    recorded = settings.to_dict()
    assert "reference_beta_vae" not in recorded, name
    assert "udr_criterion" not in recorded, name
    assert settings.udr_criterion == "udr_lasso"
    assert settings.recipe == settings_lib.Recipe()
    assert settings.model_seeds("beta_vae") == settings.seeds


def test_given_recipe_settings_and_methods_override_the_preset(tmp_path):
  settings = settings_lib.settings_from_preset(
      "select_factor_vae", str(tmp_path), recipe_values={"latent_dim": 6},
      methods={"beta_tc_vae": 6.0}, num_seeds=3,
      udr_criterion="udr_lasso")
  assert settings.recipe.latent_dim == 6
  assert settings.methods == {"beta_tc_vae": 6.0}
  assert settings.model_seeds("beta_tc_vae") == [0, 1, 2]
  assert settings.model_seeds("beta_vae") == [0]
  assert settings.udr_criterion == "udr_lasso"
  # No methods given: the preset's stay.
  assert settings_lib.settings_from_preset(
      "select_factor_vae", str(tmp_path), methods={}).methods == {
          "factor_vae": 35.0}
  with pytest.raises(settings_lib.UsageError, match="udr_criterion"):
    settings_lib.settings_from_preset("select_factor_vae", str(tmp_path),
                                      udr_criterion="udr_mean")


def test_the_script_takes_the_preset_recipe_unless_a_flag_is_given(
    monkeypatch):
  # A preset whose recipe differs from every recipe flag's default: an
  # unset flag must leave it alone.
  monkeypatch.setitem(settings_lib.PRESETS, "select_factor_vae",
                      dataclasses.replace(
                          settings_lib.PRESETS["select_factor_vae"],
                          recipe={"latent_dim": 6}))

  def settings_of(*args):
    # The script's own flags, generated from ReproduceFlags as it does.
    values = flags.FlagValues()
    cli.define_config_flags(reproduce_command.ReproduceFlags,
                            flag_values=values, module_name="reproduce_test")
    values(["reproduce.py", *args])
    settings = reproduce_command.settings_of(cli.command_flags(
        reproduce_command.ReproduceFlags, ["reproduce.py"], values,
        info_logging=False))
    return [settings.recipe.latent_dim, settings.recipe.beta,
            settings.udr_criterion, sorted(settings.methods)]

  assert settings_of("--preset=select_factor_vae") == [
      6, 8.0, "udr_spearman", ["factor_vae"]]
  assert settings_of("--preset=select_factor_vae", "--latent_dim=10",
                     "--beta=4", "--udr_criterion=udr_lasso") == [
                         10, 4.0, "udr_lasso", ["factor_vae"]]
  assert settings_of("--preset=cpu") == [8, 8.0, "udr_lasso", []]
  assert settings_of("--preset=cpu", "--latent_dim=10") == [
      10, 8.0, "udr_lasso", []]


def _group_udr(study_dir, group, lasso, spearman, seeds):
  """A study's stored UDR of one group, as studies.group_udr writes it."""
  per_seed = {str(s): {"udr_lasso": l, "udr_spearman": r,
                       "informative_latents": 3}
              for s, l, r in zip(seeds, lasso, spearman)}
  cache.store(group_udr.udr_path(str(study_dir), group), {"exports": {}},
              {"per_seed": per_seed, "parameters": {}, "seconds": 2.5})


def test_the_pick_follows_the_criterion_of_one_stored_udr(tmp_path):
  # Lasso prefers seed 1, Spearman seed 2; seeds 0 and 2 tie on Lasso
  # below seed 1, seeds 0 and 1 tie on Spearman below seed 2.
  group = ("dsprites", "factor_vae", 35.0)
  _group_udr(tmp_path, group, [0.4, 0.6, 0.4], [0.3, 0.3, 0.5], range(3))
  lasso = settings_lib.Settings(work_dir=str(tmp_path), udr_num_points=100)
  spearman = settings_lib.Settings(work_dir=str(tmp_path),
                                   udr_num_points=100,
                                   udr_criterion="udr_spearman")
  first = udr.udr_of_group(lasso, str(tmp_path), group)
  assert (first["criterion"], first["picked_seed"], first["seconds"]) == (
      "udr_lasso", 1, 2.5)
  second = udr.udr_of_group(spearman, str(tmp_path), group)
  assert (second["criterion"], second["picked_seed"]) == ("udr_spearman", 2)
  assert second["per_seed"] == first["per_seed"]


def test_ties_go_to_the_lowest_seed(tmp_path):
  group = ("dsprites", "m", 1.0)
  _group_udr(tmp_path, group, [0.2, 0.5, 0.5], [0.5, 0.5, 0.1], (3, 7, 9))
  for criterion, picked in (("udr_lasso", 7), ("udr_spearman", 3)):
    settings = settings_lib.Settings(work_dir=str(tmp_path),
                                     udr_criterion=criterion)
    assert udr.udr_of_group(settings, str(tmp_path), group)[
        "picked_seed"] == picked


def test_a_group_without_a_stored_udr_is_an_error_that_says_so(tmp_path):
  settings = settings_lib.Settings(work_dir=str(tmp_path))
  with pytest.raises(RuntimeError, match="no UDR of"):
    udr.udr_of_group(settings, str(tmp_path), ("dsprites", "m", 1.0))


def _models_without_a_beta_vae_pick():
  factor_seeds = {str(s): {"scores": {"beta_vae_dl": 0.8 + s / 100,
                                      "mig": 0.3 + s / 100},
                           "training": {"export_path": f"f{s}", "step": 9}}
                  for s in range(3)}
  return {
      "beta_vae": {"label": "β-VAE",
                   "seeds": {"0": {"training": {"export_path": "b",
                                                "step": 9}}}},
      "factor_vae": {
          "label": "FactorVAE (γ = 35)", "seeds": factor_seeds,
          "summary": {"mig": {"mean": 0.31}, "beta_vae_dl": {"mean": 0.81}},
          "udr": {"picked_seed": 1, "criterion": "udr_spearman",
                  "per_seed": {s: {"udr_lasso": 0.4, "udr_spearman": 0.3,
                                   "informative_latents": 4}
                               for s in factor_seeds}}},
      "vae": {"label": "VAE (β = 1)",
              "seeds": {"0": {"training": {"export_path": "v", "step": 9}}}},
      "pca": {"label": "PCA", "seeds": {"0": {}}}}


def test_selection_check_without_a_beta_vae_pick(monkeypatch):
  scores = {"factor_vae_full_size": {"beta_vae_dl": 0.89, "mig": 0.36},
            "vae_full_size": {"beta_vae_dl": 0.78, "mig": 0.05},
            "pca_full_size": {"beta_vae_dl": 0.90, "mig": 0.06}}
  evaluated = []

  class FakeEvaluator:
    def __init__(self, settings, ground_truth, model, seed, source, build):
      del settings, ground_truth, source, build
      evaluated.append((model, seed))
      self.model = model

    def result(self, key):
      return {"score": scores[self.model][key]}

  monkeypatch.setattr(evaluations, "Evaluator", FakeEvaluator)
  models = _models_without_a_beta_vae_pick()
  settings = settings_lib.Settings(work_dir="unused",
                                   methods={"factor_vae": 35.0},
                                   reference_beta_vae=True)
  assert udr.has_picks(settings, models)
  result = udr.selection_check(settings, None, models)
  assert result["picked"] == {"factor_vae": 1, "vae": 0, "pca": 0}
  assert ("beta_vae_full_size", 0) not in evaluated
  assert [(c["model"], c["passed"]) for c in result["checks"]] == [
      ("factor_vae", True), ("factor_vae", True), ("factor_vae", True),
      ("factor_vae", False)]
  del models["factor_vae"]["udr"]
  assert not udr.has_picks(settings, models)


def test_the_report_names_the_criterion():
  models = _models_without_a_beta_vae_pick()
  for criterion, word in (("udr_spearman", "Spearman"),
                          (None, "Lasso")):
    settings = {"udr_num_points": 10000, "methods": {"factor_vae": 35.0}}
    if criterion:
      settings["udr_criterion"] = criterion
    results = {"models": models, "settings": settings,
               "udr_rank_correlations": {"mig": {"rho": 0.5, "n": 3}}}
    text = "\n".join(report.udr_lines(results))
    assert f"the seed with the highest UDR ({word})" in text
    assert f"Spearman rank correlation of UDR ({word}) with each metric" in (
        text)
    # Only the model with several seeds is ranked.
    assert "| FactorVAE (γ = 35) | 1 |" in text and "| β-VAE |" not in text


def test_the_shipped_record_names_the_criterion_of_the_pick():
  results = {"settings": {"preset": "select_factor_vae"},
             "models": _models_without_a_beta_vae_pick()}
  for model in results["models"].values():
    model["kind"] = "trained"
  for seed, entry in results["models"]["factor_vae"]["seeds"].items():
    entry["training"]["run_dir"] = f"/runs/seed{seed}"
  record = shipping.selection_record(results, "factor_vae", "/runs/seed1")
  assert record["criterion"] == "udr_spearman"
  del results["models"]["factor_vae"]["udr"]["criterion"]
  assert shipping.selection_record(results, "factor_vae", "/runs/seed1")[
      "criterion"] == "udr_lasso"


def test_the_intro_says_which_models_use_fewer_seeds():
  def intro(**settings):
    base = {"preset": "p", "steps": 10, "seeds": [0, 1, 2, 3],
            "dsprites_file": None}
    return report.intro_lines({"settings": dict(base, **settings)})[2]

  assert "seeds 0, 1, 2, 3 (the β-VAE, the VAE and the baselines: seed 0)," in (
      intro(reference_num_seeds=1, reference_beta_vae=True))
  assert "seeds 0, 1, 2, 3 (the VAE and the baselines: seeds 0, 1)," in (
      intro(reference_num_seeds=2))
  for settings in ({}, {"reference_num_seeds": None},
                   {"reference_num_seeds": 4}):
    assert "seeds 0, 1, 2, 3, dataset" in intro(**settings)
