"""Transfer: a frozen exported encoder + a small head (tf_betavae.transfer)."""

import os
import subprocess
import sys

import numpy as np
import pytest

from tf_betavae import data
from tf_betavae import export
from tf_betavae import training
from tf_betavae import transfer

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def untrained_export(tmp_path_factory):
  config = training.TrainConfig(seed=3)
  model = training.build_model(config, (64, 64, 1))
  return export.export_model(model, str(tmp_path_factory.mktemp("untrained")),
                             model_name="untrained",
                             metadata={"dataset": "dsprites"})


def test_probe_freezes_the_encoder(tiny_run):
  probe = transfer.build_probe(tiny_run["summary"]["export_path"], 32)
  assert probe.output_shape == (None, 32)
  assert [w.name for w in probe.trainable_weights] == ["kernel", "bias"]
  with pytest.raises(KeyError, match="no output 'nope'"):
    transfer.build_probe(tiny_run["summary"]["export_path"], 3,
                         output_key="nope")


def test_trained_encoder_beats_untrained_on_position(untrained_export):
  # The shipped encoder (exported/dsprites/1) is the trained one.
  shipped = os.path.join(REPO_ROOT, "exported", "dsprites", "1")
  ground_truth = data.ground_truth("dsprites")
  settings = dict(num_train=2000, num_test=1000, epochs=20, seed=0,
                  hidden_units=32)
  trained = transfer.train_probe(shipped, ground_truth, "pos_x", **settings)
  untrained = transfer.train_probe(untrained_export, ground_truth, "pos_x",
                                   **settings)
  # Chance is 1/32 = 0.031; the untrained encoder stays near it.
  assert trained["chance"] == pytest.approx(1 / 32)
  assert trained["test_accuracy"] > 3 * untrained["test_accuracy"]
  assert trained["test_accuracy"] > 0.15


def test_transfer_script(tiny_run, tmp_path):
  script = os.path.join(REPO_ROOT, "scripts", "transfer.py")
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  bad = subprocess.run([sys.executable, script, f"--saved_model={tmp_path}"],
                       capture_output=True, text=True, timeout=300, env=env)
  assert bad.returncode == 2 and "not a SavedModel" in bad.stderr
  ok = subprocess.run(
      [sys.executable, script,
       f"--saved_model={tiny_run['summary']['export_path']}",
       "--factor=shape", "--num_train=300", "--num_test=200", "--epochs=2"],
      capture_output=True, text=True, timeout=300, env=env)
  assert ok.returncode == 0, ok.stderr[-2000:]
  assert "factor shape (3 classes)" in ok.stdout
  accuracy = float(ok.stdout.split("test accuracy ")[1].split(",")[0])
  assert 0.0 <= accuracy <= 1.0 and not np.isnan(accuracy)
