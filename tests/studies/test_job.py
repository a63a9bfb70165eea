"""One study job end to end: train, export, score, done marker; skipped
when done, resumed after a kill, refused while another process holds it,
failed with the loader's message when its dataset has none."""

import errno
import json
import logging
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.studies import tiny_study
from tf_betavae import locking
from tf_betavae.studies import group_udr
from tf_betavae.studies import job as job_lib
from tf_betavae.studies import spec as spec_lib
from tf_betavae.studies import study_dir as study_dir_lib

ENV = dict(os.environ, PYTHONPATH=tiny_study.ROOT)


def _study(tmp_path, **kwargs):
  spec = tiny_study.spec(**kwargs)
  study_dir = str(tmp_path / "study")
  study_dir_lib.open_study(study_dir, spec)
  return study_dir, spec


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
  """A study of β = 4 over seeds 3 and 4; the first job run here."""
  study_dir, spec = _study(tmp_path_factory.mktemp("pair"), values=(4.0,),
                           seeds=(3, 4))
  first, second = spec_lib.jobs(spec)
  result = job_lib.run_job_task(study_dir, first.model_num)
  return {"study_dir": study_dir, "spec": spec, "first": first,
          "second": second, "result": result}


def test_a_job_trains_exports_scores_and_marks_itself_done(pair):
  study_dir, job, result = pair["study_dir"], pair["first"], pair["result"]
  assert result["state"] == job_lib.DONE, result["error"]
  row = result["row"]
  directory = study_dir_lib.job_dir(study_dir, job)
  assert row["job_id"] == spec_lib.job_id(job) == os.path.basename(directory)
  assert (row["dataset"], row["method"], row["hyperparameter"], row["value"],
          row["seed"], row["steps"]) == ("dsprites", "beta_vae", "beta", 4.0,
                                         3, 30)
  assert set(row["metrics"]) == {"beta_vae", "mig"}
  assert 0.0 <= row["metrics"]["mig"] <= 1.0
  assert 0.0 <= row["metrics"]["beta_vae"] <= 1.0
  assert row["wall_seconds"] == pytest.approx(
      row["train_seconds"] + row["evaluation_seconds"], abs=0.02)
  assert row["train_seconds"] > 0 and row["evaluation_seconds"] > 0
  export = os.path.join(study_dir, row["export_path"])
  assert os.path.exists(os.path.join(export, "saved_model.pb"))
  assert 0 <= row["active_latents"] <= 4 and row["kl"] >= 0
  # The trained model is what train_config says: the study's settings,
  # the grid's value and seed.
  run_config = json.load(open(os.path.join(directory, "run",
                                           "run_config.json")))
  stored = run_config.get("config", run_config)
  assert (stored["arch"], stored["latent_dim"], stored["beta"],
          stored["seed"], stored["steps"]) == ("mlp", 4, 4.0, 3, 30)
  # Each score is cached under its sizes: what the row holds.
  cached = json.load(open(os.path.join(directory, "metrics", "mig.json")))
  assert cached["key"]["num_train"] == 500
  assert cached["result"]["score"] == row["metrics"]["mig"]
  # done.json is written last and holds the row.
  done = json.load(open(os.path.join(directory, "done.json")))
  assert done["result"] == row
  newest = max(os.path.getmtime(os.path.join(root, name))
               for root, _, names in os.walk(directory) for name in names
               if name not in ("done.json", ".lock"))
  assert os.path.getmtime(os.path.join(directory, "done.json")) >= newest
  assert study_dir_lib.job_state(study_dir, job) == study_dir_lib.DONE

  # A finished job is skipped: nothing locked, nothing rewritten.
  before = os.path.getmtime(os.path.join(directory, "done.json"))
  start = time.monotonic()
  again = job_lib.run_job_task(study_dir, job.model_num)
  assert time.monotonic() - start < 1.0
  assert again["state"] == job_lib.SKIPPED and again["row"] == row
  assert os.path.getmtime(os.path.join(directory, "done.json")) == before


def test_a_lost_score_is_computed_again_and_nothing_else(pair, caplog):
  study_dir, job = pair["study_dir"], pair["first"]
  first = pair["result"]["row"]
  directory = study_dir_lib.job_dir(study_dir, job)
  os.remove(os.path.join(directory, "done.json"))
  os.remove(os.path.join(directory, "metrics", "mig.json"))
  beta_vae_cache = os.path.join(directory, "metrics", "beta_vae.json")
  kept = os.path.getmtime(beta_vae_cache)
  summary = os.path.join(directory, "run", "train_summary.json")
  trained = os.path.getmtime(summary)
  caplog.set_level(logging.INFO, logger="absl")
  second = job_lib.run_job_task(study_dir, job.model_num)
  assert second["state"] == job_lib.DONE
  # The run was finished: reused, not trained again.
  assert not any("resumed from" in r.getMessage() for r in caplog.records)
  assert os.path.getmtime(summary) == trained
  assert os.path.getmtime(beta_vae_cache) == kept
  assert second["row"]["metrics"] == first["metrics"]  # seeded samples
  assert second["row"]["steps"] == first["steps"]


def test_a_killed_job_resumes_from_its_checkpoint(tmp_path, caplog):
  study_dir, spec = _study(tmp_path, values=(1.0,), seeds=(0,), steps=200,
                           checkpoint_every=20, log_every=20)
  job = spec_lib.jobs(spec)[0]
  checkpoints = os.path.join(study_dir_lib.job_dir(study_dir, job), "run",
                             "checkpoints")
  process = subprocess.Popen(
      [sys.executable, "-c",
       "import sys; from tf_betavae.studies import job; "
       "job.run_job_task(sys.argv[1], 0)", study_dir], env=ENV,
      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  try:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
      if os.path.isdir(checkpoints) and any(
          name.endswith(".index") for name in os.listdir(checkpoints)):
        break
      assert process.poll() is None, "the job ended before its checkpoint"
      time.sleep(0.2)
    else:
      pytest.fail("no checkpoint within 120 s")
    assert study_dir_lib.job_state(study_dir, job) == study_dir_lib.RUNNING
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
  finally:
    if process.poll() is None:
      process.kill()
  assert study_dir_lib.job_state(study_dir, job) == study_dir_lib.STARTED
  caplog.set_level(logging.INFO, logger="absl")
  result = job_lib.run_job_task(study_dir, job.model_num)
  assert result["state"] == job_lib.DONE, result["error"]
  resumed = [r.getMessage() for r in caplog.records
             if "resumed from" in r.getMessage()]
  assert resumed and "at step 0" not in resumed[0], resumed
  assert result["row"]["steps"] == 200


def test_a_job_another_process_holds_is_busy_not_failed(tmp_path):
  study_dir, spec = _study(tmp_path, values=(1.0,), seeds=(0,))
  job = spec_lib.jobs(spec)[0]
  directory = study_dir_lib.job_dir(study_dir, job)
  os.makedirs(directory)
  holder = subprocess.Popen(
      [sys.executable, "-c",
       "import sys, time; from tf_betavae import locking\n"
       "with locking.exclusive(sys.argv[1]):\n"
       "  print('held', flush=True); time.sleep(60)", directory],
      env=ENV, stdout=subprocess.PIPE, text=True)
  try:
    assert holder.stdout.readline().strip() == "held"
    result = job_lib.run_job_task(study_dir, job.model_num)
    assert result["state"] == job_lib.BUSY
    assert "pid" in result["error"] or str(holder.pid) in result["error"]
    assert not os.path.exists(os.path.join(directory, "failed.json"))
    assert study_dir_lib.job_state(study_dir, job) == study_dir_lib.RUNNING
  finally:
    holder.kill()
    holder.wait()


def test_a_dataset_without_a_loader_fails_with_its_message(tmp_path):
  spec = spec_lib.slice_spec(spec_lib.unsupervised_study_v1(steps=10),
                             datasets=["cars3d"], seeds=[0],
                             methods=["beta_vae"], values=[1])
  study_dir = str(tmp_path / "study")
  study_dir_lib.open_study(study_dir, spec)
  job = spec_lib.jobs(spec)[0]
  assert job.model_num == 9000
  result = job_lib.run_job_task(study_dir, job.model_num)
  assert result["state"] == job_lib.FAILED
  assert "cars3d" in result["error"]
  failed = json.load(open(os.path.join(
      study_dir_lib.job_dir(study_dir, job), "failed.json")))
  assert failed["error"] in result["error"]
  assert failed["host"] == result["host"] and "Traceback" in failed[
      "traceback"]
  assert study_dir_lib.job_state(study_dir, job) == study_dir_lib.FAILED


def test_train_config_is_the_preset_then_the_settings_then_the_grid():
  spec = spec_lib.slice_spec(spec_lib.unsupervised_study_v1(),
                             datasets=["smallnorb"], seeds=[7],
                             methods=["factor_vae"], values=[30])
  job = spec_lib.jobs(spec)[0]
  config = job_lib.train_config(job)
  assert (config.dataset, config.method, config.factor_gamma, config.seed,
          config.steps, config.batch_size, config.learning_rate,
          config.latent_dim, config.arch) == (
              "smallnorb", "factor_vae", 30.0, 7, 300000, 64, 1e-4, 10,
              "conv")
  annealed = spec_lib.jobs(spec_lib.slice_spec(
      spec_lib.unsupervised_study_v1(steps=50), datasets=["dsprites"],
      seeds=[0], methods=["annealed_vae"], values=[25]))[0]
  config = job_lib.train_config(annealed)
  assert (config.objective, config.capacity_max, config.steps,
          config.checkpoint_every, config.log_every) == ("B", 25.0, 50, 50,
                                                         50)


def test_udr_of_a_group_needs_two_done_seeds_and_is_cached(pair):
  study_dir, first, second = pair["study_dir"], pair["first"], pair["second"]
  group = ("dsprites", "beta_vae", 4.0)
  spec = pair["spec"]
  alone = group_udr.run_udr_task(study_dir, *group)
  assert alone["state"] == job_lib.SKIPPED
  assert not group_udr.udr_needed(study_dir, spec, group)
  assert not os.path.exists(group_udr.udr_path(study_dir, group))
  # The group's last seed scores the group's UDR in its own process.
  assert job_lib.run_job_task(study_dir, second.model_num)["state"] == (
      job_lib.DONE)
  assert not group_udr.udr_needed(study_dir, spec, group)
  stored = json.load(open(group_udr.udr_path(study_dir, group)))["result"]
  assert set(stored["per_seed"]) == {"3", "4"}
  for seed, job in (("3", first), ("4", second)):
    entry = stored["per_seed"][seed]
    assert entry["job_id"] == spec_lib.job_id(job)
    assert np.isfinite(entry["udr_lasso"]) and np.isfinite(
        entry["udr_spearman"])
  again = group_udr.run_udr_task(study_dir, *group)
  assert again["state"] == job_lib.SKIPPED
  # Lost: the engine's UDR stage computes it again, the same.
  os.remove(group_udr.udr_path(study_dir, group))
  assert group_udr.udr_needed(study_dir, spec, group)
  scored = group_udr.run_udr_task(study_dir, *group)
  assert scored["state"] == job_lib.DONE, scored["error"]
  assert json.load(open(group_udr.udr_path(study_dir, group)))[
      "result"]["per_seed"] == stored["per_seed"]


def test_the_udr_names_are_the_selections():
  from tf_betavae.experiments import selection  # pylint: disable=g-import-not-at-top
  assert group_udr.UDR_METHODS == tuple(selection.METHODS)


def test_a_filesystem_without_locks_fails_the_job_saying_so(tmp_path,
                                                            monkeypatch):
  study_dir, spec = _study(tmp_path, values=(1.0,), seeds=(0,))
  job = spec_lib.jobs(spec)[0]

  def no_locks(*_):
    raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

  monkeypatch.setattr(locking.fcntl, "flock", no_locks)
  result = job_lib.run_job_task(study_dir, job.model_num)
  assert result["state"] == job_lib.FAILED
  assert "refuses file locks" in result["error"]
  assert "shared POSIX filesystem with flock" in result["error"]
  assert not os.path.exists(os.path.join(
      study_dir_lib.job_dir(study_dir, job), "run"))


def test_each_representation_is_a_column_set_cached_on_its_own(
    tmp_path, monkeypatch):
  from tests.experiments import fake_exports  # pylint: disable=g-import-not-at-top
  from tf_betavae.experiments import evaluations  # pylint: disable=g-import-not-at-top
  spec = spec_lib.StudySpec(
      name="reps", datasets=("dsprites",), methods=(("beta_vae", (4,)),),
      seeds=(0,), steps=1, metrics=("mig", "irs"),
      metric_sizes={"mig": (300, None), "irs": (300, None)},
      representations=("mean", "sampled"))
  assert spec.score_keys() == ("mig", "irs", "mig:sampled", "irs:sampled")
  (job,) = spec_lib.jobs(spec)
  directory = study_dir_lib.job_dir(str(tmp_path), job)
  export = fake_exports.save_fake_export(os.path.join(directory, "e", "1"))
  summary = {"export_path": export, "step": 1}
  config = job_lib.train_config(job)
  results = job_lib._evaluate(spec, job, config, directory, summary)  # pylint: disable=protected-access
  assert set(results) == set(spec.score_keys())
  for key in spec.score_keys():
    metric, _, representation = key.partition(":")
    path = job_lib.metric_path(str(tmp_path), job, metric,
                               representation or "mean")
    stored = json.load(open(path))
    assert stored["key"]["representation"] == (representation or "mean")
    assert stored["result"]["score"] == results[key]["score"]
  # A sample of the posterior (std exp(-1)) is not its mean.
  assert results["mig:sampled"]["score"] != results["mig"]["score"]
  # The mean's key is the one studies cached before representations were
  # a choice, so their scores are reused.
  assert os.path.basename(job_lib.metric_path(str(tmp_path), job,
                                              "mig")) == "mig.json"

  def no_metric(*args, **kwargs):
    raise AssertionError("a cached score was computed again")

  monkeypatch.setattr(evaluations, "timed_metric", no_metric)
  again = job_lib._evaluate(spec, job, config, directory, summary)  # pylint: disable=protected-access
  assert {k: r["score"] for k, r in again.items()} == {
      k: r["score"] for k, r in results.items()}
  with pytest.raises(spec_lib.StudyError, match="unknown representation"):
    spec_lib.StudySpec(name="x", datasets=("dsprites",),
                       methods=(("beta_vae", (4,)),), seeds=(0,),
                       representations=("median",))
