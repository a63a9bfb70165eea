"""benchmarks/matmul_rate.py: the machine's float32 matmul rate."""

import os
import re
import subprocess
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

import matmul_rate  # pylint: disable=g-import-not-at-top,wrong-import-position


def test_each_round_gives_a_rate():
  rates = matmul_rate.matmul_rates(size=128, multiplies=3, repeats=2)
  assert len(rates) == 2 and all(rate > 0 for rate in rates)


def test_the_script_prints_the_rate_and_the_load():
  completed = subprocess.run(
      [sys.executable, os.path.join(REPO_ROOT, "benchmarks",
                                    "matmul_rate.py"),
       "--size=256", "--multiplies=2", "--repeats=2"],
      cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
      check=False)
  assert completed.returncode == 0, completed.stderr[-3000:]
  assert re.search(r"float32 256x256 matmul: best \d+ GFLOP/s, median \d+ "
                   r"GFLOP/s over 2 rounds of 2", completed.stdout), (
                       completed.stdout)
  assert "load average (1/5/15 min) before:" in completed.stdout
  # The program's own lines only: TensorFlow's start-up noise is hidden.
  assert "oneDNN" not in completed.stderr, completed.stderr
