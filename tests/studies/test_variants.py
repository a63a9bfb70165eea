"""A study's variant level and the weak_study preset: numbering, job ids
(unchanged for studies without variants), records, slices, refusals, the
training configs, the report's variant column and UDR groups."""

import dataclasses
import hashlib
import json
import os
import subprocess
import sys

import pytest

from tf_betavae.studies import group_udr
from tf_betavae.studies import report
from tf_betavae.studies import spec as spec_lib
from tf_betavae.studies import study_dir as study_dir_lib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "study.py")

# Recorded from the code before the variant level existed: a study without
# variants must keep every number, id and record it had.
V1_IDS_DIGEST = (
    "eccaf208b7468cdd9adef86e137d3fc1e14c12c4e8fe0f9f78611068730cd16d")
V1_SOME_IDS = {0: "a1974683b73a", 1: "c95227970624", 351: "bc9302b32a78",
               1799: "f7885f74e3a7", 1800: "d39e0f9b92f6",
               12599: "fc28e3072aea"}
V1_SLICE_ID = (11503, "554f15acad04")  # shapes3d, dip_vae_i 5, seed 3
SWEEP_IDS = ["fff37f840515", "c9e5f2ae7439", "b558c5bf77e9", "c0f7437a1bf6",
             "0577eda96cfd", "ac1848eeff3c", "d1bed9b46de3", "47cf2893711b",
             "85964f4e32e0", "d3cd8ed7fa24", "ed180a7bb3f1", "d6af416faf4e"]
V1_RECORD = (
    '{"datasets":["dsprites","color_dsprites","noisy_dsprites",'
    '"scream_dsprites","smallnorb","cars3d","shapes3d"],"methods":'
    '[["beta_vae",[1,2,4,6,8,16]],["factor_vae",[10,20,30,40,50,100]],'
    '["dip_vae_i",[1,2,5,10,20,50]],["dip_vae_ii",[1,2,5,10,20,50]],'
    '["beta_tc_vae",[1,2,4,6,8,10]],["annealed_vae",[5,10,25,50,75,100]]],'
    '"metric_seed":0,"metric_sizes":{},"metrics":["beta_vae","factor_vae",'
    '"mig","dci","sap"],"name":"unsupervised_study_v1","seeds":['
    + ",".join(str(s) for s in range(50)) + '],"steps":null,'
    '"threads_per_job":1,"train_preset":"study","train_settings":{},'
    '"udr_num_points":10000}')
WEAK_METHODS = ("group_vae", "ml_vae", "ada_gvae", "ada_ml_vae")
BETAS = (1, 2, 4, 6, 8, 16)


def _sweep():
  return spec_lib.sweep_spec("factor_vae", (10, 20, 40), (0, 1),
                             datasets=("dsprites", "shapes3d"), steps=500)


def _ids_digest(jobs):
  text = "".join(f"{j.model_num}:{spec_lib.job_id(j)};" for j in jobs)
  return hashlib.sha256(text.encode()).hexdigest()


def _small_weak(**changes):
  """Two variants of two weak methods: 2 × (2 + 1 values) × 2 seeds."""
  values = dict(name="weak_small", datasets=("dsprites",),
                variants=(("k1", (("k", 1),)), ("krnd", (("k", -1),))),
                methods=(("group_vae", (1, 4)), ("ada_gvae", (2,))),
                seeds=(0, 1), steps=20)
  values.update(changes)
  return spec_lib.StudySpec(**values)


# --- Studies without variants keep everything -------------------------


def test_unsupervised_study_v1_keeps_its_numbers_ids_and_record():
  study = spec_lib.unsupervised_study_v1()
  jobs = spec_lib.jobs(study)
  assert study.variants == () and study.num_jobs == len(jobs) == 12600
  assert [j.model_num for j in jobs] == list(range(12600))
  assert _ids_digest(jobs) == V1_IDS_DIGEST
  for n, expected in V1_SOME_IDS.items():
    assert spec_lib.job_id(jobs[n]) == expected and jobs[n].variant == ""
  part = spec_lib.slice_spec(study, datasets=["shapes3d"],
                             methods=["dip_vae_i"], values=[5], seeds=[3])
  assert [(j.model_num, spec_lib.job_id(j))
          for j in spec_lib.jobs(part)] == [V1_SLICE_ID]
  assert "variants" not in study.record()
  assert spec_lib.canonical_json(study.record()) == V1_RECORD
  # A record written before variants existed reads as the same study and
  # is written back the same.
  again = spec_lib.spec_from_record(json.loads(V1_RECORD))
  assert again == study
  assert spec_lib.canonical_json(again.record()) == V1_RECORD


def test_a_sweep_keeps_its_ids_and_one_empty_variant_is_no_variant():
  sweep = _sweep()
  assert [spec_lib.job_id(j) for j in spec_lib.jobs(sweep)] == SWEEP_IDS
  empty = dataclasses.replace(sweep, variants=(("", ()),))
  assert empty == sweep and empty.variants == ()
  assert [spec_lib.job_id(j) for j in spec_lib.jobs(empty)] == SWEEP_IDS
  # A variant with no settings beside others trains the variant-free jobs.
  mixed = dataclasses.replace(
      sweep, variants=(("base", ()), ("wide", (("latent_dim", 12),))))
  jobs = spec_lib.jobs(mixed)
  assert mixed.num_jobs == len(jobs) == 24
  assert [spec_lib.job_id(j) for j in jobs[:6]] == SWEEP_IDS[:6]
  assert {j.variant for j in jobs[:6]} == {"base"}
  assert not set(map(spec_lib.job_id, jobs[6:12])) & set(SWEEP_IDS)
  # Dataset slowest, then variant: shapes3d's base jobs follow both of
  # dsprites' variants.
  assert [spec_lib.job_id(j) for j in jobs[12:18]] == SWEEP_IDS[6:]


# --- The weak study ----------------------------------------------------


def test_weak_study_numbers_its_480_jobs_variant_after_dataset():
  study = spec_lib.preset("weak_study")
  jobs = spec_lib.jobs(study)
  assert study.num_jobs == len(jobs) == 1 * 2 * 4 * 6 * 10 == 480
  assert [j.model_num for j in jobs] == list(range(480))
  assert study.train_preset == "study" and study.metrics == spec_lib.METRICS
  for job in jobs:
    d = study.datasets.index(job.dataset)
    v = ("k1", "krnd").index(job.variant)
    m = WEAK_METHODS.index(job.method)
    b = BETAS.index(job.value)
    assert job.model_num == (((d * 2 + v) * 4 + m) * 6 + b) * 10 + job.seed
    assert job.hyperparameter == "beta"
    assert dict(job.train_settings) == {"k": 1 if job.variant == "k1"
                                        else -1}
  assert len({spec_lib.job_id(j) for j in jobs}) == 480
  # With more datasets the dataset stays the slowest level.
  wider = spec_lib.weak_study(datasets=("dsprites", "shapes3d"))
  assert wider.num_jobs == 960
  assert spec_lib.job_of(wider, 480).dataset == "shapes3d"
  assert spec_lib.job_id(spec_lib.job_of(wider, 7)) == spec_lib.job_id(
      jobs[7])


def test_each_weak_job_trains_its_variants_k_and_its_method():
  # The function the runner trains a job with (studies.job.run_job).
  job_lib = pytest.importorskip("tf_betavae.studies.job")
  study = spec_lib.weak_study(steps=30)
  for job in spec_lib.jobs(study):
    config = job_lib.train_config(job)
    assert (config.method, config.beta, config.seed, config.dataset) == (
        job.method, float(job.value), job.seed, "dsprites")
    assert config.k == (1 if job.variant == "k1" else -1)
    assert (config.batch_size, config.learning_rate, config.latent_dim,
            config.arch, config.steps) == (64, 1e-4, 10, "conv", 30)


# --- Records, slices, refusals ------------------------------------------


def test_a_record_with_variants_gives_back_the_study():
  spec = _small_weak(train_settings=(("latent_dim", 10),))
  record = json.loads(json.dumps(spec.record()))
  assert record["variants"] == [["k1", {"k": 1}], ["krnd", {"k": -1}]]
  again = spec_lib.spec_from_record(record)
  assert again == spec
  assert again.record() == spec.record()
  assert [spec_lib.job_id(j) for j in spec_lib.jobs(again)] == [
      spec_lib.job_id(j) for j in spec_lib.jobs(spec)]


def test_a_slice_by_variant_keeps_the_numbers():
  spec = _small_weak()
  jobs = spec_lib.jobs(spec)
  assert len(jobs) == 12
  part = spec_lib.slice_spec(spec, variants=["krnd"])
  assert [j.model_num for j in spec_lib.jobs(part)] == list(range(6, 12))
  assert {j.variant for j in spec_lib.jobs(part)} == {"krnd"}
  narrower = spec_lib.slice_spec(part, methods=["ada_gvae"], seeds=[1])
  assert [(j.model_num, j.variant) for j in spec_lib.jobs(narrower)] == [
      (11, "krnd")]
  with pytest.raises(spec_lib.StudyError, match="unknown variant 'k1'"):
    spec_lib.slice_spec(part, variants=["k1"])
  with pytest.raises(spec_lib.StudyError, match="no variants"):
    spec_lib.slice_spec(_sweep(), variants=["k1"])
  with pytest.raises(spec_lib.StudyError, match="not in this slice"):
    spec_lib.job_of(part, 0)


@pytest.mark.parametrize("changes, message", [
    ({"variants": (("a", (("seed", 1),)),)}, "'seed' is set by the study"),
    ({"variants": (("a", (("beta", 2),)),)}, "'beta' is set by the study"),
    ({"variants": (("a", (("dataset", "shapes3d"),)),)},
     "'dataset' is set by the study"),
    ({"variants": (("a", (("k", 1),)),),
      "train_settings": (("k", 2),)},
     "variant a sets k=1, which contradicts train_settings k=2"),
    ({"variants": (("a", (("k", 1),)),),
      "group_settings": (("group_vae", 4, (("k", 2),)),)},
     "variant a sets 'k', which group_settings of \\(group_vae, 4\\)"),
    ({"variants": (("a", (("k", 1),)), ("a", (("k", 2),)))},
     "variants lists 'a' twice"),
    ({"variants": (("a", (("k", 1),)), ("b", (("k", 1.0),)))},
     "variants' settings lists"),
    ({"variants": (("a/b", (("k", 1),)),)}, "a variant's label"),
    ({"variants": (("", (("k", 1),)),)}, "a variant's label"),
    ({"variants": ("k1",)}, "a variant must be a \\(label, settings\\)"),
])
def test_bad_variants_are_refused_naming_what_collides(changes, message):
  with pytest.raises(spec_lib.StudyError, match=message):
    _small_weak(**changes)


def test_a_variant_may_repeat_a_shared_setting_with_its_value():
  spec = _small_weak(train_settings=(("k", 1),),
                     variants=(("k1", (("k", 1),)), ("wide",
                                                     (("latent_dim", 12),))))
  settings = {j.variant: dict(j.train_settings) for j in spec_lib.jobs(spec)}
  assert settings == {"k1": {"k": 1}, "wide": {"k": 1, "latent_dim": 12}}


# --- Report and UDR groups ----------------------------------------------


def test_the_report_has_a_variant_column_and_groups_per_variant(tmp_path):
  spec = _small_weak()
  rows = report.collect(str(tmp_path), spec_lib.jobs(spec), ["mig"],
                        variants=True)
  assert report.columns(["mig"], variants=True)[:4] == (
      "model_num", "job_id", "dataset", "variant")
  assert [r["variant"] for r in rows] == ["k1"] * 6 + ["krnd"] * 6
  groups = report.groups(rows, ["mig"])
  assert [(g["dataset"], g["variant"], g["method"], g["value"], g["jobs"])
          for g in groups] == [
              ("dsprites", v, m, x, 2) for v in ("k1", "krnd")
              for m, x in (("group_vae", 1.0), ("group_vae", 4.0),
                           ("ada_gvae", 2.0))]
  # Without variants: the columns and groups of before.
  plain = report.collect(str(tmp_path), spec_lib.jobs(_sweep()), ["mig"])
  assert tuple(plain[0]) == report.columns(["mig"])
  assert "variant" not in report.columns(["mig"])
  assert all("variant" not in g for g in report.groups(plain, ["mig"]))
  text = report.markdown(spec, report.counts(rows), groups, rows, ["mig"],
                         [], [])
  assert "| dataset | variant | method | value | done |" in text
  assert "- Variants: k1 (k=1); krnd (k=-1)" in text


def test_udr_groups_are_per_variant_and_unchanged_without(tmp_path):
  spec = _small_weak()
  groups = [g for g, _ in group_udr.udr_groups(spec, spec_lib.jobs(spec))]
  assert groups[0] == ("dsprites", "group_vae", 1.0, "k1")
  assert len(groups) == 6
  assert group_udr.udr_path("s", groups[0]) == os.path.join(
      "s", "udr", "dsprites__k1__group_vae__1.json")
  plain = [g for g, _ in group_udr.udr_groups(_sweep(),
                                              spec_lib.jobs(_sweep()))]
  assert plain[0] == ("dsprites", "factor_vae", 10.0)
  assert group_udr.udr_path("s", plain[0]) == os.path.join(
      "s", "udr", "dsprites__factor_vae__10.json")


# --- The program ----------------------------------------------------------


def _study(*args):
  return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True,
                        text=True, env=dict(os.environ, PYTHONPATH=ROOT),
                        cwd=ROOT, timeout=120, check=False)


def test_the_program_lists_the_weak_study_and_slices_its_variants():
  done = _study("--preset=weak_study", "--list")
  assert done.returncode == 0, done.stderr
  lines = done.stdout.splitlines()
  assert lines[0].split() == ["model_num", "job_id", "dataset", "variant",
                              "method", "value", "seed", "state"]
  assert lines[-1] == "480 of the 480 jobs of weak_study"
  assert lines[241].split()[:4] == ["240", spec_lib.job_id(
      spec_lib.job_of(spec_lib.weak_study(), 240)), "dsprites", "krnd"]
  done = _study("--preset=weak_study", "--variants=k1", "--methods=ml_vae",
                "--values=4", "--seeds=0,1", "--list")
  assert done.returncode == 0, done.stderr
  rows = [line.split() for line in done.stdout.splitlines()[1:-1]]
  assert [(r[0], r[3], r[4], r[5], r[6]) for r in rows] == [
      ("80", "k1", "ml_vae", "4", "0"), ("81", "k1", "ml_vae", "4", "1")]
  done = _study("--variants=k1", "--list")
  assert done.returncode == 2 and "has no variants" in done.stderr


def test_write_report_and_job_json_carry_the_variant(tmp_path):
  spec = _small_weak(metrics=("mig",))
  root = str(tmp_path)
  study_dir_lib.open_study(root, spec)
  job = spec_lib.jobs(spec)[7]
  study_dir_lib.write_job_file(root, job)
  record = json.load(open(os.path.join(study_dir_lib.job_dir(root, job),
                                       "job.json")))
  assert record["variant"] == "krnd" and record["settings"]["k"] == -1
  assert "variant" not in record["settings"]
  written = report.write_report(root, spec)
  with open(written["csv"]) as f:
    header = f.readline().strip().split(",")
  assert header[:4] == ["model_num", "job_id", "dataset", "variant"]
  results = json.load(open(written["json"]))
  assert [g["variant"] for g in results["groups"]] == ["k1"] * 3 + [
      "krnd"] * 3
  assert results["study"]["variants"] == [["k1", {"k": 1}],
                                          ["krnd", {"k": -1}]]
  # The plain study's job.json is what it was: no variant key.
  plain = spec_lib.jobs(_sweep())[0]
  study_dir_lib.write_job_file(str(tmp_path / "plain"), plain)
  assert "variant" not in json.load(open(os.path.join(
      study_dir_lib.job_dir(str(tmp_path / "plain"), plain), "job.json")))
