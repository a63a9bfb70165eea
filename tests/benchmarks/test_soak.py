"""Tests of benchmarks/soak.py: its usage errors, its measuring helpers and
a short run (the numbers are checked for sanity only: they depend on load)."""

import json
import os
import subprocess
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BENCHMARKS = os.path.join(REPO_ROOT, "benchmarks")
# benchmarks/ is on sys.path through tests/benchmarks/conftest.py.

import soak  # pylint: disable=g-import-not-at-top,wrong-import-position



def _soak(*args, timeout=60):
  return subprocess.run(
      [sys.executable, os.path.join(BENCHMARKS, "soak.py"), *args],
      cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout,
      check=False)


@pytest.mark.parametrize("args, words", [
    (["--steps=0"], "--steps must be >= 1"),
    (["--steps=100", "--warmup_step=100"], "--warmup_step must be in"),
    (["--sample_seconds=0"], "--sample_seconds must be > 0"),
    (["--no_such_flag=1"], "no_such_flag"),
    (["--steps=ten"], "steps"),
])
def test_usage_errors_exit_2_with_one_line(tmp_path, args, words):
  output = tmp_path / "soak.json"
  completed = _soak(*args, f"--output={output}")
  assert completed.returncode == 2, completed.stderr
  lines = completed.stderr.strip().splitlines()
  assert len(lines) == 1, completed.stderr
  assert lines[0].startswith("soak.py: error: ") and words in lines[0]
  assert not output.exists()


def test_a_used_model_dir_is_refused_and_left_alone(tmp_path):
  model_dir = tmp_path / "run"
  model_dir.mkdir()
  (model_dir / "keep.txt").write_text("earlier run")
  completed = _soak(f"--model_dir={model_dir}", "--steps=10")
  assert completed.returncode == 2, completed.stderr
  assert "not an empty directory" in completed.stderr
  assert os.listdir(model_dir) == ["keep.txt"]


def test_directory_usage_and_checkpoints_kept(tmp_path):
  checkpoints = tmp_path / "checkpoints"
  checkpoints.mkdir()
  for step in (1000, 2000):
    (checkpoints / f"ckpt-{step}.index").write_bytes(b"i" * 10)
    (checkpoints / f"ckpt-{step}.data-00000-of-00001").write_bytes(b"d" * 90)
  (tmp_path / "events").write_bytes(b"e" * 7)
  assert soak.directory_usage(str(tmp_path)) == (207, 5)
  assert soak.checkpoints_kept(str(tmp_path)) == 2
  assert soak.directory_usage(str(tmp_path / "absent")) == (0, 0)


def test_tree_rss_counts_children():
  # A parent that waits for its child; the child says "ready" on the
  # shared stdout and both end when stdin closes.
  child = "import sys; print('ready', flush=True); sys.stdin.read()"
  parent = subprocess.Popen(
      [sys.executable, "-c",
       f"import subprocess, sys; subprocess.run([sys.executable, '-c', "
       f"{child!r}])"],
      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
  try:
    assert parent.stdout.readline().strip() == "ready"
    pids = soak.descendants(parent.pid)
    assert len(pids) == 2 and pids[0] == parent.pid
    total, count = soak.tree_rss_bytes(parent.pid)
    alone = soak.memory_benchmark.read_status_bytes(parent.pid, "VmRSS")
    assert count == 2 and total > alone > 0
  finally:
    parent.stdin.close()
    parent.wait(timeout=30)


@pytest.mark.slow  # about 20 s of training on 2 cores, more under load
def test_short_soak_writes_json_with_sane_values(tmp_path):
  output = tmp_path / "soak.json"
  model_dir = tmp_path / "run"
  completed = _soak("--steps=60", "--warmup_step=10", "--log_every=10",
                    "--checkpoint_every=10", "--image_summary_every=20",
                    "--sample_seconds=0.5", f"--model_dir={model_dir}",
                    f"--output={output}", timeout=300)
  assert completed.returncode == 0, completed.stderr[-3000:]
  results = json.loads(output.read_text())
  assert set(soak.RESULT_KEYS) <= set(results)
  assert results["finished"] and results["returncode"] == 0
  assert results["steps"] == 60 and results["step_reached"] == 60
  assert results["rss_warmup_step"] == 10
  assert set(results["rss_by_step_bytes"]) == {
      str(s) for s in range(10, 61, 10)}
  assert 1e8 < results["rss_at_warmup_bytes"] < 1e10
  assert results["rss_at_end_bytes"] > 1e8
  assert (results["max_rss_after_warmup_bytes"] >=
          max(results["rss_at_warmup_bytes"], results["rss_at_end_bytes"]))
  assert results["growth_fraction"] == pytest.approx(
      results["rss_at_end_bytes"] / results["rss_at_warmup_bytes"] - 1)
  assert results["checkpoints_kept_final"] == 3
  assert results["targets"]["checkpoints_met"]
  assert 0 < results["run_dir_bytes_final"] <= results["run_dir_bytes_max"]
  assert results["run_dir_files_final"] == len(
      [f for _, _, files in os.walk(model_dir) for f in files])
  assert results["steps_per_second"] > 0
  assert set(results["cpu_affinity"]) <= os.sched_getaffinity(0)
  samples = results["samples"]
  assert samples and all(s["step"] <= 60 for s in samples)
  assert all(s["rss_bytes"] is None or s["rss_bytes"] > 0 for s in samples)
  assert samples[-1]["rss_bytes"] is None  # read after the run ended
  assert samples[-1]["run_dir_bytes"] == results["run_dir_bytes_final"]
  stdout = completed.stdout
  assert "checkpoints kept at end" in stdout
  assert ("PASS: RSS growth" in stdout) != ("FAIL: RSS growth" in stdout)
  assert "PASS: checkpoints kept at end 3 (target 3)" in stdout
