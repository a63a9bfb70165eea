"""scripts/train.py with the weakly-supervised methods: pairs of simulator
images and of frames, the export, and the usage errors."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.data import data_test_utils as utils
from tests.scripts import conftest

ROOT = conftest.ROOT
TRAIN = os.path.join(ROOT, "scripts", "train.py")

# Reads the export with TensorFlow alone (never tf_betavae), as TF Serving
# or a downstream model would.
_LOAD_EXPORT = r"""
import sys, numpy as np, tensorflow as tf
assert "tf_betavae" not in sys.modules
model = tf.saved_model.load(sys.argv[1])
images = tf.constant(np.random.RandomState(0).rand(3, 64, 64, 1) < 0.2,
                     tf.float32)
out = model.signatures["serving_default"](images=images)
print(tuple(out["latent_mean"].shape))
"""


def _frames(root, lengths):
  """Sequences of frames (a moving bright column) under root."""
  for s, length in enumerate(lengths):
    for f in range(length):
      image = np.zeros((16, 16, 3), np.uint8)
      image[:, (s + f) % 16] = 255
      utils.write_png(root / f"seq{s}" / f"{f:03d}.png", image)
  return str(root)


def test_ada_gvae_trains_on_simulator_pairs_and_exports(tmp_path):
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
  result = subprocess.run(
      [sys.executable, TRAIN, "--method=ada_gvae", "--steps=4",
       "--batch_size=8", "--log_every=2", "--checkpoint_every=2",
       "--image_summary_every=0", f"--model_dir={tmp_path}/run",
       f"--export_dir={tmp_path}/exp"], cwd=tmp_path, env=env,
      capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr[-3000:]
  assert "changed_latents" in result.stderr
  # A step encodes both images of 8 pairs.
  assert "images/s" in result.stderr
  export = tmp_path / "exp" / "dsprites_ada_gvae_beta8" / "1"
  metadata = json.load(open(export / "assets" / "tf_betavae_metadata.json"))
  assert metadata["method"] == "ada_gvae"
  assert metadata["hyperparameters"] == {"beta": 8.0, "k": -1}
  assert metadata["supervision"] == {
      "kind": "pairs", "pairs_from": "ground-truth factors", "k": -1,
      "labels": False}
  loaded = subprocess.run([sys.executable, "-c", _LOAD_EXPORT, str(export)],
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
                          capture_output=True, text=True, timeout=300)
  assert loaded.returncode == 0, loaded.stderr[-3000:]
  assert loaded.stdout.strip() == "(3, 8)"


# A training run (about 20 s): -m slow.
@pytest.mark.slow
def test_ada_ml_vae_trains_on_pairs_of_frames(tmp_path, cases_in_one_process):
  frames = _frames(tmp_path / "frames", [3, 4])
  (code, stderr), = cases_in_one_process(TRAIN, [[
      "--method=ada_ml_vae", f"--dataset=frames:{frames}", "--frame_gap=2",
      "--steps=2", "--batch_size=4", "--log_every=1",
      "--image_summary_every=0", f"--model_dir={tmp_path}/frames_run",
      f"--export_dir={tmp_path}/exp"]], tmp_path)
  assert code == 0, stderr[-3000:]
  config = json.load(open(tmp_path / "frames_run" / "run_config.json"))
  assert config["method"] == "ada_ml_vae" and config["frame_gap"] == 2
  metadata = json.load(open(
      tmp_path / "exp" / "frames_ada_ml_vae_beta4" / "1" / "assets" /
      "tf_betavae_metadata.json"))
  assert metadata["supervision"] == {
      "kind": "pairs", "pairs_from": "frames", "frame_gap": 2,
      "labels": False}
  assert metadata["hyperparameters"] == {"beta": 4.0, "frame_gap": 2}


def test_usage_errors_of_the_weak_methods(tmp_path, cases_in_one_process):
  frames = _frames(tmp_path / "frames", [3, 4])
  singles = _frames(tmp_path / "singles", [1, 1, 1])
  folder = _frames(tmp_path / "folder", [2])
  run = [f"--model_dir={tmp_path}/m", "--export_dir="]
  cases = [
      ["--method=ada_gvae", f"--dataset=folder:{folder}"],
      ["--method=group_vae", "--dataset=celeb_a"],
      ["--method=ada_gvae", "--k=6"],
      ["--method=ada_gvae", "--k=0"],
      ["--method=ml_vae", "--k=-2"],
      ["--method=ada_gvae", f"--dataset=frames:{singles}"],
      ["--method=ada_gvae", f"--dataset=frames:{frames}", "--frame_gap=0"],
      ["--method=ada_gvae", f"--dataset=frames:{frames}", "--frame_gap=9"],
      ["--method=group_vae", f"--dataset=frames:{frames}"],
      ["--method=ada_gvae", f"--dataset=frames:{frames}", "--k=2"],
      ["--method=ada_gvae", "--frame_gap=2"],
      ["--method=beta_vae", "--k=2"],
      ["--method=beta_vae", f"--dataset=frames:{frames}"],
      ["--method=group_vae", "--latent_dim=4"],
  ]
  fragments = [
      "which --dataset=folder:",
      "which --dataset=celeb_a cannot make",
      "--k must be an integer in 1..5",
      "--k must be an integer in 1..5",
      "or -1 (a random k per pair",
      "no sequence has 2 frames 1 apart (3 sequences, the longest has 1",
      "--frame_gap=0: must be a whole number of frames >= 1",
      "no sequence has 2 frames 9 apart",
      "pairs of frames carry no such label; use ada_gvae or ada_ml_vae",
      "--k is not read with --dataset=frames:",
      "--frame_gap is not read with --dataset=dsprites",
      "--k is a setting of --method=group_vae/ml_vae/ada_gvae/ada_ml_vae",
      "holds pairs of frames for the weakly-supervised methods",
      "needs --latent_dim >= the 5 factors of dsprites, got 4",
  ]
  outcomes = cases_in_one_process(TRAIN, [case + run for case in cases],
                                  tmp_path)
  assert len(outcomes) == len(fragments)
  for (code, stderr), fragment in zip(outcomes, fragments):
    conftest.assert_one_usage_error("train.py", code, stderr, fragment)
  assert not os.path.exists(tmp_path / "m")
