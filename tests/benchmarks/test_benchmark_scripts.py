"""Smoke tests of benchmarks/*.py: each runs with tiny sizes and reports.

Each test runs a script in a subprocess with a few steps/images (well under
30 s on 2 cores) and checks its printout and JSON keys; the numbers
themselves are not checked (they depend on the machine's load).
"""

import json
import os
import subprocess
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BENCHMARKS = os.path.join(REPO_ROOT, "benchmarks")
# benchmarks/ is on sys.path through tests/benchmarks/conftest.py.

import memory_benchmark  # pylint: disable=g-import-not-at-top,wrong-import-position
import simulator_throughput  # pylint: disable=g-import-not-at-top,wrong-import-position
import train_throughput  # pylint: disable=g-import-not-at-top,wrong-import-position



def _run(script, *args, timeout=120):
  completed = subprocess.run(
      [sys.executable, os.path.join(BENCHMARKS, script), *args],
      cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout,
      check=False)
  assert completed.returncode == 0, completed.stderr[-3000:]
  return completed.stdout


def _torch_installed():
  try:
    import torch  # pylint: disable=g-import-not-at-top,unused-import
  except ImportError:
    return False
  return True


@pytest.mark.slow  # a minute or more of training on 2 cores
def test_train_throughput_runs_and_writes_json(tmp_path):
  output = tmp_path / "throughput.json"
  stdout = _run("train_throughput.py", "--steps=3", "--warmup_steps=1",
                "--repeats=1", "--torch_threads=0",
                "--torch_pool_batches=2", f"--output={output}")
  results = json.loads(output.read_text())
  assert set(train_throughput.RESULT_KEYS) <= set(results)
  assert "TF tf (tf.data pipeline)" in stdout
  assert results["summary"]["tf"]["images_per_second_median"] > 0
  if _torch_installed():
    assert "ratio TF/PyTorch images/s" in stdout
    assert results["summary"]["tf"]["ratio_to_torch_median"] > 0
    counts = set(results["parameter_count"].values())
    assert len(counts) == 1
    assert "pre-rendered" in results["torch_data"]
  else:
    assert "PyTorch is not installed" in stdout


def test_torch_and_tf_models_have_equal_parameter_counts():
  torch = pytest.importorskip("torch")
  model = train_throughput.build_torch_model()
  assert (train_throughput.torch_parameter_count(model) ==
          train_throughput.tf_parameter_count())
  images = (torch.rand(2, 1, 64, 64) > 0.5).float()
  assert model(images).shape == (2, 1, 64, 64)
  loss, reconstruction, kl = (t.item() for t in model.loss(images))
  assert loss == pytest.approx(reconstruction + 4 * kl, rel=1e-5)
  assert reconstruction > 0 and kl >= 0


@pytest.mark.slow  # a minute or more of training on 2 cores
def test_run_train_script_returns_summary(tmp_path):
  summary = train_throughput.run_train_script(
      3, str(tmp_path / "run"),
      os.path.join(REPO_ROOT, "scripts", "train.py"))
  for key in ("step", "steps_this_run", "train_seconds", "steps_per_second",
              "wall_seconds", "launcher"):
    assert key in summary
  assert summary["step"] == 3


def test_simulator_throughput_runs_and_writes_json(tmp_path):
  output = tmp_path / "simulator.json"
  stdout = _run("simulator_throughput.py", "--batch_sizes=64,256",
                "--images=512", "--numpy_images=256", "--repeats=1",
                f"--output={output}")
  results = json.loads(output.read_text())
  assert set(simulator_throughput.RESULT_KEYS) <= set(results)
  assert set(results["cases"]) == {
      "stream_graph/64", "stream_eager/64", "stream_graph/256",
      "stream_eager/256", "numpy_api"}
  assert results["target"]["case"] == "stream_graph/64"
  assert "target: stream_graph/64 >= 50000 images/s" in stdout


@pytest.mark.slow  # a minute or more of training on 2 cores
def test_memory_benchmark_runs_and_writes_json(tmp_path):
  output = tmp_path / "memory.json"
  stdout = _run("memory_benchmark.py", "--steps=6", "--early_step=2",
                "--log_every=2", f"--output={output}")
  results = json.loads(output.read_text())
  assert set(memory_benchmark.RESULT_KEYS) <= set(results)
  assert results["peak_rss_bytes"] > 0
  assert results["rss_at_early_step_bytes"] > 0
  assert results["rss_at_final_step_bytes"] > 0
  assert set(results["rss_by_step_bytes"]) == {"2", "4", "6"}
  assert "peak RSS" in stdout and "growth" in stdout


@pytest.mark.slow  # three spawned training workers: about a minute
def test_method_throughput_reports_every_method_against_beta_vae(tmp_path):
  output = tmp_path / "methods.json"
  stdout = _run("method_throughput.py", "--steps=2", "--warmup_steps=1",
                "--repeats=1", "--methods=factor_vae,beta_tc_vae",
                f"--output={output}", timeout=300)
  results = json.loads(output.read_text())
  assert set(results["summary"]) == {"beta_vae", "factor_vae", "beta_tc_vae"}
  assert results["summary"]["beta_vae"]["cost_vs_beta_vae"] == 1.0
  for entry in results["summary"].values():
    assert entry["images_per_second_median"] > 0
  assert "step cost vs beta_vae" in stdout and "target <= 1.5x" in stdout


def test_method_throughput_refuses_an_unknown_method():
  completed = subprocess.run(
      [sys.executable, os.path.join(BENCHMARKS, "method_throughput.py"),
       "--methods=vqvae"], cwd=REPO_ROOT, capture_output=True, text=True,
      timeout=120, check=False)
  assert completed.returncode == 2
  assert "unknown method 'vqvae'" in completed.stderr
