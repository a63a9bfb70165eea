"""Evaluation and training jobs as small dataclasses; report sections."""

import dataclasses
import json
import os
import shutil

import pytest

from tf_betavae import io_utils
from tf_betavae.experiments import evaluations
from tf_betavae.experiments import report
from tf_betavae.experiments import paper_study
from tf_betavae.experiments import settings as settings_lib
from tf_betavae.studies import job as job_lib
from tf_betavae.studies import spec as spec_lib


def test_the_paper_study_trains_every_trained_model_and_seed(tmp_path):
  settings = settings_lib.settings_from_preset("select", str(tmp_path))
  spec = paper_study.paper_spec(settings)
  jobs = spec_lib.jobs(spec)
  assert [(j.method, j.value, j.seed) for j in jobs] == (
      [("beta_vae", 8.0, s) for s in range(5)]
      + [("beta_vae", 1.0, s) for s in range(3)])
  assert len({spec_lib.job_id(j) for j in jobs}) == len(jobs)
  # Each job trains exactly the configuration the table's model had.
  for model, method, value in paper_study.trained_groups(settings):
    for seed in settings.model_seeds(model):
      job = paper_study.job_of_group(spec, method, value, seed)
      assert (job_lib.train_config(job).to_dict()
              == settings.model_train_config(model, seed).to_dict())
  with pytest.raises(dataclasses.FrozenInstanceError):
    jobs[0].seed = 7


def test_the_paper_study_keeps_each_methods_own_settings(tmp_path):
  settings = settings_lib.settings_from_preset(
      "cpu", str(tmp_path), steps=100,
      recipe_values={"beta_hold_steps": 20, "beta_warmup_steps": 30},
      methods={"annealed_vae": 25.0, "factor_vae": 35.0})
  spec = paper_study.paper_spec(settings)
  for model, method, value in paper_study.trained_groups(settings):
    for seed in settings.model_seeds(model):
      job = paper_study.job_of_group(spec, method, value, seed)
      assert (job_lib.train_config(job).to_dict()
              == settings.model_train_config(model, seed).to_dict()), model
  # The VAE has no β warm-up; AnnealedVAE keeps its own learning rate.
  vae = job_lib.train_config(paper_study.job_of_group(spec, "beta_vae", 1.0,
                                                      0))
  assert (vae.beta_hold_steps, vae.beta_warmup_steps) == (0, 0)
  annealed = job_lib.train_config(paper_study.job_of_group(
      spec, "annealed_vae", 25.0, 0))
  assert annealed.learning_rate == 1e-4 and annealed.objective == "B"
  assert spec.metrics[:3] == ("beta_vae_paper", "beta_vae_paper_all",
                              "beta_vae")
  assert spec.sizes_of("mig") == (10000, None)
  assert spec.sizes_of("beta_vae") == (2000, 1000)


def test_evaluation_job_sources_name_the_representation(tmp_path):
  settings = settings_lib.settings_from_preset("quick", str(tmp_path))
  job = evaluations.EvaluationJob(
      "pca", 2, evaluations.baseline_source(settings, "pca", 2))
  assert job.source == {"baseline": "pca", "seed": 2, "dim": 8,
                        "num_fit": 1000}
  assert job.export_path is None and job.active is None
  trained = evaluations.trained_source("relative/export", 300)
  assert trained["step"] == 300 and trained["export_path"].startswith("/")
  assert evaluations.metric_sizes(settings, "pixels", "dci") == (100, 50)
  assert evaluations.metric_sizes(settings, "pca", "mig") == (2000, None)
  assert evaluations.metric_sizes(settings, "pca", "sap") == (300, 150)


def _results():
  check = {"name": "MIG mean ≥ 0.30", "passed": False, "detail": "0.1000"}
  return {"passed": False, "checks": [check],
          "settings": {"recipe": {"beta": 8.0, "objective": "H",
                                  "learning_rate": 0.001, "batch_size": 64,
                                  "arch": "conv", "latent_dim": 10,
                                  "likelihood": "bernoulli"},
                       "num_train": 300, "num_eval": None,
                       "pixel_sizes": {"dci": [100, 50]},
                       "metric_sizes": {"mig": [2000, None]},
                       "metric_seed": 0, "baseline_num_fit": 1000,
                       "code_table": "auto", "parallel_runs": 1},
          "machine": {"platform": "Linux", "cpu_count": 2,
                      "python": "3.x", "tensorflow": "2.x", "gpus": []},
          "package_version": "0.1.0", "wall_seconds": 61.2,
          "compute_seconds": 120.0, "trained": ["a", "b"],
          "evaluations_computed": 3, "evaluations_reused": 4}


def test_check_and_settings_sections():
  results = _results()
  lines = report.check_lines(results)
  assert lines == ["Targets (β-VAE): **not all passed**.",
                   "- FAIL — MIG mean ≥ 0.30: 0.1000", ""]
  text = "\n".join(report.settings_lines(results))
  assert text.startswith("## Settings")
  assert "β = 8, objective H, learning rate 0.001, batch 64" in text
  assert ("300 / full; mig 2000 / full; raw pixels: dci 100 / 50" in text)
  assert "2 CPUs" in text and "GPU: none" in text
  assert "2 run(s), 1 at a time" in text and "computed / reused: 3 / 4" in text
  assert "Where the compute time goes" not in text
  results["compute_seconds_split"] = {"training": 3000.0, "evaluation": 750.0,
                                      "udr": 50.0, "selection": 200.0}
  text = "\n".join(report.settings_lines(results))
  assert ("Where the compute time goes: training (every run's wall seconds, "
          "summed) 3,000 s (75%); metrics at the table's sizes 750 s (19%); "
          "UDR 50 s (1%); full-size scores of the UDR picks 200 s (5%).") in text


def test_command_section_and_json_path():
  lines = report.command_lines("python scripts/reproduce.py --preset=quick")
  assert lines[:5] == ["Command:", "", "```",
                       "python scripts/reproduce.py --preset=quick", "```"]
  assert "[recipe_search.md](recipe_search.md)" in lines[6]
  assert report.json_path_for("docs/results.md") == "docs/results.json"
  assert report.gap_lines({"models": {"beta_vae": {"summary": {}}}}) == []


def test_metric_accuracy_section_averages_the_seeds_that_recorded_it():
  results = {"settings": {}, "models": {
      "beta_vae": {"seeds": {
          0: {"details": {"beta_vae_dl_accuracy_per_factor":
                          {"shape": 0.5, "scale": 1.0, "orientation": None}}},
          1: {"details": {"beta_vae_dl_accuracy_per_factor":
                          {"shape": 0.7, "scale": 0.9, "orientation": 0.6}}},
          2: {"details": {"beta_vae_dl_accuracy_per_factor": None}}}},
      "vae": {"seeds": {0: {"details": {}}}},
      "pca": {"seeds": {}}, "ica": {"seeds": {}}, "pixels": {"seeds": {}},
      "untrained": {"seeds": {}}}}
  lines = report.metric_accuracy_lines(results)
  assert lines[0] == "## Where the β-VAE metric loses its points"
  body = [l for l in lines if l.startswith("- ")]
  assert body == ["- β-VAE: shape 0.60, scale 0.95, orientation 0.60 "
                  "(mean over 2 seed(s))"]
  for entry in results["models"]["beta_vae"]["seeds"].values():
    entry["details"]["beta_vae_dl_accuracy_per_factor"] = None
  assert report.metric_accuracy_lines(results) == []


def _preset_results(preset, tmp_path):
  """The settings entry reproduce() records for a preset, as JSON reads it
  back."""
  settings = settings_lib.settings_from_preset(preset, str(tmp_path))
  return {"settings": json.loads(json.dumps(
      io_utils.to_jsonable(settings.to_dict())))}


def test_title_names_what_the_preset_ran(tmp_path):
  paper = report.title(_preset_results("cpu", tmp_path))
  factor_vae = report.title(_preset_results("select_factor_vae", tmp_path))
  assert paper == "Reproduction: β-VAE on 2D shapes (dSprites)"
  assert factor_vae == ("FactorVAE selection (UDR over 7 seeds) on 2D shapes "
                        "(dSprites)")
  assert report.title(_preset_results("select", tmp_path)) == (
      "β-VAE selection (UDR over 5 seeds) on 2D shapes (dSprites)")
  # --methods adds rows: the title names them, in the registry's order
  # whatever order the JSON stored them in.
  results = _preset_results("cpu", tmp_path)
  results["settings"]["methods"] = {"factor_vae": 35.0, "annealed_vae": 25.0}
  assert report.title(results) == ("Reproduction: β-VAE, AnnealedVAE and "
                                   "FactorVAE on 2D shapes (dSprites)")
  assert report.intro_lines(results)[0] == "# " + report.title(results)


def test_rewrite_markdown_renders_a_saved_json_again(tmp_path):
  saved = os.path.join(os.path.dirname(os.path.dirname(
      os.path.dirname(os.path.abspath(__file__)))), "docs", "results.json")
  json_path = str(tmp_path / "results.json")
  shutil.copy(saved, json_path)
  results = io_utils.read_json(json_path)
  written = report.rewrite_markdown(json_path)
  assert written == str(tmp_path / "results.md")
  with open(written) as f:
    text = f.read()
  assert text == report.markdown(results, results["command"])
  assert text.startswith("# FactorVAE selection (UDR over 7 seeds)")
  del results["command"]
  io_utils.write_json_atomic(json_path, results)
  with pytest.raises(ValueError, match="records no command"):
    report.rewrite_markdown(json_path)
  report.rewrite_markdown(json_path, str(tmp_path / "other.md"),
                          command="python x.py")
  assert "python x.py" in (tmp_path / "other.md").read_text()


@pytest.mark.parametrize("name", ["results", "results_cpu", "methods_results"])
def test_docs_results_are_their_json_rendered(name):
  # Generated files are only generated: each docs/*results.md is what its
  # JSON renders to, so a change to the report reaches them by rendering.
  docs = os.path.join(os.path.dirname(os.path.dirname(
      os.path.dirname(os.path.abspath(__file__)))), "docs")
  results = io_utils.read_json(os.path.join(docs, name + ".json"))
  with open(os.path.join(docs, name + ".md")) as f:
    assert f.read() == report.markdown(results, results["command"])


def test_method_rows_follow_the_registry_whatever_the_json_order(tmp_path):
  results = _preset_results("cpu", tmp_path)
  results["settings"]["methods"] = {"factor_vae": 35.0, "annealed_vae": 25.0}
  keys = [key for key, _, _ in report._table_models(results)]  # pylint: disable=protected-access
  assert keys[2:4] == ["annealed_vae", "factor_vae"]
  (line,) = report._methods_lines(results["settings"])  # pylint: disable=protected-access
  assert line.startswith("- Other methods: AnnealedVAE (C_max = 25), "
                         "FactorVAE (γ = 35);")


def test_the_sampled_representation_reaches_the_study_and_the_report(
    tmp_path):
  settings = settings_lib.settings_from_preset("quick", str(tmp_path),
                                               representation="sampled")
  spec = paper_study.paper_spec(settings)
  assert spec.representations == ("sampled",)
  assert spec.score_keys()[:2] == ("beta_vae_paper:sampled",
                                   "beta_vae_paper_all:sampled")
  recorded = settings.to_dict()
  assert recorded["representation"] == "sampled"
  line = report._sizes_line(recorded)  # pylint: disable=protected-access
  assert "trained models scored on the sampled representation" in line
  mean = settings_lib.settings_from_preset("quick", str(tmp_path))
  assert "representation" not in mean.to_dict()  # as always recorded
  assert "sampled" not in report._sizes_line(mean.to_dict())  # pylint: disable=protected-access
  with pytest.raises(settings_lib.UsageError, match="--representation"):
    settings_lib.settings_from_preset("quick", str(tmp_path),
                                      representation="median")
