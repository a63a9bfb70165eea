"""tf_betavae.experiments.weak_comparison: the spec and the pure functions.

Nothing here trains: the summary, checks, best seed and report are tested
on hand-made job records (tests/scripts/test_weak_supervision.py runs the
script end to end).
"""

import json
import os

import pytest

from tf_betavae.experiments import weak_comparison as wc
from tf_betavae.models import methods as methods_lib
from tf_betavae.studies import spec as spec_lib
from tf_betavae.training import presets

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SHIPPED = {"path": "exported/dsprites/2", "beta_vae": 0.885, "mig": 0.371}


def _record(method, seed, beta_vae, mig, shape_nmi, beta=8.0):
  """A finished job's record: latent 0 carries shape at ``shape_nmi``,
  latent 1 pos_x at 0.5, latent 2 nothing (inactive)."""
  return {
      "method": method, "beta": beta, "seed": seed,
      "scores": {"beta_vae": beta_vae, "mig": mig},
      # Every factor's entropy 1 nat, so NMI = mutual information.
      "mig_result": {"mutual_info": [[shape_nmi, 0.0, 0.0, 0.0, 0.0],
                                     [0.0, 0.0, 0.0, 0.5, 0.0],
                                     [0.01, 0.0, 0.0, 0.0, 0.0]],
                     "factor_entropy": [1.0] * 5},
      "train_metrics": {"kl_latent_0": 2.0, "kl_latent_1": 1.5,
                        "kl_latent_2": 0.01},
      "seconds": 100.0 + seed, "export_path": f"/x/{method}/{seed}/1",
      "run_dir": f"/x/{method}/{seed}/run"}


def _passing_records():
  ada = [_record("ada_gvae", s, 0.92 + 0.01 * s, 0.41 + 0.01 * s, 0.5)
         for s in range(5)]
  return ada + [_record("beta_vae", s, 0.85, 0.30, 0.3) for s in range(3)]


def _met(check_list):
  return {c["key"]: c["met"] for c in check_list}


# The spec.


def test_default_spec_trains_the_comparison():
  spec = wc.comparison_spec(cpu_count=4)
  assert spec.name == "weak_comparison"
  assert spec.datasets == ("dsprites",)
  assert dict(spec.methods) == {"ada_gvae": (8.0,), "ada_ml_vae": (8.0,),
                                "group_vae": (8.0,), "beta_vae": (8.0,)}
  assert spec.steps == 20000
  assert spec.metrics == ("beta_vae", "mig")
  assert spec.metric_sizes == ()  # disentanglement_lib's full sizes
  assert spec.threads_per_job == 4
  jobs = spec_lib.jobs(spec)
  assert len(jobs) == 5 + 3 * 3 == spec.num_jobs
  seeds = {}
  for job in jobs:
    seeds.setdefault(job.method, []).append(job.seed)
    settings = job.settings
    for name in ("arch", "latent_dim", "learning_rate"):
      assert settings[name] == presets.CPU_RECIPE[name]
    assert settings["batch_size"] == 64
    assert settings["steps"] == 20000
    if job.method in methods_lib.WEAK_METHODS:
      assert settings["k"] == -1
    else:
      assert "k" not in settings  # the β-VAE refuses a weak setting
      assert settings["beta"] == presets.CPU_RECIPE["beta"] == 8.0
  assert seeds == {"ada_gvae": [0, 1, 2, 3, 4], "ada_ml_vae": [0, 1, 2],
                   "group_vae": [0, 1, 2], "beta_vae": [0, 1, 2]}


def test_spec_takes_beta_k_seeds_methods_sizes_and_threads():
  spec = wc.comparison_spec(
      steps=2, ada_seeds=(3,), other_seeds=(1,), beta=4, k=1,
      parallel_runs=2, methods=("ada_gvae", "beta_vae"),
      metric_sizes={"beta_vae": (50, 40), "mig": (60, None)}, cpu_count=4)
  jobs = spec_lib.jobs(spec)
  assert [(j.method, j.value, j.seed) for j in jobs] == [
      ("ada_gvae", 4.0, 3), ("beta_vae", 8.0, 1)]
  assert jobs[0].settings["k"] == 1 and jobs[0].settings["steps"] == 2
  assert spec.threads_per_job == 2
  assert spec.sizes_of("beta_vae") == (50, 40)
  assert spec.sizes_of("mig") == (60, None)
  settings = wc.settings_of(spec)
  assert settings["methods"] == {
      "ada_gvae": {"beta": 4.0, "seeds": [3], "k": 1},
      "beta_vae": {"beta": 8.0, "seeds": [1]}}
  assert settings["threads_per_job"] == 2 and settings["steps"] == 2


def test_recipe_overrides_reach_every_job_and_the_report_settings():
  spec = wc.comparison_spec(
      cpu_count=2, recipe={"arch": "conv", "latent_dim": 10,
                           "learning_rate": 5e-4})
  for job in spec_lib.jobs(spec):
    assert job.settings["arch"] == "conv"
    assert job.settings["latent_dim"] == 10
    assert job.settings["learning_rate"] == 5e-4
    assert job.settings["batch_size"] == 64
  lines = wc._settings_lines(wc.settings_of(spec), "test machine")
  assert ("the CPU recipe but arch conv, latent_dim 10, learning_rate "
          "0.0005") in lines[0]
  # No overrides: the CPU recipe's settings, named as such.
  plain = wc._settings_lines(wc.settings_of(wc.comparison_spec(cpu_count=2)),
                             "test machine")
  assert "(the CPU recipe)" in plain[0]


def test_threads_never_drop_below_one():
  assert wc.comparison_spec(parallel_runs=4, cpu_count=2).threads_per_job == 1


@pytest.mark.parametrize("kwargs, fragment", [
    ({"methods": ("ada_gvae", "factor_vae")}, "unknown method 'factor_vae'"),
    ({"methods": ("beta_vae", "group_vae")}, "must name it"),
    ({"parallel_runs": 0}, "parallel_runs must be >= 1"),
    ({"ada_seeds": (-1,)}, "seed"),
    ({"recipe": {"beta": 2.0}}, "no setting 'beta'"),
    ({"recipe": {"arch": "resnet"}}, "unknown arch 'resnet'"),
    ({"recipe": {"latent_dim": 4}}, r"latent_dim must be >= 5 \(group_vae"),
    ({"recipe": {"latent_dim": 0}, "methods": ("ada_gvae",)},
     "latent_dim must be >= 1"),
    ({"recipe": {"learning_rate": 0.0}}, "learning_rate must be > 0"),
])
def test_spec_refuses_bad_settings(kwargs, fragment):
  with pytest.raises(ValueError, match=fragment):
    wc.comparison_spec(cpu_count=2, **kwargs)


# Summary, checks, best seed.


def test_summarize_reads_shape_nmi_captured_factors_and_means():
  summary = wc.summarize(_passing_records())
  assert len(summary["jobs"]) == 8
  first = summary["jobs"][0]
  assert first["method"] == "ada_gvae" and first["seed"] == 0
  assert first["shape_nmi"] == 0.5
  assert first["captured"] == ["pos_x", "shape"]
  assert first["active_latents"] == 2
  assert list(summary["methods"]) == ["ada_gvae", "beta_vae"]
  ada = summary["methods"]["ada_gvae"]
  assert ada["n"] == 5 and ada["beta"] == 8.0
  assert ada["beta_vae"]["mean"] == pytest.approx(0.94)
  assert ada["mig"]["mean"] == pytest.approx(0.43)
  assert ada["mig"]["std"] == pytest.approx(0.01 * 2 ** 0.5)  # population
  assert ada["seconds"] == pytest.approx(510.0)


def test_shape_nmi_is_the_best_active_latent_for_shape_not_the_first():
  record = _record("ada_gvae", 0, 0.9, 0.4, 0.1)
  record["mig_result"]["mutual_info"][2] = [0.3, 0.0, 0.0, 0.0, 0.0]
  # Latent 2 is inactive (KL 0.01 nats): neither a shape latent nor
  # captured.
  job = wc.summarize([record])["jobs"][0]
  assert job["shape_nmi"] == 0.1
  assert job["captured"] == ["pos_x"]
  record["train_metrics"]["kl_latent_2"] = 1.0
  job = wc.summarize([record])["jobs"][0]
  assert job["shape_nmi"] == 0.3
  assert job["captured"] == ["pos_x", "shape"]


def test_shape_on_the_scale_latent_is_not_a_shape_latent():
  # The failure seen on dSprites: one latent holds scale (0.78) and shape
  # (0.55); shape is not its best factor, so the run has no shape latent.
  record = _record("ada_gvae", 0, 0.9, 0.4, 0.0)
  record["mig_result"]["mutual_info"][0] = [0.55, 0.78, 0.0, 0.0, 0.0]
  job = wc.summarize([record])["jobs"][0]
  assert job["shape_nmi"] == 0.0
  assert "shape" not in job["captured"]


def test_checks_all_met():
  check_list = wc.checks(wc.summarize(_passing_records()), SHIPPED,
                         expected_seeds=range(5))
  assert _met(check_list) == {"a": True, "b": True, "c": True}
  assert [c["key"] for c in check_list] == ["a", "b", "c"]
  assert check_list[1]["measured"]["shipped_mig"] == 0.371


def test_check_a_misses_when_one_seed_falls_short():
  records = _passing_records()
  records[2]["scores"]["mig"] = 0.39  # the mean still beats the shipped
  check_list = wc.checks(wc.summarize(records), SHIPPED)
  assert _met(check_list) == {"a": False, "b": True, "c": True}
  assert check_list[0]["measured"][2] == {"beta_vae": pytest.approx(0.94),
                                         "mig": 0.39}


def test_check_a_misses_on_the_beta_vae_metric_alone():
  records = _passing_records()
  records[0]["scores"]["beta_vae"] = 0.899
  assert not _met(wc.checks(wc.summarize(records), SHIPPED))["a"]


def test_check_b_misses_when_the_shipped_model_is_better():
  shipped = dict(SHIPPED, beta_vae=0.95)  # above the ada mean 0.94
  check_list = wc.checks(wc.summarize(_passing_records()), shipped)
  assert _met(check_list) == {"a": True, "b": False, "c": True}
  assert check_list[1]["measured"]["mean_beta_vae"] == pytest.approx(0.94)


def test_check_c_misses_without_a_shape_latent():
  records = _passing_records()
  records[4]["mig_result"]["mutual_info"][0][0] = 0.19
  check_list = wc.checks(wc.summarize(records), SHIPPED)
  assert _met(check_list) == {"a": True, "b": True, "c": False}
  assert check_list[2]["measured"][4] == 0.19


def test_checks_miss_an_unfinished_seed_and_no_seeds_at_all():
  summary = wc.summarize(_passing_records()[1:])  # seed 0 unfinished
  check_list = wc.checks(summary, SHIPPED, expected_seeds=range(5))
  assert _met(check_list) == {"a": False, "b": True, "c": False}
  assert check_list[0]["missing_seeds"] == [0]
  empty = wc.summarize([_record("beta_vae", 0, 0.99, 0.9, 0.9)])
  assert _met(wc.checks(empty, SHIPPED)) == {"a": False, "b": False,
                                             "c": False}


def test_best_seed_highest_mig_then_beta_vae_metric_then_lowest_seed():
  records = [_record("ada_gvae", 0, 0.90, 0.40, 0.5),
             _record("ada_gvae", 1, 0.95, 0.45, 0.5),
             _record("ada_gvae", 2, 0.97, 0.45, 0.5),
             _record("ada_gvae", 3, 0.97, 0.45, 0.5),
             _record("beta_vae", 0, 0.99, 0.90, 0.5)]
  summary = wc.summarize(records)
  assert wc.best_seed(summary)["seed"] == 2
  assert wc.best_seed(summary)["export_path"] == "/x/ada_gvae/2/1"
  assert wc.best_seed(summary, "beta_vae")["seed"] == 0
  assert wc.best_seed(summary, "group_vae") is None


def test_shipped_reference_reads_the_exports_metrics():
  with open(os.path.join(ROOT, "exported", "dsprites", "2",
                         "metrics.json")) as f:
    metrics = json.load(f)
  shipped = wc.shipped_reference(ROOT)
  assert shipped["beta_vae"] == metrics["beta_vae"]["score"]
  assert shipped["mig"] == metrics["mig"]["score"]
  assert round(shipped["beta_vae"], 3) == 0.885
  assert round(shipped["mig"], 3) == 0.371


# The report.


def _report(records, shipped=SHIPPED):
  spec = wc.comparison_spec(steps=300, ada_seeds=range(5),
                            other_seeds=range(3), beta=6, k=1,
                            methods=("ada_gvae", "beta_vae"), cpu_count=2)
  summary = wc.summarize(records)
  check_list = wc.checks(summary, shipped, expected_seeds=range(5))
  return wc.render_markdown(summary, check_list, "python scripts/x.py --y",
                            wc.settings_of(spec), shipped,
                            hardware="2 CPUs, GPUs: none",
                            best=wc.best_seed(summary))


def test_render_markdown_has_every_part():
  text = _report(_passing_records())
  lines = text.splitlines()
  assert ("Generated by `python scripts/x.py --y`; do not edit (rerun it)."
          in lines)
  assert "- steps: 300; training: arch broadcast" in text
  assert "- ada_gvae: β = 6, k = 1, seeds 0, 1, 2, 3, 4" in lines
  assert "- beta_vae: β = 8, seeds 0, 1, 2" in lines
  assert "TensorFlow threads per job: 2" in text
  assert "2 CPUs, GPUs: none" in text
  job_rows = [l for l in lines if l.startswith(("| ada_gvae |",
                                                "| beta_vae |"))]
  assert len(job_rows) == 8
  assert ("| ada_gvae | 8 | 0 | 0.920 | 0.410 | 0.50 | pos_x, shape | 100 |"
          in lines)
  assert sum(l.startswith("| ada_gvae (mean) | 8 | 5 | 0.940 ± 0.014")
             for l in lines) == 1
  assert sum(l.startswith("| beta_vae (mean) |") for l in lines) == 1
  checks = [l for l in lines if l.startswith("- (")]
  assert len(checks) == 3 and all("**met**" in l for l in checks)
  assert "β-VAE metric 0.885, MIG 0.371" in text
  assert "seed 4 (β-VAE metric 0.960, MIG 0.450)" in text
  assert text.endswith("\n")


def test_render_markdown_says_missed():
  records = _passing_records()
  records[0]["scores"]["mig"] = 0.38  # the mean stays above 0.371
  del records[3]  # ada_gvae seed 3 unfinished
  lines = _report(records).splitlines()
  checks = {l[3]: l for l in lines if l.startswith("- (")}
  assert "**MISSED**" in checks["a"] and "not finished: seeds 3" in checks["a"]
  assert "**MISSED**" in checks["c"]
  assert "**met**" in checks["b"]


def test_result_lines_name_the_best_export_to_ship():
  summary = wc.summarize(_passing_records())
  report = {"checks": wc.checks(summary, SHIPPED), "json_path": "/w/s.json",
            "best": wc.best_seed(summary)}
  lines = wc.result_lines(report, "docs/weak_supervision.md")
  assert lines[0].startswith("(a) met: every ada_gvae seed")
  assert lines[3] == "wrote docs/weak_supervision.md and /w/s.json"
  assert lines[4] == ("best ada_gvae seed 4 (MIG 0.450, β-VAE metric "
                      "0.960): export /x/ada_gvae/4/1, run "
                      "/x/ada_gvae/4/run")
  report["best"] = None
  assert "nothing to ship" in wc.result_lines(report, "r.md")[-1]
