"""scripts/traverse.py end to end (subprocesses, as a user runs it)."""

import os
import subprocess
import sys

import numpy as np
from PIL import Image
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "traverse.py")
SMALL = ["--num_images=8", "--num_steps=4", "--gif_inputs=2",
         "--gif_frames=3", "--samples_per_value=1"]


def _traverse(*args):
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
  return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True,
                        text=True, env=env, cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
  """A run directory and export of an untrained 3-latent model."""
  import keras  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tf_betavae import export  # pylint: disable=g-import-not-at-top
  from tf_betavae import io_utils  # pylint: disable=g-import-not-at-top
  from tf_betavae import training  # pylint: disable=g-import-not-at-top
  root = str(tmp_path_factory.mktemp("traverse"))
  config = training.TrainConfig(latent_dim=3, steps=1, seed=2)
  model = training.build_model(config, (64, 64, 1))
  model.compile(optimizer=keras.optimizers.Adam(1e-3))
  model.optimizer.build(model.trainable_variables)
  model_dir = os.path.join(root, "model")
  os.makedirs(model_dir)
  io_utils.write_json_atomic(
      os.path.join(model_dir, training.RUN_CONFIG_FILE), config.to_dict())
  tf.train.CheckpointManager(
      training.make_checkpoint(model),
      os.path.join(model_dir, training.CHECKPOINT_SUBDIR), 1).save(1)
  export_path = export.export_model(
      model, os.path.join(root, "exported"), model_name="m",
      metadata=export.training_metadata(config, 1))
  return model_dir, export_path


def _check_pictures(directory, names):
  assert sorted(os.listdir(directory)) == sorted(names)
  for name in names:
    with Image.open(os.path.join(directory, name)) as picture:
      array = np.asarray(picture.convert("RGB"))
    assert array.shape[0] > 100 and array.shape[1] > 100, name
    assert array.std() > 10, name


def test_from_model_dir(run):
  model_dir, _ = run
  result = _traverse("--model_dir", model_dir, "--index=3", *SMALL)
  assert result.returncode == 0, result.stderr
  out = os.path.join(model_dir, "pictures")
  _check_pictures(out, ["traversal.png", "traversal.gif",
                        "reconstructions.png", "kl_per_latent.png",
                        "factor_response.png"])
  with Image.open(os.path.join(out, "traversal.png")) as picture:
    assert picture.size[1] == 14 + 3 * 64 + 4 * 2  # header + 3 latent rows
  with Image.open(os.path.join(out, "traversal.gif")) as gif:
    assert gif.n_frames == 4
  assert "traversal.png" in result.stdout


def test_from_export(run, tmp_path):
  _, export_path = run
  out = tmp_path / "pics"
  result = _traverse("--export", os.path.dirname(export_path),
                     "--output_dir", str(out), "--nofactor_response",
                     "--max_latents=2", "--absolute", *SMALL)
  assert result.returncode == 0, result.stderr
  _check_pictures(str(out), ["traversal.png", "traversal.gif",
                             "reconstructions.png", "kl_per_latent.png"])
  with Image.open(out / "traversal.png") as picture:
    assert picture.size[1] == 14 + 2 * 64 + 3 * 2


USAGE_ERRORS = [
    ([], "exactly one of --model_dir"),
    (["--model_dir=a", "--export=b"], "exactly one of --model_dir"),
    (["--model_dir=/nonexistent/run"], "does not exist"),
    (["--export=/nonexistent/export"], "/nonexistent/export"),
    (["--export", ROOT], "neither a SavedModel"),
    (["--model_dir=x", "--num_steps=1"], "--num_steps must be >= 2"),
    (["--model_dir=x", "--index=9", "--num_images=4"], "--index"),
    (["--model_dir=x", "--limit=0"], "--limit must be > 0"),
    (["--model_dir=x", "--num_steps=abc"], "num_steps"),
    (["--model_dir=x", "extra"], "unexpected arguments"),
]


@pytest.fixture(scope="module")
def usage_outcomes(tmp_path_factory, cases_in_one_process):
  return cases_in_one_process(SCRIPT, [args for args, _ in USAGE_ERRORS],
                              tmp_path_factory.mktemp("usage"))


@pytest.mark.parametrize("index", range(len(USAGE_ERRORS)))
def test_usage_errors(usage_outcomes, index, one_usage_error):
  one_usage_error("traverse.py", *usage_outcomes[index],
                  USAGE_ERRORS[index][1])


def test_bad_run_dir_is_a_usage_error(tmp_path, one_usage_error):
  """As a user runs it: a real process."""
  result = _traverse("--model_dir", str(tmp_path))
  one_usage_error("traverse.py", result.returncode, result.stderr,
                  "holds no training run")
