"""The official dSprites data: npz/hdf5 files written here, tfds mock."""

import os

import numpy as np
import pytest
import tensorflow as tf

from tf_betavae import data
from tf_betavae import metrics
from tf_betavae.data import dsprites_official
from tf_betavae.data import indexed
import data_test_utils as utils

# A subset of the grid: every shape and scale at a few orientations and
# positions (3 * 6 * 2 * 2 * 3 = 216 rows), stored in shuffled order.
_GRID = np.stack(np.meshgrid(np.arange(3), np.arange(6), [0, 7], [3, 20],
                             [0, 15, 31], indexing="ij"), -1).reshape(-1, 5)


@pytest.fixture(scope="module")
def subset_npz(tmp_path_factory):
  rows = np.random.RandomState(0).permutation(_GRID)
  arrays = utils.official_dsprites_subset(rows)
  path = tmp_path_factory.mktemp("dsprites") / dsprites_official.FILE_NAMES[0]
  np.savez_compressed(path, **arrays)
  return str(path), rows, arrays["imgs"]


def test_npz_subset_indexes_by_factors(subset_npz):
  path, rows, imgs = subset_npz
  gt = data.ground_truth("dsprites_official", dsprites_file=path)
  assert gt.factor_names == ("shape", "scale", "orientation", "pos_x",
                             "pos_y")
  assert gt.factors_num_values == [3, 6, 40, 32, 32]
  assert gt.observation_shape == (64, 64, 1) and not gt.complete
  # Ask in another order than stored: each image is its own row's.
  ask = rows[[5, 0, 100, 215, 5]]
  images = gt.sample_observations_from_factors(ask)
  assert images.shape == (5, 64, 64, 1) and images.dtype == np.float32
  np.testing.assert_array_equal(images[..., 0], imgs[[5, 0, 100, 215, 5]])
  assert images[0].sum() > 20  # a sprite, not an empty frame
  # Sampling draws stored combinations only.
  sampled = gt.sample_factors(50, np.random.RandomState(1))
  assert sampled.shape == (50, 5)
  stored = {tuple(r) for r in rows.tolist()}
  assert all(tuple(f) in stored for f in sampled.tolist())
  gt.sample_observations_from_factors(sampled)


def test_missing_and_bad_factors_are_refused(subset_npz):
  gt = data.ground_truth("dsprites_official", dsprites_file=subset_npz[0])
  with pytest.raises(indexed.MissingFactorsError,
                     match=r"not in the data.*'orientation': 1.*216 of the "
                           r"737280"):
    gt.sample_observations_from_factors(np.array([[0, 0, 1, 3, 0]]))
  with pytest.raises(ValueError, match="out of range"):
    gt.sample_observations_from_factors(np.array([[3, 0, 0, 3, 0]]))
  with pytest.raises(ValueError, match=r"shape \[num, 5\]"):
    gt.sample_observations_from_factors(np.zeros((2, 6), int))


def test_hdf5_and_data_dir_lookup(subset_npz, tmp_path):
  h5py = pytest.importorskip("h5py")
  path, rows, imgs = subset_npz
  arrays = np.load(path, allow_pickle=True)
  h5 = tmp_path / dsprites_official.FILE_NAMES[1]
  with h5py.File(h5, "w") as f:
    f["imgs"] = arrays["imgs"]
    f["latents/classes"] = arrays["latents_classes"]
    f["latents/values"] = arrays["latents_values"]
  # data_dir holding the file under its official name is found too.
  gt = data.ground_truth("dsprites_official", data_dir=str(tmp_path))
  np.testing.assert_array_equal(
      gt.sample_observations_from_factors(rows[:3])[..., 0], imgs[:3])


def test_full_grid_uses_strides():
  num_values = (2, 3, 4)
  classes = np.stack(np.meshgrid(*[np.arange(n) for n in num_values],
                                 indexing="ij"), -1).reshape(-1, 3)
  images = np.arange(24, dtype=np.uint8).reshape(24, 1, 1, 1)
  gt = indexed.IndexedGroundTruth("toy", images, classes, "abc", num_values,
                                  (1, 1, 1), decode=lambda x: x * 1.0)
  assert gt.complete
  np.testing.assert_array_equal(
      gt.sample_observations_from_factors(np.array([[1, 2, 3], [0, 1, 2]]))
      .ravel(), [23, 6])
  factors = gt.sample_factors(1000, np.random.RandomState(0))
  assert [len(np.unique(factors[:, i])) for i in range(3)] == [2, 3, 4]
  # The same rows shuffled are a subset-style table, same answers.
  order = np.random.RandomState(0).permutation(24)
  shuffled = indexed.IndexedGroundTruth("toy", images[order], classes[order],
                                        "abc", num_values, (1, 1, 1),
                                        decode=lambda x: x * 1.0)
  assert not shuffled.complete
  np.testing.assert_array_equal(
      shuffled.sample_observations_from_factors(np.array([[1, 2, 3]])).ravel(),
      [23])


def test_not_official_file_is_a_clear_error(tmp_path):
  path = tmp_path / "other.npz"
  np.savez(path, x=np.zeros(3))
  with pytest.raises(data.DatasetUnavailableError, match="no 'imgs' array"):
    data.ground_truth("dsprites_official", dsprites_file=str(path))
  with pytest.raises(data.DatasetUnavailableError, match="no such file"):
    data.ground_truth("dsprites_official",
                      dsprites_file=str(tmp_path / "missing.npz"))


def test_training_stream_covers_epochs_and_resumes(subset_npz):
  path = subset_npz[0]

  def batches(start, count, seed=0):
    dataset, shape = data.training_dataset(
        "dsprites_official", 72, seed, start_batch=start,
        dsprites_file=path)
    assert shape == (64, 64, 1)
    return [b.numpy() for b in dataset.take(count)]

  run = batches(0, 5)
  assert run[0].shape == (72, 64, 64, 1) and run[0].dtype == np.float32
  assert set(np.unique(run[0])) <= {0.0, 1.0}
  # 216 rows = 3 batches per epoch: each epoch is a permutation of the rows.
  epoch = np.concatenate(run[:3]).reshape(216, -1)
  assert len(np.unique(epoch, axis=0)) == len(
      np.unique(subset_npz[2].reshape(216, -1), axis=0))
  resumed = batches(4, 1)
  np.testing.assert_array_equal(run[4], resumed[0])
  assert not np.array_equal(run[0], batches(0, 1, seed=1)[0])


def test_metric_runs_on_the_file(subset_npz):
  gt = data.ground_truth("dsprites_official", dsprites_file=subset_npz[0])
  result = metrics.run_metric(
      "mig", gt, lambda x: x.reshape(len(x), -1)[:, ::400],
      np.random.RandomState(0), num_train=200)
  assert 0.0 <= result["score"] <= 1.0


def test_train_cli_with_dsprites_file(subset_npz, tmp_path):
  code = utils.run_train(utils.QUICK_TRAIN + [
      f"--dsprites_file={subset_npz[0]}", f"--model_dir={tmp_path}/run"])
  assert code == 0
  config = utils.read_json(tmp_path / "run" / "run_config.json")
  assert config["dataset"] == "dsprites_official"
  assert config["dsprites_file"] == subset_npz[0]


def test_tfds_dsprites_mock():
  tfds = pytest.importorskip("tensorflow_datasets")
  with tfds.testing.mock_data(num_examples=40):
    gt = data.ground_truth("dsprites_official", data_dir="/nonexistent")
    factors = gt.sample_factors(10, np.random.RandomState(0))
    images = gt.sample_observations_from_factors(factors)
    assert images.shape == (10, 64, 64, 1)
    result = metrics.run_metric(
        "mig", gt, lambda x: x.reshape(len(x), -1)[:, ::400],
        np.random.RandomState(0), num_train=100)
    assert 0.0 <= result["score"] <= 1.0


def test_code_table_interface_on_a_subset(subset_npz):
  path, rows, _ = subset_npz
  gt = data.ground_truth("dsprites_official", dsprites_file=path)
  assert gt.num_observations == len(rows)
  factors = gt.sample_factors(40, np.random.RandomState(2))
  index = gt.observation_index(factors)
  assert index.min() >= 0 and index.max() < gt.num_observations
  np.testing.assert_array_equal(gt.observations_at(index),
                                gt.sample_observations_from_factors(factors))
  # A metric from a code table of the file equals the sampled one.
  fn = lambda images: images.reshape(len(images), -1)[:, ::512]
  built, info = metrics.prepare_representation(gt, fn, ["mig"],
                                               num_train=300,
                                               code_table="always")
  assert isinstance(built, metrics.CodeTable) and info["used"]
  assert built.codes.shape == (len(rows), 8)
  direct = metrics.run_metric("mig", gt, fn, np.random.RandomState(0),
                              num_train=300)
  looked_up = metrics.run_metric("mig", gt, built, np.random.RandomState(0),
                                 num_train=300)
  assert looked_up == direct
