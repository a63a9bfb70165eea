import numpy as np
import pytest

from tf_betavae.metrics import dci


def test_scores_of_known_importance_matrices():
  assert dci.disentanglement(np.eye(3)) == pytest.approx(1.0)
  assert dci.completeness(np.eye(3)) == pytest.approx(1.0)
  assert dci.disentanglement(np.ones((3, 3))) == pytest.approx(0.0, abs=1e-9)
  assert dci.completeness(np.ones((3, 3))) == pytest.approx(0.0, abs=1e-9)
  # Each code splits its importance over 2 of 4 factors: 1 - log 2 / log 4.
  half = np.kron(np.eye(2), np.ones((2, 2)))
  assert dci.disentanglement(half) == pytest.approx(0.5)
  assert dci.completeness(half) == pytest.approx(0.5)
  # One code explains everything: disentangled, but factor 1 is spread.
  one = np.array([[1.0, 0.0], [0.0, 0.0]])
  assert dci.disentanglement(one) == pytest.approx(1.0)
  # An unused extra code does not change disentanglement (zero weight).
  np.testing.assert_allclose(dci.disentanglement(np.vstack([np.eye(3), 0 * np.eye(3)[:1]])), 1.0)
  # Per-code values.
  np.testing.assert_allclose(
      dci.disentanglement_per_code(np.array([[1., 0.], [1., 1.]])), [1., 0.],
      atol=1e-9)


def _run(gt, fn, seed=0):
  return dci.compute_dci(gt, fn, np.random.RandomState(seed), num_train=500,
                         num_test=250)


def test_synthetic_representations(synthetic):
  gt = synthetic.FactorGroundTruth((2, 3, 4, 4))
  ident = _run(gt, synthetic.identity(gt))
  assert ident["disentanglement"] > 0.99 and ident["completeness"] > 0.99
  assert ident["informativeness_test"] == 1.0
  rand = _run(gt, synthetic.random(4))
  assert rand["disentanglement"] < 0.1 and rand["completeness"] < 0.1
  extra = _run(gt, synthetic.extra_noise_dims(gt, extra=4))
  assert extra["disentanglement"] == pytest.approx(ident["disentanglement"],
                                                   abs=0.03)
  gt4 = synthetic.FactorGroundTruth((4, 4, 4, 4))
  mixed = _run(gt4, synthetic.mixed(gt4))
  assert mixed["disentanglement"] == pytest.approx(0.5, abs=0.1)
  assert mixed["completeness"] == pytest.approx(0.5, abs=0.1)
  assert ident["parameters"]["num_train"] == 500


def test_same_seed_same_score(synthetic):
  gt = synthetic.FactorGroundTruth((2, 3, 4))
  a = _run(gt, synthetic.noisy_identity(gt, 0.3, seed=2), seed=1)
  b = _run(gt, synthetic.noisy_identity(gt, 0.3, seed=2), seed=1)
  assert a["score"] == b["score"] and a["completeness"] == b["completeness"]


# DCI's classifier workers, started from a program that quieted TensorFlow
# the way the package's programs do (tf_betavae.cli): enough samples that
# the fits go to worker processes.
_DCI_PROGRAM = """
import sys
import numpy as np
from tf_betavae import cli

def main():
  cli.import_tensorflow_quietly()
  from tf_betavae.metrics import dci
  rng = np.random.RandomState(0)
  codes = rng.normal(size=(dci.PROCESSES_FROM_SAMPLES, 2))
  factors = (codes > 0).astype(int)
  _, train_accuracy, _ = dci.importance_gbt(
      codes, factors, codes[:50], factors[:50], rng, n_jobs=2,
      classifier="gbt")
  print("train accuracy", train_accuracy.tolist())

if __name__ == "__main__":
  main()
"""


def test_classifier_workers_start_quietly(tmp_path):
  import os  # pylint: disable=g-import-not-at-top
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  from tf_betavae import tf_startup  # pylint: disable=g-import-not-at-top
  script = tmp_path / "program.py"
  script.write_text(_DCI_PROGRAM)
  env = {k: v for k, v in os.environ.items()
         if k not in ("TF_CPP_MIN_LOG_LEVEL", tf_startup.QUIET_ENV)}
  result = subprocess.run([sys.executable, str(script)], capture_output=True,
                          text=True, timeout=300, check=False, env=env)
  assert result.returncode == 0, result.stderr[-3000:]
  assert "train accuracy [1.0, 1.0]" in result.stdout
  noise = [line for line in result.stderr.splitlines()
           if tf_startup.startup_noise(line, driver_present=False)
           or "absl::InitializeLog" in line]
  assert not noise, result.stderr[-3000:]


def test_each_fitted_classifier_is_logged_with_the_time_left(caplog):
  import logging  # pylint: disable=g-import-not-at-top
  import re  # pylint: disable=g-import-not-at-top
  rng = np.random.RandomState(0)
  codes = rng.normal(size=(300, 2))
  factors = np.stack([(codes[:, 0] > 0).astype(int),
                      np.digitize(codes[:, 1], [-1.0, 0.0, 1.0])], axis=1)
  with caplog.at_level(logging.INFO, logger="absl"):
    dci.importance_gbt(codes, factors, codes, factors, rng, n_jobs=2,
                       classifier="gbt")
  lines = [r.getMessage() for r in caplog.records
           if r.getMessage().startswith("DCI: classifier")]
  assert len(lines) == 2, lines
  # Reported as they finish; the time left is counted in classes (6).
  assert re.fullmatch(r"DCI: classifier 1 of 2 fitted \(factor [01], [24] "
                      r"classes\): \d+ s elapsed, about \d+ s left",
                      lines[0]), lines[0]
  assert re.fullmatch(r"DCI: classifier 2 of 2 fitted \(factor [01], [24] "
                      r"classes\): \d+ s elapsed, done", lines[1]), lines[1]
  assert {line.split("(")[1].split(")")[0] for line in lines} == {
      "factor 0, 2 classes", "factor 1, 4 classes"}
