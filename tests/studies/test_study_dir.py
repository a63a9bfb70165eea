"""tf_betavae.studies.study_dir: study.json, markers, job states."""

import json
import os

import pytest

from tf_betavae import locking
from tf_betavae.studies import spec as spec_lib
from tf_betavae.studies import study_dir as study_dir_lib


@pytest.fixture
def study():
  return spec_lib.unsupervised_study_v1()


def test_study_json_is_written_once_and_checked_after(tmp_path, study):
  path = study_dir_lib.open_study(str(tmp_path), study)
  with open(path) as f:
    record = json.load(f)
  assert record["name"] == "unsupervised_study_v1"
  assert record["datasets"][5] == "cars3d" and len(record["seeds"]) == 50
  assert record["methods"][1] == ["factor_vae",
                                  [10.0, 20.0, 30.0, 40.0, 50.0, 100.0]]
  before = os.stat(path).st_mtime_ns
  # The same study, and any slice of it, may share the directory.
  study_dir_lib.open_study(str(tmp_path), study)
  study_dir_lib.open_study(str(tmp_path), spec_lib.slice_spec(
      study, datasets=["shapes3d"], seeds=[4]))
  assert os.stat(path).st_mtime_ns == before
  assert not [n for n in os.listdir(tmp_path) if n.startswith(".tmp")]


def test_another_study_is_refused_naming_the_differences(tmp_path, study):
  study_dir_lib.open_study(str(tmp_path), study)
  with pytest.raises(spec_lib.StudyError) as error:
    study_dir_lib.open_study(str(tmp_path), spec_lib.slice_spec(
        study, steps=1000))
  message = str(error.value)
  assert message == (f"study directory {tmp_path} holds another study "
                     "(steps: null there, 1000 now); use another study "
                     "directory or the same study")
  with pytest.raises(spec_lib.StudyError) as error:
    study_dir_lib.open_study(str(tmp_path), spec_lib.sweep_spec(
        "beta_vae", [4], [0]))
  message = str(error.value)
  for field in ("datasets:", "methods:", "name:", "seeds:", "train_preset:"):
    assert field in message
  assert "steps:" not in message and "metrics:" not in message
  assert len(message.splitlines()) == 1


def test_a_damaged_study_json_is_refused(tmp_path, study):
  (tmp_path / "study.json").write_text("[1, 2")
  with pytest.raises(spec_lib.StudyError, match="is not a study record"):
    study_dir_lib.open_study(str(tmp_path), study)


def test_markers_and_locks_give_the_job_state(tmp_path, study):
  root = str(tmp_path)
  job = spec_lib.job_of(study, 351)
  directory = study_dir_lib.job_dir(root, job)
  assert directory == os.path.join(root, "jobs", spec_lib.job_id(job))
  assert study_dir_lib.job_state(root, job) == "pending"
  study_dir_lib.write_job_file(root, job)
  with open(os.path.join(directory, "job.json")) as f:
    assert json.load(f) == {"job_id": spec_lib.job_id(job), "model_num": 351,
                            "settings": {**job.settings}}
  assert study_dir_lib.job_state(root, job) == "started"
  with locking.exclusive(directory, "job"):
    assert study_dir_lib.job_state(root, job) == "running"
  assert study_dir_lib.job_state(root, job) == "started"  # lock released
  study_dir_lib.mark_failed(root, job, RuntimeError("out of memory"))
  with open(os.path.join(directory, "failed.json")) as f:
    failed = json.load(f)
  assert (failed["error_type"], failed["error"]) == ("RuntimeError",
                                                     "out of memory")
  assert study_dir_lib.job_state(root, job) == "failed"
  with locking.exclusive(directory, "job"):  # a retry
    assert study_dir_lib.job_state(root, job) == "running"
    study_dir_lib.mark_done(root, job, {"score": 0.5})
    assert study_dir_lib.job_state(root, job) == "done"
  assert not os.path.exists(os.path.join(directory, "failed.json"))
  with open(os.path.join(directory, "done.json")) as f:
    assert json.load(f)["result"] == {"score": 0.5}
  other = spec_lib.job_of(study, 352)
  assert study_dir_lib.job_state(root, other) == "pending"
