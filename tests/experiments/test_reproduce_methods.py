"""Other methods in a reproduction: their rows, training settings, run
names and --methods parsing; results written before them still render."""

import json
import os

import pytest

from tf_betavae.experiments import report
from tf_betavae.experiments import paper_study
from tf_betavae.experiments import settings as settings_lib
from tf_betavae.models import methods as methods_lib
from tf_betavae.studies import job as job_lib
from tf_betavae.studies import spec as spec_lib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def test_default_values_are_one_per_method_and_valid(tmp_path):
  # The reproduction's extra rows are the unsupervised methods; the weakly
  # supervised ones train on pairs and have a study of their own.
  assert set(settings_lib.METHOD_VALUES) == set(methods_lib.METHODS) - {
      "beta_vae"} - set(methods_lib.WEAK_METHODS)
  settings = settings_lib.settings_from_preset(
      "cpu", str(tmp_path), methods=dict(settings_lib.METHOD_VALUES))
  for method, value in settings_lib.METHOD_VALUES.items():
    config = settings.model_train_config(method, 0)
    config.validate()
    assert getattr(config, methods_lib.METHODS[method].hyperparameter) == value


def test_method_rows_follow_the_vae_and_are_labelled_with_their_value():
  rows = settings_lib.table_models({"factor_vae": 20.0, "beta_tc_vae": 6.0})
  assert [(key, label) for key, label, _ in rows[:4]] == [
      ("beta_vae", "β-VAE"), ("vae", "VAE (β = 1)"),
      ("factor_vae", "FactorVAE (γ = 20)"),
      ("beta_tc_vae", "β-TCVAE (β = 6)")]
  assert [key for key, _, _ in rows[4:]] == [
      "pca", "ica", "pixels", "untrained"]
  assert settings_lib.table_models() == settings_lib.MODELS
  assert settings_lib.method_label("annealed_vae", 25) == (
      "AnnealedVAE (C_max = 25)")
  assert settings_lib.method_label("dip_vae_ii", 5) == "DIP-VAE-II (λ_od = 5)"


def test_methods_train_with_the_beta_vae_recipe_seeds_and_steps(tmp_path):
  settings = settings_lib.settings_from_preset(
      "select", str(tmp_path), steps=1234,
      methods={"factor_vae": 20.0, "annealed_vae": 5.0},
      recipe=settings_lib.Recipe(learning_rate=3e-4, gamma=500.0,
                                 capacity_steps=700))
  assert settings.model_seeds("factor_vae") == settings.model_seeds(
      "beta_vae") == [0, 1, 2, 3, 4]
  beta = settings.model_train_config("beta_vae", 3)
  factor = settings.model_train_config("factor_vae", 3)
  for name in ("learning_rate", "batch_size", "arch", "latent_dim",
               "likelihood", "steps", "seed", "dataset", "lr_decay"):
    assert getattr(factor, name) == getattr(beta, name), name
  assert (factor.method, factor.objective, factor.factor_gamma) == (
      "factor_vae", "H", 20.0)
  annealed = settings.model_train_config("annealed_vae", 0)
  assert (annealed.method, annealed.objective, annealed.capacity_max,
          annealed.gamma, annealed.capacity_steps) == (
              "annealed_vae", "B", 5.0, 500.0, 700)
  # Not the recipe's rate: AnnealedVAE learns nothing at the β-VAE's 1e-3.
  assert annealed.learning_rate == methods_lib.ANNEALED_VAE_LEARNING_RATE
  assert annealed.learning_rate != beta.learning_rate
  both = report._methods_lines(  # pylint: disable=protected-access
      {"methods": {"factor_vae": 20.0, "annealed_vae": 5.0}})
  assert "AnnealedVAE trains at its own Adam rate 0.0001" in both[0]
  factor_only = report._methods_lines(  # pylint: disable=protected-access
      {"methods": {"factor_vae": 20.0}})
  assert "own Adam rate" not in factor_only[0]
  spec = paper_study.paper_spec(settings)
  jobs = spec_lib.jobs(spec)
  assert [(j.method, j.value, j.seed) for j in jobs] == (
      [("beta_vae", 8.0, s) for s in range(5)]
      + [("beta_vae", 1.0, s) for s in range(3)]
      + [("factor_vae", 20.0, s) for s in range(5)]
      + [("annealed_vae", 5.0, s) for s in range(5)])
  factor = job_lib.train_config(paper_study.job_of_group(
      spec, "factor_vae", 20.0, 0))
  assert (factor.learning_rate, factor.arch, factor.latent_dim) == (
      0.0003, "broadcast", 8)


def _job_id(settings, method, value, seed=0):
  return spec_lib.job_id(paper_study.job_of_group(
      paper_study.paper_spec(settings), method, value, seed))


def test_job_ids_separate_methods_and_values(tmp_path):
  settings = settings_lib.settings_from_preset(
      "cpu", str(tmp_path), methods={"dip_vae_i": 10.0, "dip_vae_ii": 10.0})
  ids = {_job_id(settings, m, v) for m, v in (
      ("beta_vae", 8.0), ("dip_vae_i", 10.0), ("dip_vae_ii", 10.0))}
  assert len(ids) == 3
  other = settings_lib.settings_from_preset(
      "cpu", str(tmp_path), methods={"dip_vae_i": 20.0})
  assert _job_id(other, "dip_vae_i", 20.0) not in ids
  # The β-VAE's jobs do not depend on the rows beside it.
  plain = settings_lib.settings_from_preset("cpu", str(tmp_path))
  assert _job_id(settings, "beta_vae", 8.0) == _job_id(plain, "beta_vae",
                                                       8.0)


def test_settings_without_methods_record_what_they_always_did(tmp_path):
  plain = settings_lib.settings_from_preset("quick", str(tmp_path))
  assert "methods" not in plain.to_dict()
  with_methods = settings_lib.settings_from_preset(
      "quick", str(tmp_path), methods={"beta_tc_vae": 6.0})
  assert with_methods.to_dict()["methods"] == {"beta_tc_vae": 6.0}


def test_parse_methods_takes_defaults_and_overrides():
  assert settings_lib.parse_methods(["factor_vae", " beta_tc_vae"]) == {
      "factor_vae": 35.0, "beta_tc_vae": 6.0}
  parsed = settings_lib.parse_methods(["dip_vae_i", "factor_vae"],
                                      ["factor_vae:20"])
  assert parsed == {"dip_vae_i": 10.0, "factor_vae": 20.0}
  assert list(parsed) == ["dip_vae_i", "factor_vae"]
  assert settings_lib.parse_methods([]) == {}


@pytest.mark.parametrize("methods, values, message", [
    (["factor_vae", "factor_vae"], [], "--methods has duplicates"),
    ([], ["factor_vae:20"], "not a method of --methods (none given)"),
    (["factor_vae"], ["factor_vae=20"], "takes method:value pairs"),
    (["factor_vae"], ["factor_vae:x"], "takes method:value pairs"),
    (["factor_vae"], ["dip_vae_i:2"], "'dip_vae_i' is not a method of"),
    (["factor_vae"], ["factor_vae:2", "factor_vae:3"], "is given twice"),
])
def test_parse_methods_refuses_bad_input(methods, values, message):
  with pytest.raises(settings_lib.UsageError, match=message.replace(
      "(", r"\(").replace(")", r"\)")):
    settings_lib.parse_methods(methods, values)


def test_an_out_of_range_value_is_a_usage_error(tmp_path):
  with pytest.raises(settings_lib.UsageError,
                     match="--method_values factor_vae:-1: --factor_gamma "
                           "must be a finite number >= 0"):
    settings_lib.settings_from_preset("quick", str(tmp_path),
                                      methods={"factor_vae": -1.0})
  for methods, message in ((["beta_vea"], "unknown method 'beta_vea'"),
                           (["beta_vae"], "the β-VAE row is always in")):
    with pytest.raises(settings_lib.UsageError, match=message):
      settings_lib.settings_from_preset(
          "quick", str(tmp_path),
          methods=settings_lib.parse_methods(methods))


@pytest.mark.parametrize("name", ["results", "results_cpu"])
def test_published_results_render_as_they_were_written(name):
  """docs/<name>.json renders to docs/<name>.md, which the same command
  wrote beside it (results of earlier versions of the package included)."""
  json_path = os.path.join(ROOT, "docs", name + ".json")
  md_path = os.path.join(ROOT, "docs", name + ".md")
  if not (os.path.exists(json_path) and os.path.exists(md_path)):
    pytest.skip("no published reproduction in docs/")
  with open(json_path) as f:
    results = json.load(f)
  with open(md_path) as f:
    markdown = f.read()
  lines = markdown.splitlines()
  command = lines[lines.index("Command:") + 3]
  rendered = report.markdown(results, command)
  # The tables (scores, UDR) line for line, and every section.
  table = [l for l in lines if l.startswith("| ")]
  assert [l for l in rendered.splitlines() if l.startswith("| ")] == table
  headings = [l for l in lines if l.startswith("#")]
  assert [l for l in rendered.splitlines() if l.startswith("#")] == headings
