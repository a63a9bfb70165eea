"""color_dsprites: the simulator's sprite in a random colour, on black."""

import numpy as np
import pytest

from tf_betavae import data
from tf_betavae.data import dsprites_simulator
from tf_betavae.data.ground_truth_data import FiniteGroundTruth
import data_test_utils as utils


@pytest.fixture(scope="module")
def gt():
  return data.ground_truth("color_dsprites")


def _check_colours(images, sprites):
  """Each image: its sprite mask is the simulator's sprite, painted in one
  colour with channels in [0.5, 1]; everything else is black."""
  for image, sprite in zip(images, sprites[..., 0] == 1.0):
    np.testing.assert_array_equal(image.max(axis=-1) > 0, sprite)
    colours = np.unique(image[sprite], axis=0)
    assert colours.shape == (1, 3)
    assert np.all(colours >= 0.5) and np.all(colours <= 1.0)
    assert not np.any(image[~sprite])


def test_ground_truth_is_dsprites_with_a_random_colour(gt):
  assert gt.factor_names == dsprites_simulator.FACTOR_NAMES
  assert gt.factors_num_values == [3, 6, 40, 32, 32]
  assert gt.observation_shape == (64, 64, 3)
  assert not isinstance(gt, FiniteGroundTruth)
  factors = gt.sample_factors(40, np.random.RandomState(0))
  images = gt.sample_observations_from_factors(factors,
                                               np.random.RandomState(1))
  assert images.shape == (40, 64, 64, 3) and images.dtype == np.float32
  simulator = dsprites_simulator.DSpritesSimulator()
  sprites = simulator.sample_observations_from_factors(factors)
  _check_colours(images, sprites)
  # Colours are drawn per image and span their range.
  colours = np.stack([im[s[..., 0] == 1][0] for im, s in zip(images, sprites)])
  assert len(np.unique(colours, axis=0)) == 40
  assert colours.min() < 0.6 and colours.max() > 0.9


def test_colours_come_from_the_random_state(gt):
  factors = gt.sample_factors(6, np.random.RandomState(0))
  first = gt.sample_observations_from_factors(factors,
                                              np.random.RandomState(7))
  np.testing.assert_array_equal(
      first, gt.sample_observations_from_factors(factors,
                                                 np.random.RandomState(7)))
  assert not np.array_equal(
      first, gt.sample_observations_from_factors(factors,
                                                 np.random.RandomState(8)))
  # sample() passes its random state on: same seed, same images.
  np.testing.assert_array_equal(gt.sample(4, np.random.RandomState(2))[1],
                                gt.sample(4, np.random.RandomState(2))[1])
  with pytest.raises(ValueError, match="color_dsprites.*RandomState"):
    gt.sample_observations_from_factors(factors)
  with pytest.raises(ValueError, match="out of range"):
    gt.sample_observations_from_factors(np.array([[3, 0, 0, 0, 0]]),
                                        np.random.RandomState(0))


def test_stream_is_the_simulators_stream_coloured():
  run = utils.check_seeded_and_resumable("color_dsprites")
  sprites = utils.stream_batches("dsprites", 5)
  for images, plain in zip(run, sprites):
    _check_colours(images, plain)


def test_a_metric_runs_without_a_code_table(gt):
  utils.check_cheap_metric(gt)
  utils.check_no_code_table(gt)


def test_two_training_steps(tmp_path):
  utils.check_two_training_steps("color_dsprites", tmp_path / "run")
