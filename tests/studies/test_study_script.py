"""scripts/study.py: the --list table, usage errors, no TensorFlow."""

import importlib.util
import json
import os
import subprocess
import sys

from tf_betavae.studies import spec as spec_lib
from tf_betavae.studies import study_dir as study_dir_lib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "study.py")
ENV = dict(os.environ, PYTHONPATH=ROOT)


def _script_helpers():
  """tests/scripts/conftest.py: one process for many cases of a script."""
  spec = importlib.util.spec_from_file_location(
      "script_test_helpers", os.path.join(ROOT, "tests", "scripts",
                                          "conftest.py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


HELPERS = _script_helpers()
# disentanglement_lib's grids in its method order (the test's own copy).
DLIB_MODELS = [(m, v) for m, values in (
    ("beta_vae", [1, 2, 4, 6, 8, 16]),
    ("factor_vae", [10, 20, 30, 40, 50, 100]),
    ("dip_vae_i", [1, 2, 5, 10, 20, 50]),
    ("dip_vae_ii", [1, 2, 5, 10, 20, 50]),
    ("beta_tc_vae", [1, 2, 4, 6, 8, 10]),
    ("annealed_vae", [5, 10, 25, 50, 75, 100])) for v in values]


def _run(*args, study_python=None):
  return subprocess.run(
      [sys.executable] + list(study_python or [SCRIPT]) + list(args),
      capture_output=True, text=True, timeout=120, cwd=ROOT, env=ENV)


def test_list_prints_the_36_dsprites_jobs_of_seed_0():
  done = _run("--preset=unsupervised_study_v1", "--datasets=dsprites",
              "--seeds=0", "--list")
  assert done.returncode == 0, done.stderr
  lines = done.stdout.splitlines()
  assert lines[0].split() == ["model_num", "job_id", "dataset", "method",
                              "value", "seed", "state"]
  assert lines[-1] == "36 of the 12600 jobs of unsupervised_study_v1"
  rows = [line.split() for line in lines[1:-1]]
  assert len(rows) == 36
  full = spec_lib.jobs(spec_lib.unsupervised_study_v1())
  for index, (row, (method, value)) in enumerate(zip(rows, DLIB_MODELS)):
    model_num = index * 50
    assert row == [str(model_num), spec_lib.job_id(full[model_num]),
                   "dsprites", method, str(value), "0", "-"]


def test_the_program_never_imports_tensorflow(tmp_path):
  # At exit (after absl's sys.exit), the modules the program loaded.
  wrapper = ("import atexit, runpy, sys\n"
             "atexit.register(lambda: open(sys.argv.pop(), 'w').write("
             "str(sorted(m for m in sys.modules if m.split('.')[0] in "
             "('tensorflow', 'keras')))))\n"
             "sys.argv = sys.argv[1:]\n"
             "runpy.run_path(sys.argv[0], run_name='__main__')\n")
  for args in (["--list", "--seeds=0", f"--study_dir={tmp_path}"],
               ["--model_num=-1", "--list"], ["--seeds=0"]):
    report = tmp_path / "modules.txt"
    done = _run(*args, str(report), study_python=["-c", wrapper, SCRIPT])
    assert done.returncode in (0, 2), done.stderr
    assert report.read_text() == "[]", args
  code = ("import sys\n"
          "import tf_betavae.models.methods, tf_betavae.studies.spec\n"
          "import tf_betavae.studies.study_dir, tf_betavae.studies.command\n"
          "assert 'tensorflow' not in sys.modules\n"
          "import tf_betavae.models as m\n"
          "assert 'BetaVAE' in dir(m) and 'tensorflow' not in sys.modules\n")
  done = _run(study_python=["-c", code])
  assert done.returncode == 0, done.stderr


def test_usage_errors_exit_2_with_one_line(tmp_path):
  a_file = tmp_path / "a_file"
  a_file.write_text("")
  other = tmp_path / "other"
  study_dir_lib.open_study(str(other), spec_lib.unsupervised_study_v1(100))
  cases = [
      ([], "running a study needs --study_dir (its only state); give "
       "--list"),
      (["--seeds=0"], "running a study needs --study_dir"),
      (["--report_only"], "--report_only needs --study_dir"),
      ([f"--study_dir={tmp_path / 'empty'}", "--report_only"],
       "study.json does not exist; create the study with scripts/study.py"),
      ([f"--study_dir={other}", "--report_only", "--list"],
       "--report_only reports a study or a slice of it; leave out --list"),
      ([f"--study_dir={other}", "--report_only", "--datasets=mnist"],
       "unknown dataset 'mnist' for this study"),
      (["--preset=sweep", "--list"], "--preset=sweep needs one method "
       "(--methods=M) and its values (--values=...)"),
      (["--preset=sweep", "--methods=beta_vae,factor_vae", "--values=1",
        "--list"], "--preset=sweep needs one method"),
      (["--preset=sweep", "--methods=nope", "--values=1", "--list"],
       "unknown method 'nope'"),
      (["--metrics=beta_vae,nope", "--list"], "unknown metric 'nope'"),
      (["--metric_sizes=mig=10", "--list"],
       "--metric_sizes takes metric=num_train:num_eval items"),
      (["--metric_sizes=mig=x:", "--list"],
       "--metric_sizes must be integers, got 'x'"),
      (["--metric_sizes=mig=0:", "--list"],
       "mig's num_train must be a positive integer"),
      (["--metrics=mig", "--metric_sizes=sap=10:10", "--list"],
       "metric_sizes names 'sap', which the study does not score"),
      (["--train_settings=latent_dim", "--list"],
       "--train_settings takes name=value items"),
      (["--train_settings=seed=3", "--list"],
       "train setting 'seed' is set by the study's grid per job"),
      (["--udr_num_points=0", "--list"],
       "udr_num_points must be a positive integer"),
      (["--threads_per_job=0", "--list"],
       "threads_per_job must be a positive integer, got 0"),
      ([f"--study_dir={tmp_path / 's'}", "--workers=0"],
       "--workers must be >= 1, got 0"),
      ([f"--study_dir={tmp_path / 's'}", "--ray_address=auto"],
       "--ray_address needs --engine=ray"),
      ([f"--study_dir={tmp_path / 's'}", "--max_retries=-1"],
       "--max_retries must be >= 0"),
      ([f"--study_dir={tmp_path / 's'}", "--engine=ray", "--num_cpus=0"],
       "--num_cpus must be > 0"),
      (["--model_num=12600", "--list"],
       "model_num 12600 is out of range: study unsupervised_study_v1 "
       "numbers its jobs 0 to 12599"),
      (["--model_num=-1", "--list"], "model_num -1 is out of range"),
      (["--model_num=1", "--seeds=0", "--list"], "not in this slice"),
      (["--values=4", "--list"], "values need exactly one method"),
      (["--methods=beta_vae", "--values=3", "--list"],
       "unknown beta value 3.0 for this study; choose from 1.0, 2.0"),
      (["--methods=beta_vae", "--values=big", "--list"],
       "--values must be numbers, got 'big'"),
      (["--seeds=x", "--list"], "--seeds must be integers, got 'x'"),
      (["--seeds=50", "--list"], "unknown seed 50 for this study"),
      (["--datasets=mnist", "--list"],
       "unknown dataset 'mnist' for this study; choose from dsprites"),
      (["--methods=vae", "--list"], "unknown method 'vae' for this study"),
      (["--preset=nope", "--list"], "--preset=nope"),
      (["--steps=0", "--list"], "steps must be a positive integer"),
      (["--list", "extra"], "unexpected arguments ['extra']"),
      ([f"--study_dir={a_file}", "--list"], "is a file; give a directory"),
      ([f"--study_dir={other}", "--list"],
       "holds another study (steps: 100 there, null now)"),
  ]
  outcomes = HELPERS.run_cases_in_one_process(
      SCRIPT, [args for args, _ in cases], tmp_path, timeout=120)
  for (args, fragment), (code, stderr) in zip(cases, outcomes):
    HELPERS.assert_one_usage_error("study.py", code, stderr, fragment)
  # And once as a user runs it.
  done = _run("--model_num=12600", "--list")
  assert done.returncode == 2 and done.stdout == ""
  assert done.stderr.splitlines() == [
      "study.py: error: model_num 12600 is out of range: study "
      "unsupervised_study_v1 numbers its jobs 0 to 12599"]


def test_list_with_a_study_dir_records_the_study_and_reads_states(tmp_path):
  root = str(tmp_path / "study")
  args = ["--datasets=smallnorb", "--methods=factor_vae", "--values=20",
          "--seeds=2,3", f"--study_dir={root}", "--list"]
  first, = HELPERS.run_cases_in_one_process(SCRIPT, [args], tmp_path,
                                            with_stdout=True)
  assert first[0] == 0, first[1]
  with open(os.path.join(root, "study.json")) as f:
    assert json.load(f)["name"] == "unsupervised_study_v1"
  study = spec_lib.unsupervised_study_v1()
  done_job = spec_lib.job_of(study, 4 * 1800 + 7 * 50 + 2)
  failed_job = spec_lib.job_of(study, 4 * 1800 + 7 * 50 + 3)
  study_dir_lib.mark_done(root, done_job, {})
  study_dir_lib.mark_failed(root, failed_job, "diverged")
  again, one = HELPERS.run_cases_in_one_process(
      SCRIPT, [args, args[:-2] + [f"--study_dir={root}", "--model_num=7553",
                                  "--list"]],
      tmp_path, with_stdout=True)
  assert [line.split()[::6] for line in first[2].splitlines()[1:3]] == [
      ["7552", "pending"], ["7553", "pending"]]
  assert [line.split()[::6] for line in again[2].splitlines()[1:3]] == [
      ["7552", "done"], ["7553", "failed"]]
  assert one[2].splitlines()[1].split() == [
      "7553", spec_lib.job_id(failed_job), "smallnorb", "factor_vae", "20",
      "3", "failed"]
  assert one[2].splitlines()[-1].startswith("1 of the 12600 jobs")


def test_help_lists_the_flags():
  done = _run("--help")  # absl's --help exits 1 after printing
  for name in ("--preset", "--study_dir", "--list", "--model_num",
               "--datasets", "--methods", "--values", "--seeds", "--steps"):
    assert name in done.stdout, done.stderr


def test_the_paper_preset_is_what_reproduce_trains():
  from tf_betavae.experiments import paper_study  # pylint: disable=g-import-not-at-top
  from tf_betavae.experiments import settings as settings_lib  # pylint: disable=g-import-not-at-top
  from tf_betavae.studies import command  # pylint: disable=g-import-not-at-top
  spec = command.build_spec(command.StudyFlags(preset="paper", seeds=["1"],
                                               steps=50))
  cpu = settings_lib.settings_from_preset("cpu", "unused", steps=50)
  assert spec.record() == paper_study.paper_spec(cpu).record()
  assert spec.name == "paper" and spec.num_jobs == 6
  jobs = spec_lib.jobs(spec)
  assert [(j.model_num, j.value, j.seed) for j in jobs] == [(1, 8.0, 1),
                                                            (4, 1.0, 1)]
  assert "beta_vae_paper" in spec.metrics
