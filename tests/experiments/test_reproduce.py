"""A reproduction's parts: evaluations (code tables change speed, not
scores), settings, analysis, UDR and report sections.

Runs ``evaluations.Evaluator`` in process on a small ground truth whose observations
are its factor values (60 distinct ones), with a numpy representation, so
scores with and without a table can be compared exactly.
"""

import os

import numpy as np
import pytest

from tf_betavae import io_utils
from tf_betavae import locking
from tf_betavae import training
from tf_betavae.experiments import analysis
from tf_betavae.experiments import evaluations
from tf_betavae.experiments import report
from tf_betavae.experiments import paper_study
from tf_betavae.experiments import settings as settings_lib
from tf_betavae.experiments import udr
from tf_betavae.studies import group_udr
from tf_betavae.studies import spec as spec_lib
from tf_betavae.studies import study_dir as study_dir_lib

GRID = (3, 4, 5)
METRIC_KEYS = ["beta_vae_dl", "mig", "factor_vae", "sap"]


class GridGroundTruth:
  """Factors on a 3 x 4 x 5 grid; an observation is its factor vector."""

  factors_num_values = list(GRID)
  num_factors = len(GRID)
  factor_names = ("a", "b", "c")
  observation_shape = (1, 1, len(GRID))
  num_observations = int(np.prod(GRID))

  def sample_factors(self, num, random_state):
    return np.stack([random_state.randint(n, size=num) for n in GRID],
                    axis=1).astype(np.int64)

  def sample_observations_from_factors(self, factors, random_state=None):
    del random_state
    return np.asarray(factors, np.float32).reshape(-1, 1, 1, len(GRID))

  def observation_index(self, factors):
    return np.ravel_multi_index(tuple(np.asarray(factors, np.int64).T), GRID)

  def observations_at(self, index):
    factors = np.stack(np.unravel_index(np.asarray(index, np.int64), GRID),
                       axis=1)
    return self.sample_observations_from_factors(factors)


class CountingRepresentation:
  """Factors 0 and 1 mixed into two codes, factor 2 alone; counts images."""

  def __init__(self):
    self.images = 0

  def __call__(self, images):
    self.images += len(images)
    f = np.asarray(images, np.float64).reshape(len(images), -1)
    codes = np.stack([f[:, 0] + 0.5 * f[:, 1], f[:, 1] - 0.3 * f[:, 0],
                      f[:, 2]], axis=1)
    return codes.astype(np.float32)


def _evaluate(tmp_path, code_table):
  settings = settings_lib.Settings(work_dir=str(tmp_path / code_table),
                                num_train=200, num_eval=100,
                                metrics=METRIC_KEYS, code_table=code_table)
  fn = CountingRepresentation()
  builds = []

  def build():
    builds.append(1)
    return fn

  evaluator = evaluations.Evaluator(
      settings, GridGroundTruth(), "beta_vae", 0, {"test": code_table},
      build)
  entry = evaluations.seed_entry(
      evaluator, list(GridGroundTruth.factor_names), None, METRIC_KEYS)
  return settings, evaluator, entry, fn, builds


def test_code_table_gives_the_same_scores_with_one_encoding_per_observation(
    tmp_path):
  _, never, plain, plain_fn, _ = _evaluate(tmp_path, "never")
  _, auto, tabled, tabled_fn, builds = _evaluate(tmp_path, "auto")
  assert tabled["scores"] == plain["scores"]
  assert 0.0 < tabled["scores"]["mig"] < 1.0  # neither trivial nor ideal
  planned = auto.planned_images(METRIC_KEYS)
  # beta_vae_dl (200 + 100) x 64 pairs x 2, factor_vae (200 + 100) x 64
  # + 200, mig 200, sap 200 + 100.
  assert planned == 38400 + 19400 + 200 + 300
  assert plain_fn.images == planned
  assert tabled_fn.images == 60 + 1  # every observation once, and a probe
  assert builds == [1]
  first, *rest = [auto.cached(k) for k in METRIC_KEYS]
  assert first["code_table"]["used"] and first["code_table"][
      "observations"] == 60
  assert first["setup_seconds"] >= first["code_table"]["build_seconds"]
  assert all("setup_seconds" not in r and r["code_table"]["used"]
             for r in rest)
  assert never.cached("mig")["code_table"] == {
      "used": False, "reason": "disabled", "planned_images": planned}
  assert tabled["setup_seconds"] == first["setup_seconds"]


def test_few_sampled_images_are_encoded_without_a_table(tmp_path):
  fn = CountingRepresentation()
  settings = settings_lib.Settings(work_dir=str(tmp_path), num_train=20,
                                num_eval=10, metrics=["mig"],
                                code_table="auto")
  evaluator = evaluations.Evaluator(
      settings, GridGroundTruth(), "beta_vae", 0, {"test": "auto"},
      lambda: fn)
  result = evaluator.result("mig")
  assert result["code_table"]["used"] is False
  assert "20 sampled images are fewer than 1 x 60" in result[
      "code_table"]["reason"]
  assert fn.images == 20 + 1  # the sampled images and the probe


def test_only_metrics_still_to_compute_are_planned(tmp_path, monkeypatch):
  from tf_betavae import metrics  # pylint: disable=g-import-not-at-top
  settings, _, _, _, _ = _evaluate(tmp_path, "auto")
  (tmp_path / "auto" / "evaluations" / "beta_vae" / "seed0" /
   "mig.json").unlink()
  planned = []
  real = metrics.tabulate_if_worth_it

  def spy(ground_truth, fn, planned_images, **kwargs):
    planned.append(planned_images)
    return real(ground_truth, fn, planned_images, **kwargs)

  monkeypatch.setattr(metrics, "tabulate_if_worth_it", spy)
  evaluator = evaluations.Evaluator(
      settings, GridGroundTruth(), "beta_vae", 0, {"test": "auto"},
      CountingRepresentation)
  entry = evaluations.seed_entry(
      evaluator, list(GridGroundTruth.factor_names), None, METRIC_KEYS)
  assert planned == [200]  # MIG's samples only
  assert entry["evaluations_computed"] == ["mig"]


def test_rerun_with_every_entry_cached_builds_nothing(tmp_path):
  settings, _, first, _, _ = _evaluate(tmp_path, "auto")
  builds = []
  evaluator = evaluations.Evaluator(
      settings, GridGroundTruth(), "beta_vae", 0, {"test": "auto"},
      lambda: builds.append(1))
  again = evaluations.seed_entry(
      evaluator, list(GridGroundTruth.factor_names), None, METRIC_KEYS)
  assert again["scores"] == first["scores"] and builds == []
  assert again["evaluations_reused"] == METRIC_KEYS


def test_unknown_code_table_mode_is_a_usage_error(tmp_path):
  with pytest.raises(settings_lib.UsageError, match="--code_table must be one "
                     "of auto, never, got 'always'"):
    settings_lib.validate(settings_lib.Settings(work_dir=str(tmp_path),
                                          code_table="always"))


def test_better_half_is_the_largest_half():
  np.testing.assert_array_equal(analysis.better_half([0.2, 0.9, 0.5]),
                                [0.9, 0.5])
  np.testing.assert_array_equal(analysis.better_half([0.3, 0.1, 0.4, 0.2]),
                                [0.4, 0.3])
  np.testing.assert_array_equal(analysis.better_half([0.7]), [0.7])


class DSpritesNamedGroundTruth(GridGroundTruth):
  """A small 5-factor grid carrying dSprites' factor names."""

  factors_num_values = [3, 2, 2, 3, 2]
  num_factors = 5
  factor_names = ("shape", "scale", "orientation", "pos_x", "pos_y")
  observation_shape = (1, 1, 5)
  num_observations = 72

  def sample_factors(self, num, random_state):
    return np.stack([random_state.randint(n, size=num)
                     for n in self.factors_num_values], axis=1).astype(
                         np.int64)

  def sample_observations_from_factors(self, factors, random_state=None):
    del random_state
    return np.asarray(factors, np.float32).reshape(-1, 1, 1, 5)


def test_paper_protocol_entries_label_four_and_five_factors(tmp_path):
  keys = ["beta_vae_paper", "beta_vae_paper_all"]
  settings = settings_lib.Settings(work_dir=str(tmp_path), num_train=300,
                                num_eval=150, metrics=keys,
                                code_table="never")
  # Codes of scale and position only (no shape, no orientation latent).
  fn = lambda images: np.asarray(images, np.float32).reshape(
      len(images), -1)[:, [1, 3, 4]]
  evaluator = evaluations.Evaluator(
      settings, DSpritesNamedGroundTruth(), "beta_vae", 0, {"test": 1},
      lambda: fn)
  entry = evaluations.seed_entry(
      evaluator, list(DSpritesNamedGroundTruth.factor_names), None, keys)
  four, five = (evaluator.cached(k) for k in keys)
  assert four["factors"] == ["scale", "orientation", "pos_x", "pos_y"]
  assert five["factors"] == list(DSpritesNamedGroundTruth.factor_names)
  assert entry["scores"]["beta_vae_paper"] == 1.0
  assert entry["scores"]["beta_vae_paper_all"] < 0.9
  assert evaluator.key("beta_vae_paper")["paper_factors"] == "auto"
  assert evaluator.key("beta_vae_paper_all")["classifier"] == (
      evaluations.PAPER_CLASSIFIER)
  # The converged classifier's training accuracy is recorded beside that
  # of LogisticRegression on the same examples.
  details = entry["details"]
  assert details["beta_vae_paper_all_lr_train_accuracy"] == pytest.approx(
      details["beta_vae_paper_all_train_accuracy"], abs=0.005)


def test_gap_to_paper_splits_protocol_and_training():
  def summary(values):
    best = analysis.better_half(values)
    return {"mean": float(np.mean(values)), "std": float(np.std(values)),
            "n": len(values), "better_half_mean": float(best.mean()),
            "better_half_n": len(best)}
  results = {"settings": {"steps": 20000}, "models": {"beta_vae": {
      "summary": {"beta_vae_paper": summary([0.96, 0.90, 0.99]),
                  "beta_vae_paper_all": summary([0.80, 0.75, 0.85])}}}}
  text = report.gap_to_paper(results)
  # five 80.0%, four 95.0%: 15.0 of 19.2 points are protocol; 4.2 remain
  # (1.7 for the better half, 97.5%).
  assert "from 80.0% to 95.0%" in text
  assert "15.0 of the 19.2 points" in text
  assert "remaining 4.2 points (1.7 for the better half of runs, 97.5%)" in (
      text)
  assert "lift every representation" not in text  # no baselines given
  results["models"]["pca"] = {"summary": {
      "beta_vae_paper": summary([0.99]), "beta_vae_paper_all": summary([0.8])}}
  results["models"]["beta_vae"]["summary"]["beta_vae_paper"] = summary(
      [1.0, 0.9, 1.0])
  text = report.gap_to_paper(results)
  assert "the better half of runs scores 100.0%, the paper's value" in text
  assert ("PCA 99.0% with four factors and 80.0% with five (paper: 84.90%)"
          in text)
  # Four factors at or above the paper (one seed of methods_results.md:
  # 85.3% and 99.3%): the factor set is the whole gap, not "14.0 of 13.9".
  results["models"]["beta_vae"]["summary"]["beta_vae_paper"] = summary(
      [0.993])
  results["models"]["beta_vae"]["summary"]["beta_vae_paper_all"] = summary(
      [0.853])
  text = report.gap_to_paper(results)
  assert "from 85.3% to 99.3% (mean over runs), the paper's 99.23% or more" in (
      text)
  assert "accounts for the whole 13.9 points" in text
  assert "remaining" not in text and "14.0 of" not in text
  results["models"]["beta_vae"]["summary"]["beta_vae_paper_all"] = summary(
      [0.995])
  text = report.gap_to_paper(results)
  assert "both are at or above the paper's 99.23%" in text
  assert "points" not in text.split("PCA")[0]
  del results["models"]["beta_vae"]["summary"]["beta_vae_paper_all"]
  assert report.gap_to_paper(results) is None


def _fake_exports():
  import os  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  sys.path.append(os.path.dirname(os.path.abspath(__file__)))
  import fake_exports  # pylint: disable=g-import-not-at-top
  return fake_exports


def test_the_study_udr_prefers_the_seeds_that_agree(tmp_path):
  """The paper study's UDR of a model's seeds, as a reproduction reads it:
  three fake exports, two of them one representation up to order, sign
  and scale."""
  fakes = _fake_exports()
  spec = spec_lib.StudySpec(name="udr", datasets=("dsprites",),
                            methods=(("beta_vae", (8.0,)),),
                            seeds=(0, 1, 2), udr_num_points=400)
  study_dir = str(tmp_path / "study")
  study_dir_lib.open_study(study_dir, spec)
  mixes = {0: fakes.IDENTITY, 1: fakes.ROTATED, 2: fakes.PERMUTED}
  for job in spec_lib.jobs(spec):
    export = fakes.save_fake_export(
        os.path.join(study_dir, "exports", str(job.seed), "1"),
        mixes[job.seed])
    study_dir_lib.mark_done(study_dir, job, {
        "export_path": os.path.relpath(export, study_dir)})
  group = ("dsprites", "beta_vae", 8.0)
  assert group_udr.run_udr_task(study_dir, *group)["state"] == "done"
  settings = settings_lib.Settings(work_dir=str(tmp_path), udr_num_points=400)
  first = udr.udr_of_group(settings, study_dir, group)
  per_seed = first["per_seed"]
  # Seeds 0 and 2 are one representation up to order, sign and scale.
  for seed in ("0", "2"):
    assert per_seed[seed]["udr_lasso"] > per_seed["1"]["udr_lasso"]
    assert per_seed[seed]["udr_spearman"] > per_seed["1"]["udr_spearman"]
    assert per_seed[seed]["informative_latents"] == 3
  assert first["picked_seed"] in (0, 2) and first["seconds"] > 0
  assert group_udr.run_udr_task(study_dir, *group)["state"] == "skipped"


def _models_with_udr():
  udr = {"0": 0.8, "1": 0.3, "2": 0.6}
  mig = {"0": 0.40, "1": 0.10, "2": 0.20}
  dl = {"0": 0.70, "1": 0.90, "2": 0.80}
  seeds = {s: {"scores": {"mig": mig[s], "beta_vae_dl": dl[s]}}
           for s in udr}
  return {"beta_vae": {
      "label": "β-VAE", "seeds": seeds,
      "summary": {"mig": {"mean": float(np.mean(list(mig.values())))},
                  "beta_vae_dl": {"mean": float(np.mean(list(dl.values())))}},
      "udr": {"per_seed": {s: {"udr_lasso": v, "udr_spearman": v / 2,
                               "informative_latents": 4}
                           for s, v in udr.items()},
              "picked_seed": 0}}}


def test_udr_rank_correlation_and_its_section():
  import scipy.stats  # pylint: disable=g-import-not-at-top
  models = _models_with_udr()
  correlations = udr.udr_rank_correlations(models)
  assert correlations["mig"] == {"rho": pytest.approx(1.0), "n": 3}
  assert correlations["beta_vae_dl"]["rho"] == pytest.approx(
      scipy.stats.spearmanr([0.8, 0.3, 0.6], [0.7, 0.9, 0.8])[0])
  results = {"models": models, "settings": {"udr_num_points": 10000},
             "udr_rank_correlations": correlations}
  text = "\n".join(report.udr_lines(results))
  assert "## Choosing without labels (UDR)" in text
  assert "| β-VAE | 0 | 0.800 | 0.400 | 4 | 0.700 | 0.400 | yes |" in text
  assert ("UDR picks seed 0: β-VAE metric (disentanglement_lib) 0.700 "
          "against 0.800") in text
  assert "MIG 0.400 against 0.233 (mean over seeds; best seed 0.400, worst 0.100)" in text
  assert "MIG +1.00" in text
  assert report.udr_lines({"models": {"vae": {}}}) == []


def test_selection_check_scores_the_picks_at_full_size(monkeypatch):
  evaluated = []

  class FakeEvaluator:
    def __init__(self, settings, ground_truth, model, seed, source, build):
      del ground_truth, source, build
      assert settings.num_train is None and settings.num_eval is None
      self.model, self.seed = model, seed

    def result(self, key):
      evaluated.append((self.model, self.seed, key))
      table = {"beta_vae_full_size": {"beta_vae_dl": 0.9, "mig": 0.3},
               "vae_full_size": {"beta_vae_dl": 0.95, "mig": 0.1},
               "pca_full_size": {"beta_vae_dl": 0.8, "mig": 0.05}}
      # As cached results say it: the seconds they took when computed.
      return {"score": table[self.model][key], "seconds": 10.0,
              "setup_seconds": 2.5 if key == "mig" else None}

  monkeypatch.setattr(evaluations, "Evaluator", FakeEvaluator)
  models = _models_with_udr()
  models["vae"] = {"seeds": {"0": {"training": {"export_path": "v",
                                                "step": 1}}}}
  models["pca"] = {"seeds": {"0": {}, "1": {}}}
  models["beta_vae"]["seeds"]["0"]["training"] = {"export_path": "b",
                                                  "step": 1}
  settings = settings_lib.Settings(work_dir="unused", num_train=2000)
  result = udr.selection_check(settings, None, models)
  assert result["picked"] == {"beta_vae": 0, "vae": 0, "pca": 0}
  assert ("beta_vae_full_size", 0, "mig") in evaluated
  assert result["compute_seconds"] == 3 * (10.0 + 10.0 + 2.5)
  assert [c["passed"] for c in result["checks"]] == [True, False, False,
                                                      True]
  assert "0.9000 vs 0.9500" in result["checks"][2]["detail"]


def test_selection_check_holds_every_methods_pick_to_the_targets(
    monkeypatch):
  # With --methods, the pick of each other method is scored at full size
  # and checked like the β-VAE's, under its own row label; the section of
  # docs/results.md lists it in the table's order.
  scores = {"beta_vae_full_size": {"beta_vae_dl": 0.86, "mig": 0.33},
            "factor_vae_full_size": {"beta_vae_dl": 0.93, "mig": 0.36},
            "vae_full_size": {"beta_vae_dl": 0.80, "mig": 0.1},
            "pca_full_size": {"beta_vae_dl": 0.82, "mig": 0.05}}
  evaluated = []

  class FakeEvaluator:
    def __init__(self, settings, ground_truth, model, seed, source, build):
      del settings, ground_truth, build
      evaluated.append((model, seed, source.get("export_path")))
      self.model = model

    def result(self, key):
      return {"score": scores[self.model][key]}

  monkeypatch.setattr(evaluations, "Evaluator", FakeEvaluator)
  models = _models_with_udr()
  models["beta_vae"]["seeds"]["0"]["training"] = {"export_path": "b",
                                                  "step": 1}
  factor = _models_with_udr()["beta_vae"]
  factor["label"] = "FactorVAE (γ = 35)"
  factor["udr"]["picked_seed"] = 2
  factor["seeds"]["2"]["training"] = {"export_path": "f2", "step": 1}
  models["factor_vae"] = factor
  models["vae"] = {"label": "VAE (β = 1)",
                   "seeds": {"0": {"training": {"export_path": "v",
                                                "step": 1}}}}
  models["pca"] = {"label": "PCA", "seeds": {"0": {}}}
  settings = settings_lib.Settings(work_dir="unused", num_train=2000,
                                   methods={"factor_vae": 35.0})
  result = udr.selection_check(settings, None, models)
  assert result["picked"] == {"beta_vae": 0, "factor_vae": 2, "vae": 0,
                              "pca": 0}
  assert ("factor_vae_full_size", 2, "f2") in evaluated
  checks = {c["name"]: (c["passed"], c["detail"]) for c in result["checks"]}
  assert len(checks) == 8
  assert [c["model"] for c in result["checks"]] == ["beta_vae"] * 4 + [
      "factor_vae"] * 4
  assert checks["UDR-picked FactorVAE (γ = 35) (seed 2) MIG at full size "
                "≥ 0.35"] == (True, "0.3600")
  assert checks["UDR-picked β-VAE (seed 0) MIG at full size ≥ 0.35"] == (
      False, "0.3300")
  assert checks["UDR-picked FactorVAE (γ = 35) beats PCA (seed 0) on the "
                "β-VAE metric (disentanglement_lib) at full size"] == (
                    True, "0.9300 vs 0.8200")
  results = {"models": models, "selection": result,
             "settings": {"udr_num_points": 10000,
                          "methods": {"factor_vae": 35.0}}}
  text = "\n".join(report.udr_lines(results))
  assert ("β-VAE seed 0: β-VAE metric (disentanglement_lib) 0.860, MIG "
          "0.330; VAE (β = 1) seed 0:") in text
  assert ("; FactorVAE (γ = 35) seed 2: β-VAE metric (disentanglement_lib) "
          "0.930, MIG 0.360; PCA seed 0") in text


def test_select_preset_uses_fewer_reference_seeds(tmp_path):
  settings = settings_lib.settings_from_preset("select", str(tmp_path))
  assert settings.seeds == [0, 1, 2, 3, 4] and settings.selection_check
  assert settings.model_seeds("beta_vae") == [0, 1, 2, 3, 4]
  for model in ("vae", "pca", "pixels"):
    assert settings.model_seeds(model) == [0, 1, 2]
  # Its jobs train what the cpu preset's do: the same job ids.
  cpu = settings_lib.settings_from_preset("cpu", str(tmp_path))
  for beta in (8.0, 1.0):
    assert spec_lib.job_id(paper_study.job_of_group(
        paper_study.paper_spec(settings), "beta_vae", beta, 0)) == (
            spec_lib.job_id(paper_study.job_of_group(
                paper_study.paper_spec(cpu), "beta_vae", beta, 0)))
  assert settings_lib.settings_from_preset("cpu", str(tmp_path)).model_seeds(
      "vae") == [0, 1, 2]
  one = settings_lib.settings_from_preset("select", str(tmp_path),
                                       reference_num_seeds=1)
  assert one.model_seeds("ica") == [0] and one.model_seeds("beta_vae") == [
      0, 1, 2, 3, 4]
  with pytest.raises(settings_lib.UsageError, match="reference_num_seeds"):
    settings_lib.settings_from_preset("select", str(tmp_path),
                                   reference_num_seeds=6)
  with pytest.raises(settings_lib.UsageError, match="udr_num_points"):
    settings_lib.settings_from_preset("quick", str(tmp_path), udr_num_points=5)


def test_a_run_whose_training_metrics_are_unknown_lists_every_latent(
    tmp_path):
  # A run killed after its last checkpoint and before its summary, then
  # rerun, trains no step and so has no training metrics: its factor list
  # covers every latent (active None) instead of failing.
  from tf_betavae.experiments import reproduce  # pylint: disable=g-import-not-at-top
  settings = settings_lib.settings_from_preset("quick", str(tmp_path))
  spec = paper_study.paper_spec(settings)
  study_dir = paper_study.study_dir(settings)
  kls = {"kl_latent_0": 2.0, "kl_latent_1": 0.001, "kl_latent_2": 0.5}
  entries = {}
  for job in spec_lib.jobs(spec):
    metrics = None if job.value == 8.0 else kls
    run_dir = os.path.join(study_dir_lib.job_dir(study_dir, job), "run")
    io_utils.write_json_atomic(
        os.path.join(run_dir, training.SUMMARY_FILE),
        {"step": 300, "metrics": metrics, "export_path": "x"})
    study_dir_lib.mark_done(study_dir, job, {
        "job_id": spec_lib.job_id(job), "model_num": job.model_num,
        "steps": 300, "export_path": "jobs/x/exported/model/1",
        "train_seconds": 1.25})
    entries[job.value] = reproduce._training_entry(study_dir, job, "skipped")
  assert entries[8.0]["final_metrics"] == {}
  assert entries[8.0]["active_latents"] is None
  assert entries[1.0]["active_latents"] == [0, 2]
  assert entries[1.0]["reused"] and entries[1.0]["train_seconds"] == 1.2
  assert entries[1.0]["export_path"] == os.path.join(
      os.path.abspath(study_dir), "jobs", "x", "exported", "model", "1")


def test_a_work_dir_in_use_is_refused_before_anything_is_written(
    dir_snapshot, tmp_path):
  from tf_betavae.experiments import reproduce  # pylint: disable=g-import-not-at-top
  settings = settings_lib.settings_from_preset("quick", str(tmp_path / "w"))
  with locking.exclusive(settings.work_dir, "held by the test"):
    before = dir_snapshot(settings.work_dir)
    with pytest.raises(locking.LockHeldError) as raised:
      reproduce.reproduce(settings)
    assert dir_snapshot(settings.work_dir) == before
  assert f"work dir {settings.work_dir} is in use by pid {os.getpid()} " in (
      str(raised.value))


class _StoredResults:
  """Stands in for an Evaluator: hands out fixed metric results."""

  def __init__(self, results):
    self._results = results
    self.computed, self.reused = [], list(results)

  def result(self, key):
    return self._results[key]


def test_seed_entry_keeps_the_beta_vae_metric_accuracy_per_factor():
  per_factor = {"shape": 0.6, "scale": 1.0}
  fresh = evaluations.seed_entry(
      _StoredResults({"beta_vae_dl": {
          "score": 0.8, "eval_confusion": {
              "factors": ["shape", "scale"], "counts": [[3, 2], [0, 5]],
              "accuracy_per_factor": per_factor}}}),
      ["shape", "scale"], None, ["beta_vae_dl"])
  assert fresh["details"]["beta_vae_dl_accuracy_per_factor"] == per_factor
  # A result cached before the metric recorded its confusion.
  cached = evaluations.seed_entry(
      _StoredResults({"beta_vae_dl": {"score": 0.8}}), ["shape", "scale"],
      None, ["beta_vae_dl"])
  assert cached["details"]["beta_vae_dl_accuracy_per_factor"] is None
  assert evaluations.seed_entry(
      _StoredResults({"mig": {"score": 0.1, "mutual_info": [[0.1]],
                              "factor_entropy": [1.0]}}),
      ["shape"], None, ["mig"])["details"][
          "beta_vae_dl_accuracy_per_factor"] is None
