"""tf_betavae.studies.spec: numbering, slicing, job ids, errors."""

import itertools
import os
import random
import subprocess
import sys

import pytest

from tf_betavae.studies import spec as spec_lib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

# disentanglement_lib's config/unsupervised_study_v1, written out here so
# the numbering is checked against the study and not against the code.
DLIB_DATASETS = ["dsprites", "color_dsprites", "noisy_dsprites",
                 "scream_dsprites", "smallnorb", "cars3d", "shapes3d"]
DLIB_METHODS = [
    ("beta_vae", "beta", [1, 2, 4, 6, 8, 16]),
    ("factor_vae", "factor_gamma", [10, 20, 30, 40, 50, 100]),
    ("dip_vae_i", "lambda_od", [1, 2, 5, 10, 20, 50]),
    ("dip_vae_ii", "lambda_od", [1, 2, 5, 10, 20, 50]),
    ("beta_tc_vae", "beta", [1, 2, 4, 6, 8, 10]),
    ("annealed_vae", "capacity_max", [5, 10, 25, 50, 75, 100]),
]
DLIB_MODELS = [(m, h, v) for m, h, values in DLIB_METHODS for v in values]
# h.product: the first list varies slowest.
DLIB_ORDER = list(itertools.product(DLIB_DATASETS, DLIB_MODELS, range(50)))


@pytest.fixture(scope="module")
def study():
  return spec_lib.unsupervised_study_v1()


@pytest.fixture(scope="module")
def study_jobs(study):
  return spec_lib.jobs(study)


def _key(job):
  return (job.dataset, job.method, job.hyperparameter, job.value, job.seed)


def test_the_full_study_numbers_its_12600_jobs_as_disentanglement_lib(
    study, study_jobs):
  assert len(DLIB_ORDER) == 12600
  assert study.num_jobs == len(study_jobs) == 12600
  assert [job.model_num for job in study_jobs] == list(range(12600))
  sample = ([0, 1, 49, 50, 299, 300, 1799, 1800, 351, 5467, 10799, 12599]
            + random.Random(0).sample(range(12600), 300))
  for n in sample:
    dataset, (method, hyperparameter, value), seed = DLIB_ORDER[n]
    assert _key(study_jobs[n]) == (dataset, method, hyperparameter,
                                   float(value), seed), n
  # The formula, with indices looked up in the study's own lists.
  for n in sample:
    dataset, model, seed = DLIB_ORDER[n]
    d = DLIB_DATASETS.index(dataset)
    method_index = [m for m, _, _ in DLIB_METHODS].index(model[0])
    value_index = DLIB_METHODS[method_index][2].index(model[2])
    assert d * 1800 + (method_index * 6 + value_index) * 50 + seed == n
  assert all(job.steps is None and job.train_preset == "study"
             for job in study_jobs)


def test_a_slice_keeps_the_numbers_and_ids_of_the_whole(study, study_jobs):
  sliced = spec_lib.slice_spec(study, datasets=["dsprites"], seeds=[0])
  jobs = spec_lib.jobs(sliced)
  assert [job.model_num for job in jobs] == list(range(0, 1800, 50))
  assert [(job.method, job.value) for job in jobs] == [
      (m, float(v)) for m, _, v in DLIB_MODELS]
  for job in jobs:
    assert job == study_jobs[job.model_num]
    assert spec_lib.job_id(job) == spec_lib.job_id(study_jobs[job.model_num])
  one = spec_lib.jobs(spec_lib.slice_spec(
      study, datasets=["shapes3d"], methods=["dip_vae_ii"], values=[5],
      seeds=[3, 7]))
  assert [job.model_num for job in one] == [
      6 * 1800 + (3 * 6 + 2) * 50 + 3, 6 * 1800 + (3 * 6 + 2) * 50 + 7]
  assert spec_lib.job_of(study, 351) == study_jobs[351]


def test_a_slice_of_a_slice_narrows_it(study):
  first = spec_lib.slice_spec(study, methods=["factor_vae"], values=[20, 30])
  second = spec_lib.slice_spec(first, values=[30], seeds=[1])
  assert [j.model_num for j in spec_lib.jobs(second)] == [
      d * 1800 + (6 + 2) * 50 + 1 for d in range(7)]
  with pytest.raises(spec_lib.StudyError,
                     match="unknown factor_gamma value 40.0 for this study; "
                     "choose from 20.0, 30.0"):
    spec_lib.slice_spec(first, values=[40])
  with pytest.raises(spec_lib.StudyError, match="not in this slice"):
    spec_lib.job_of(second, 0)


def test_steps_change_the_ids_not_the_numbers(study, study_jobs):
  short = spec_lib.jobs(spec_lib.slice_spec(study, seeds=[0], steps=1000))
  for job in short[:40]:
    assert job.steps == 1000
    assert job.model_num == study_jobs[job.model_num].model_num
    assert spec_lib.job_id(job) != spec_lib.job_id(
        study_jobs[job.model_num])


@pytest.mark.parametrize("kwargs, message", [
    (dict(datasets=["cars4d"]),
     "unknown dataset 'cars4d' for this study; choose from dsprites, "
     "color_dsprites"),
    (dict(methods=["vae"]), "unknown method 'vae' for this study; choose "
     "from beta_vae, factor_vae"),
    (dict(values=[4]), "values need exactly one method; give one of "
     "beta_vae, factor_vae"),
    (dict(methods=["beta_vae", "factor_vae"], values=[4]),
     "values need exactly one method; give one of beta_vae, factor_vae"),
    (dict(methods=["beta_vae"], values=["4"]),
     "a value of beta must be a finite number, got '4'"),
    (dict(methods=["beta_vae"], values=[True]),
     "a value of beta must be a finite number, got True"),
    (dict(methods=["beta_vae"], values=[3]),
     "unknown beta value 3.0 for this study; choose from 1.0, 2.0, 4.0"),
    (dict(seeds=[1.5]), "a seed must be an integer in"),
    (dict(seeds=[50]), "unknown seed 50 for this study"),
    (dict(seeds=[]), "seeds is empty"),
    (dict(datasets="dsprites"), "datasets must be a list"),
    (dict(steps=0), "steps must be a positive integer"),
])
def test_bad_slices_name_the_choices(study, kwargs, message):
  with pytest.raises(spec_lib.StudyError) as error:
    spec_lib.slice_spec(study, **kwargs)
  assert message in str(error.value)
  assert len(str(error.value).splitlines()) == 1


def test_unknown_presets_methods_and_datasets_are_refused():
  with pytest.raises(spec_lib.StudyError,
                     match="unknown study preset 'nope'; choose from "
                     "unsupervised_study_v1"):
    spec_lib.preset("nope")
  with pytest.raises(spec_lib.StudyError, match="unknown method 'vae'"):
    spec_lib.sweep_spec("vae", [1], [0])
  with pytest.raises(spec_lib.StudyError, match="unknown dataset 'mnist'; "
                     "choose from dsprites, dsprites_official"):
    spec_lib.sweep_spec("beta_vae", [1], [0], datasets=["mnist"])
  with pytest.raises(spec_lib.StudyError, match="lists 4.0 twice"):
    spec_lib.sweep_spec("beta_vae", [4, 4.0], [0])
  with pytest.raises(spec_lib.StudyError, match="must be a finite number"):
    spec_lib.sweep_spec("beta_vae", [float("nan")], [0])
  with pytest.raises(spec_lib.StudyError, match="set by the study's grid"):
    spec_lib.StudySpec("s", ["dsprites"], [("beta_vae", [1])], [0],
                       train_settings={"beta": 2.0})
  with pytest.raises(spec_lib.StudyError, match="model_num 12600 is out of "
                     "range: study unsupervised_study_v1 numbers its jobs 0 "
                     "to 12599"):
    spec_lib.job_of(spec_lib.unsupervised_study_v1(), 12600)


def test_a_sweep_is_a_one_method_study():
  sweep = spec_lib.sweep_spec("factor_vae", [20, 35], [0, 1, 2], steps=500)
  jobs = spec_lib.jobs(sweep)
  assert [(j.model_num, j.value, j.seed) for j in jobs] == [
      (0, 20.0, 0), (1, 20.0, 1), (2, 20.0, 2), (3, 35.0, 0), (4, 35.0, 1),
      (5, 35.0, 2)]
  assert {j.hyperparameter for j in jobs} == {"factor_gamma"}
  assert jobs[0].settings == {"preset": None, "dataset": "dsprites",
                              "method": "factor_vae", "factor_gamma": 20.0,
                              "seed": 0, "steps": 500}
  # One method: values need no --methods.
  assert [j.model_num for j in spec_lib.jobs(
      spec_lib.slice_spec(sweep, values=[35]))] == [3, 4, 5]


def _job(value=4.0, seed=0, model_num=0, **settings):
  return spec_lib.Job(model_num, "dsprites", "beta_vae", "beta", value,
                      seed, train_settings=tuple(sorted(settings.items())))


def test_job_ids_hash_the_settings_with_numbers_normalised():
  assert spec_lib.job_id(_job(4)) == spec_lib.job_id(_job(4.0))
  assert spec_lib.job_id(_job(4, learning_rate=1e-4)) == spec_lib.job_id(
      _job(4.0, learning_rate=0.0001))
  assert spec_lib.job_id(_job(4, latent_dim=10)) == spec_lib.job_id(
      _job(4, latent_dim=10.0))
  assert spec_lib.job_id(_job(seed=0)) != spec_lib.job_id(_job(seed=1))
  assert spec_lib.job_id(_job(4)) != spec_lib.job_id(_job(4.5))
  # The number is the study's, the id the job's.
  assert spec_lib.job_id(_job(model_num=0)) == spec_lib.job_id(
      _job(model_num=7))
  job_id = spec_lib.job_id(_job())
  assert len(job_id) == 12 and int(job_id, 16) >= 0
  assert spec_lib.canonical_json({"b": 4.0, "a": [1.5, 2.0]}) == (
      '{"a":[1.5,2],"b":4}')


def test_job_ids_are_the_same_in_another_process(study_jobs):
  # Pinned: a change of the hashing would orphan every study directory.
  assert spec_lib.job_id(study_jobs[0]) == "a1974683b73a"
  code = ("from tf_betavae.studies import spec\n"
          "jobs = spec.jobs(spec.unsupervised_study_v1())\n"
          "print(' '.join(spec.job_id(jobs[n]) for n in (0, 351, 12599)))\n")
  done = subprocess.run(
      [sys.executable, "-c", code], capture_output=True, text=True,
      check=True, timeout=120, cwd=ROOT,
      env=dict(os.environ, PYTHONPATH=ROOT, PYTHONHASHSEED="12345"))
  assert done.stdout.split() == [spec_lib.job_id(study_jobs[n])
                                 for n in (0, 351, 12599)]
  ids = {spec_lib.job_id(job) for job in study_jobs}
  assert len(ids) == 12600  # no two jobs share a directory


def test_the_study_lists_match_the_packages_registries():
  # tf_betavae.data and tf_betavae.metrics import TensorFlow, which the
  # studies package may not; their names are copied there and kept here.
  from tf_betavae import data  # pylint: disable=g-import-not-at-top
  from tf_betavae.metrics import registry  # pylint: disable=g-import-not-at-top
  assert sorted(spec_lib.DATASETS) == sorted(data.GROUND_TRUTH_DATASETS)
  assert set(spec_lib.METRICS) <= set(registry.REGISTRY)
  assert set(spec_lib.METRICS + spec_lib.MORE_METRICS) == set(
      registry.REGISTRY)
  for dataset in spec_lib.UNSUPERVISED_STUDY_V1_DATASETS:
    assert (dataset in data.GROUND_TRUTH_DATASETS) != (
        dataset in spec_lib.DATASETS_WITHOUT_LOADER)


def test_a_record_gives_back_the_same_study():
  import dataclasses  # pylint: disable=g-import-not-at-top
  import json  # pylint: disable=g-import-not-at-top
  spec = dataclasses.replace(
      spec_lib.sweep_spec("factor_vae", [10, 20.5], [0, 3], steps=40),
      metrics=("mig", "dci"), metric_sizes={"dci": (100, None)},
      metric_seed=5, udr_num_points=300,
      train_settings={"arch": "mlp", "latent_dim": 6})
  record = json.loads(json.dumps(spec.record()))  # as study.json holds it
  assert record["metric_sizes"] == {"dci": [100, None]}
  back = spec_lib.spec_from_record(record)
  assert back == spec
  assert spec.sizes_of("dci") == (100, None)
  assert spec.sizes_of("mig") == (None, None)
  assert ([spec_lib.job_id(j) for j in spec_lib.jobs(back)]
          == [spec_lib.job_id(j) for j in spec_lib.jobs(spec)])
  full = spec_lib.unsupervised_study_v1(steps=7)
  assert spec_lib.spec_from_record(full.record()) == full


@pytest.mark.parametrize("record, message", [
    ([1, 2], "a study record must be a JSON object, got list"),
    ({"name": "x", "colour": 1}, "unknown fields ['colour']"),
    ({"name": "x"}, "not a study record"),
    ({**spec_lib.sweep_spec("beta_vae", [1], [0]).record(),
      "metric_sizes": {"mig": [0, None]}},
     "mig's num_train must be a positive integer or None"),
    ({**spec_lib.sweep_spec("beta_vae", [1], [0]).record(),
      "metric_sizes": {"mig": [5]}}, "must be a (num_train, num_eval) pair"),
    ({**spec_lib.sweep_spec("beta_vae", [1], [0]).record(),
      "metrics": ["mig"], "metric_sizes": {"sap": [5, 5]}},
     "metric_sizes names 'sap', which the study does not score"),
])
def test_bad_records_are_refused_with_what_is_wrong(record, message):
  with pytest.raises(spec_lib.StudyError, match=re_escape(message)):
    spec_lib.spec_from_record(record)


def re_escape(text):
  import re  # pylint: disable=g-import-not-at-top
  return re.escape(text)


def test_engine_defaults_come_from_the_studys_threads_per_job(monkeypatch):
  import dataclasses  # pylint: disable=g-import-not-at-top
  from tf_betavae.experiments import parallel  # pylint: disable=g-import-not-at-top
  from tf_betavae.studies import engines  # pylint: disable=g-import-not-at-top
  monkeypatch.setattr(parallel, "available_cpus", lambda: list(range(8)))
  spec = spec_lib.sweep_spec("beta_vae", [1], [0])
  assert spec.threads_per_job == 1
  two = dataclasses.replace(spec, threads_per_job=2)
  assert two.record()["threads_per_job"] == 2
  assert spec_lib.spec_from_record(two.record()) == two
  local = engines.EngineOptions()
  assert local.for_study(spec).workers == 8
  assert local.for_study(two).workers == 4
  assert engines.EngineOptions(workers=3).for_study(two).workers == 3
  assert dataclasses.replace(two, threads_per_job=16) and engines \
      .EngineOptions().for_study(dataclasses.replace(
          two, threads_per_job=16)).workers == 1
  ray = engines.EngineOptions(engine=engines.RAY)
  assert ray.for_study(two).num_cpus == 2.0
  assert dataclasses.replace(ray, num_cpus=0.5).for_study(two).num_cpus == 0.5


def _grouped(**changes):
  """beta_vae at β 8 and 1 and factor_vae at γ 35, seeds 0..2."""
  values = dict(name="g", datasets=("dsprites",),
                methods=(("beta_vae", (8, 1)), ("factor_vae", (35,))),
                seeds=(0, 1, 2), train_settings={"beta_hold_steps": 10},
                group_seeds=(("beta_vae", 1, (2, 0)),),
                group_settings=(("beta_vae", 1.0, {"beta_hold_steps": 0}),
                                ("factor_vae", None, {"beta": 8.0})))
  values.update(changes)
  return spec_lib.StudySpec(**values)


def test_groups_train_their_own_seeds_and_settings():
  spec = _grouped()
  jobs = spec_lib.jobs(spec)
  assert spec.num_jobs == len(jobs) == 3 + 2 + 3
  assert [(j.model_num, j.value, j.seed) for j in jobs] == [
      (0, 8.0, 0), (1, 8.0, 1), (2, 8.0, 2), (3, 1.0, 0), (4, 1.0, 2),
      (5, 35.0, 0), (6, 35.0, 1), (7, 35.0, 2)]
  settings = {j.model_num: dict(j.train_settings) for j in jobs}
  assert settings[0] == {"beta_hold_steps": 10}
  # A group's own setting wins over the shared one; a method's applies to
  # all its values.
  assert settings[3] == {"beta_hold_steps": 0}
  assert settings[5] == {"beta_hold_steps": 10, "beta": 8.0}
  assert len({spec_lib.job_id(j) for j in jobs}) == 8
  # A slice keeps the group seeds and the numbers.
  part = spec_lib.slice_spec(spec, seeds=[2])
  assert [j.model_num for j in spec_lib.jobs(part)] == [2, 4, 7]


def test_a_record_with_groups_gives_back_the_study_and_one_without_reads():
  import json  # pylint: disable=g-import-not-at-top
  spec = _grouped(metrics=("beta_vae_paper", "mig"))
  record = json.loads(json.dumps(spec.record()))
  assert record["group_seeds"] == [["beta_vae", 1.0, [0, 2]]]
  assert spec_lib.spec_from_record(record) == spec
  # A study recorded before groups existed has no group fields, and its
  # record is written the same way again (so a rerun is not refused).
  plain = spec_lib.sweep_spec("beta_vae", [1, 4], [0])
  assert "group_seeds" not in plain.record()
  assert "group_settings" not in plain.record()


def test_the_paper_protocol_is_a_metric_of_its_own():
  assert spec_lib.metric_variant("beta_vae_paper") == ("beta_vae", "paper",
                                                       "auto")
  assert spec_lib.metric_variant("beta_vae_paper_all") == (
      "beta_vae", "paper", "all")
  assert spec_lib.metric_variant("beta_vae") == ("beta_vae",
                                                 "disentanglement_lib", None)
  spec = _grouped(metrics=("beta_vae_paper", "beta_vae"),
                  metric_sizes={"beta_vae_paper": (300, 150)})
  assert spec.sizes_of("beta_vae_paper") == (300, 150)


@pytest.mark.parametrize("changes, message", [
    ({"group_seeds": (("beta_vae", 4, (0,)),)},
     "group_seeds names (beta_vae, 4), which is not in the study's grid"),
    ({"group_seeds": (("beta_vae", 1, (7,)),)},
     "must be among the study's seeds"),
    ({"group_seeds": (("beta_vae", 1, (0,)), ("beta_vae", 1.0, (1,)))},
     "group_seeds lists ('beta_vae', 1.0) twice"),
    ({"group_seeds": (("beta_vae", 1),)}, "are (method, value, ...) triples"),
    ({"group_settings": (("dip_vae_i", None, {}),)},
     "group_settings names method 'dip_vae_i', which the study does not "
     "train"),
    ({"group_settings": (("factor_vae", None, {"factor_gamma": 3}),)},
     "group setting 'factor_gamma' of factor_vae is set by the study's grid"),
    ({"group_settings": (("beta_vae", 2.0, {}),)},
     "group_settings names (beta_vae, 2), which is not in the study's grid"),
    ({"metrics": ("mig", "mig")}, "metrics lists 'mig' twice"),
    ({"metrics": ("beta_vae_papers",)}, "unknown metric 'beta_vae_papers'"),
])
def test_bad_groups_are_refused_with_what_is_wrong(changes, message):
  with pytest.raises(spec_lib.StudyError, match=re_escape(message)):
    _grouped(**changes)
