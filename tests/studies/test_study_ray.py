"""scripts/study.py --engine=ray on a Ray cluster in a private namespace:
the same rows as the local engine, the driver without TensorFlow."""

import csv
import json
import os
import sys
import textwrap

import pytest

from tests.studies import tiny_study
from tf_betavae.studies import job as job_lib
from tf_betavae.studies import spec as spec_lib
from tf_betavae.studies import study_dir as study_dir_lib

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
  sys.path.insert(0, HERE)

import ray_cluster  # pylint: disable=g-import-not-at-top,wrong-import-position
import test_ray_engine  # pylint: disable=g-import-not-at-top,wrong-import-position


# Slow (37 s idle, 81 s in the default run's company): a real study on a
# Ray cluster.  test_ray_engine's cluster tests (node loss, fresh workers,
# no TensorFlow in the driver) run by default, and the local engine's
# tests check the same job's scores against a run outside any engine.
@pytest.mark.slow
@test_ray_engine.needs_ray
@test_ray_engine.needs_isolation
def test_a_study_on_a_ray_cluster_scores_as_the_local_engine(tmp_path):
  study_dir = str(tmp_path / "study")
  command = [sys.executable, os.path.join(tiny_study.ROOT, "scripts",
                                          "study.py"),
             "--preset=sweep", "--methods=beta_vae", "--values=4",
             "--seeds=0,1", "--steps=30", f"--study_dir={study_dir}",
             "--engine=ray", "--num_cpus=1"] + tiny_study.FLAGS
  driver = textwrap.dedent(f"""\
      import json, os, subprocess, sys
      with open(os.environ["RAY_CLUSTER_INFO"]) as f:
        cluster = json.load(f)
      command = {command!r} + ["--ray_address=" + cluster["address"]]
      done = subprocess.run(command, capture_output=True, text=True)
      with open(os.environ["RESULT"], "w") as f:
        json.dump({{"code": done.returncode, "stdout": done.stdout,
                   "stderr": done.stderr[-6000:]}}, f)
      """)
  run = ray_cluster.run_isolated(
      driver, str(tmp_path), nodes=[{"name": "head", "num_cpus": 2}],
      env={"RESULT": str(tmp_path / "result.json"),
           "PYTHONPATH": tiny_study.ROOT}, timeout_s=240)
  assert run.returncode == 0, run.stdout[-6000:]
  result = json.load(open(tmp_path / "result.json"))
  assert result["code"] == 0, result["stderr"]
  assert "ran 2 of 2 jobs" in result["stdout"], result["stdout"]
  assert "2 done, 0 failed" in result["stdout"]
  progress = [l for l in result["stderr"].splitlines()
              if "of 2 finished" in l]
  assert len(progress) == 2 and "on the ray engine" in result["stderr"]
  with open(os.path.join(study_dir, "results.csv")) as f:
    rows = list(csv.DictReader(f))
  assert [r["state"] for r in rows] == ["done", "done"]
  assert all(r["udr_lasso"] != "" for r in rows)
  # Each job ran in a Ray worker, not in the driver: its own pid.
  spec = tiny_study.spec(values=(4.0,), seeds=(0, 1))
  jobs = spec_lib.jobs(spec)
  # The same job run here, outside Ray, scores the same.
  local_dir = str(tmp_path / "local")
  study_dir_lib.open_study(local_dir, spec)
  local = job_lib.run_job_task(local_dir, jobs[1].model_num)
  assert local["state"] == "done", local["error"]
  on_ray = json.load(open(os.path.join(
      study_dir_lib.job_dir(study_dir, jobs[1]), "done.json")))["result"]
  assert on_ray["metrics"] == local["row"]["metrics"]
  assert on_ray["kl"] == pytest.approx(local["row"]["kl"], rel=1e-6)
