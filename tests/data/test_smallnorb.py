"""smallnorb through tfds.testing.mock_data (nothing is downloaded)."""

import numpy as np
import pytest
import tensorflow as tf

from tf_betavae import data
from tf_betavae.data import smallnorb
from tf_betavae.data import tfds_source
from tf_betavae.data.ground_truth_data import FiniteGroundTruth
import data_test_utils as utils

tfds = pytest.importorskip("tensorflow_datasets")


@pytest.fixture
def mock_tfds():
  with tfds.testing.mock_data(num_examples=24):
    yield


def _images_by_factors():
  """{(category, elevation, azimuth, lighting): [uint8 64x64x1 images]} of
  the mocked records, preprocessed like the dataset."""
  records, _ = tfds_source.load_split("smallnorb", "/nonexistent",
                                      smallnorb.SPLIT)
  table = {}
  for record in records:
    key = tuple(int(record[f"label_{n}"]) for n in smallnorb.FACTOR_NAMES)
    table.setdefault(key, []).append(
        smallnorb.preprocess(record["image"]).numpy())
  return table


def test_ground_truth_factors_and_observations(mock_tfds):
  del mock_tfds
  gt = data.ground_truth("smallnorb", data_dir="/nonexistent")
  assert gt.factor_names == ("category", "elevation", "azimuth", "lighting")
  assert gt.factors_num_values == [5, 9, 18, 6]
  assert gt.observation_shape == (64, 64, 1)
  # The instance is not a factor: an observation is one of several images.
  assert not isinstance(gt, FiniteGroundTruth)
  factors, images = gt.sample(30, np.random.RandomState(0))
  assert factors.shape == (30, 4) and factors.dtype == np.int64
  assert np.all(factors >= 0) and np.all(factors < [5, 9, 18, 6])
  assert images.shape == (30, 64, 64, 1) and images.dtype == np.float32
  assert 0.0 <= images.min() and images.max() <= 1.0 and images.std() > 0.01
  table = _images_by_factors()
  assert gt.num_rows == 24 == sum(len(v) for v in table.values())
  for f, image in zip(factors, images):
    candidates = table[tuple(f)]
    assert any(np.array_equal(image, c / 255.0) for c in
               np.asarray(candidates, np.float32)), f
  utils.check_cheap_metric(gt)
  utils.check_no_code_table(gt)


def test_preprocess_resizes_a_known_image():
  image = np.zeros((96, 96, 1), np.uint8)
  image[:, 48:] = 240  # right half bright
  out = smallnorb.preprocess(tf.io.encode_png(image)).numpy()
  assert out.shape == (64, 64, 1) and out.dtype == np.uint8
  assert np.all(out[:, :30] <= 3) and np.all(np.abs(out[:, 34:] - 240.) <= 3)


@pytest.mark.parametrize("cache_limit", [None, 0])  # in memory / streamed
def test_stream_shape_range_and_resume(mock_tfds, cache_limit):
  del mock_tfds
  run = utils.check_seeded_and_resumable(
      "smallnorb", data_dir="/nonexistent", cache_limit_bytes=cache_limit)
  assert 0.0 <= run[0].min() and run[0].max() <= 1.0
  # 24 examples = 3 batches of 8 per epoch, each example once.
  first_epoch = np.concatenate(run[:3]).reshape(24, -1)
  assert len(np.unique(first_epoch, axis=0)) == 24


def test_two_training_steps(mock_tfds, tmp_path):
  del mock_tfds
  utils.check_two_training_steps("smallnorb", tmp_path / "run",
                                 data_dir="/nonexistent")


def test_unprepared_message(tmp_path):
  for call in (lambda: data.check_available("smallnorb",
                                            data_dir=str(tmp_path)),
               lambda: data.ground_truth("smallnorb", data_dir=str(tmp_path)),
               lambda: data.training_dataset("smallnorb", 8, 0,
                                             data_dir=str(tmp_path))):
    with pytest.raises(data.DatasetUnavailableError) as info:
      call()
    message = str(info.value)
    assert "\n" not in message
    assert f"not prepared for tensorflow-datasets in {tmp_path}" in message
    assert f"tfds build smallnorb --data_dir={tmp_path}" in message
