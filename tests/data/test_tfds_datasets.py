"""celeb_a, shapes3d and the registry through tfds.testing.mock_data.

The real code path (tfds builder -> records -> parallel decode -> batches ->
train.py's main, and ground truth -> metric) runs on mocked records; nothing
is downloaded.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from tf_betavae import data
from tf_betavae import metrics
import data_test_utils as utils

tfds = pytest.importorskip("tensorflow_datasets")


@pytest.fixture
def mock_tfds():
  with tfds.testing.mock_data(num_examples=24):
    yield


@pytest.mark.parametrize("name, channels", [("celeb_a", 3), ("shapes3d", 3)])
@pytest.mark.parametrize("cache_limit", [None, 0])  # in memory / streamed
def test_stream_shape_range_and_resume(mock_tfds, name, channels,
                                       cache_limit):
  del mock_tfds

  def batches(start, count, seed=0):
    dataset, shape = data.training_dataset(
        name, 8, seed, start_batch=start, data_dir="/nonexistent",
        cache_limit_bytes=cache_limit)
    assert shape == (64, 64, channels)
    return [b.numpy() for b in dataset.take(count)]

  run = batches(0, 5)
  assert run[0].shape == (8, 64, 64, channels)
  assert run[0].dtype == np.float32
  assert 0.0 <= run[0].min() and run[0].max() <= 1.0 and run[0].std() > 0.01
  # 24 examples = 3 batches per epoch; the next epoch is a new order.
  first_epoch = np.concatenate(run[:3])
  assert len(np.unique(first_epoch.reshape(24, -1), axis=0)) == 24
  assert not np.array_equal(run[0], run[3])
  resumed = batches(3, 2)
  np.testing.assert_array_equal(run[3], resumed[0])
  np.testing.assert_array_equal(run[4], resumed[1])
  assert not np.array_equal(run[0], batches(0, 1, seed=1)[0])


def test_celeb_a_crop_and_resize_of_a_known_image():
  """The 148 centre crop of a 218x178 JPEG, resized to 64 (real-size data)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tf_betavae.data import celeb_a  # pylint: disable=g-import-not-at-top
  image = np.zeros((218, 178, 3), np.uint8)
  image[35:35 + 148, 15:15 + 148] = 200  # exactly the crop window
  contents = tf.io.encode_jpeg(image, quality=100)
  out = celeb_a.preprocess(contents).numpy()
  assert out.shape == (64, 64, 3) and out.dtype == np.uint8
  assert abs(int(out.min()) - 200) <= 3  # nothing outside the window


@pytest.mark.parametrize("args", [
    ["--dataset=celeb_a"],
    ["--dataset=shapes3d", "--likelihood=gaussian"],
    ["--dataset=dsprites_official"],
])
def test_train_cli_on_mock_tfds(mock_tfds, args, tmp_path):
  del mock_tfds
  code = utils.run_train(utils.QUICK_TRAIN[:-1] + args + [
      "--data_dir=/nonexistent", f"--model_dir={tmp_path}/run"])
  assert code == 0
  summary = utils.read_json(tmp_path / "run" / "train_summary.json")
  assert summary["step"] == 2
  assert np.isfinite(summary["metrics"]["loss"])
  config = utils.read_json(tmp_path / "run" / "run_config.json")
  if args == ["--dataset=celeb_a"]:  # the paper's CelebA defaults
    assert config["likelihood"] == "gaussian" and config["latent_dim"] == 32


def test_celeb_a_defaults_yield_to_explicit_flags(mock_tfds, tmp_path):
  del mock_tfds
  code = utils.run_train(utils.QUICK_TRAIN + [
      "--dataset=celeb_a", "--likelihood=bernoulli",
      "--data_dir=/nonexistent", f"--model_dir={tmp_path}/run"])
  assert code == 0
  config = utils.read_json(tmp_path / "run" / "run_config.json")
  assert config["likelihood"] == "bernoulli" and config["latent_dim"] == 3


def test_shapes3d_ground_truth_and_metric(mock_tfds):
  del mock_tfds
  gt = data.ground_truth("shapes3d", data_dir="/nonexistent")
  assert gt.factor_names == ("floor_hue", "wall_hue", "object_hue", "scale",
                             "shape", "orientation")
  assert gt.factors_num_values == [10, 10, 10, 8, 4, 15]
  assert gt.observation_shape == (64, 64, 3)
  factors = gt.sample_factors(30, np.random.RandomState(0))
  images = gt.sample_observations_from_factors(factors)
  assert images.shape == (30, 64, 64, 3) and images.max() <= 1.0
  result = metrics.run_metric(
      "mig", gt, lambda x: x.reshape(len(x), -1)[:, ::3000],
      np.random.RandomState(0), num_train=100)
  assert 0.0 <= result["score"] <= 1.0


def test_evaluate_script_on_mock_shapes3d(tmp_path):
  """`python scripts/evaluate.py --dataset=shapes3d ...` under mock_data."""
  out = tmp_path / "results.json"
  code = (
      "import runpy, sys, tensorflow_datasets as tfds\n"
      "sys.argv = ['evaluate.py', '--dataset=shapes3d', '--baseline=untrained',\n"
      "            '--baseline_dim=3', '--metrics=mig', '--num_train=60',\n"
      f"            '--output={out}']\n"
      "with tfds.testing.mock_data(num_examples=40):\n"
      f"  runpy.run_path({os.path.join(utils.REPO_ROOT, 'scripts', 'evaluate.py')!r},"
      " run_name='__main__')\n")
  result = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=300,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
  assert result.returncode == 0, result.stderr[-3000:]
  results = utils.read_json(out)
  assert results["mig"]["dataset"] == "shapes3d"
  assert 0.0 <= results["mig"]["score"] <= 1.0


def test_unprepared_tfds_dataset_message(tmp_path):
  with pytest.raises(data.DatasetUnavailableError) as info:
    data.training_dataset("celeb_a", 8, 0, data_dir=str(tmp_path))
  message = str(info.value)
  assert "\n" not in message
  assert f"not prepared for tensorflow-datasets in {tmp_path}" in message
  assert f"{tmp_path}/downloads/manual" in message
  assert "folder:" in message
  with pytest.raises(data.DatasetUnavailableError, match="shapes3d"):
    data.ground_truth("shapes3d", data_dir=str(tmp_path))
  with pytest.raises(data.DatasetUnavailableError, match="--dsprites_file"):
    data.ground_truth("dsprites_official", data_dir=str(tmp_path))


@pytest.mark.parametrize("args, message", [
    (["--dataset=celeb_a", "--beta=250"], "tensorflow-datasets in {tmp}"),
    (["--dataset=shapes3d"], "tfds build shapes3d --data_dir={tmp}"),
    (["--dataset=dsprites_official"], "--dsprites_file"),
    (["--dsprites_file={tmp}/none.npz"], "no such file"),
    (["--dataset=celeb_a", "--dsprites_file={tmp}/x.npz"],
     "--dsprites_file is read only with --dataset=dsprites_official"),
    (["--dataset=folder:{tmp}/nowhere"], "no such directory"),
    (["--dataset=mnist"], "valid names: dsprites, celeb_a, dsprites_official"),
])
def test_cli_data_errors_exit_2_with_one_line(args, message, tmp_path, capsys):
  args = [a.format(tmp=tmp_path) for a in args]
  code = utils.run_train(args + [f"--data_dir={tmp_path}",
                                 f"--model_dir={tmp_path}/m"])
  err = capsys.readouterr().err
  assert code == 2, err
  lines = [l for l in err.splitlines() if l.startswith("train.py")]
  assert len(lines) == 1 and message.format(tmp=tmp_path) in lines[0], err
  assert not os.path.exists(tmp_path / "m")


def test_registry_names_and_shapes():
  assert data.image_shape("celeb_a") == (64, 64, 3)
  assert data.image_shape("folder:/anything") == (64, 64, 3)
  assert data.image_shape("dsprites_official") == (64, 64, 1)
  assert data.is_known("folder:/x") and not data.is_known("folder:")
  with pytest.raises(data.UnknownDatasetError, match="valid names"):
    data.image_shape("mnist")
  with pytest.raises(data.DatasetUnavailableError, match="no ground-truth"):
    data.ground_truth("celeb_a")
