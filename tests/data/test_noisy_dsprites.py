"""noisy_dsprites: the simulator's sprite, white, on uniform noise."""

import numpy as np
import pytest

from tf_betavae import data
from tf_betavae.data import dsprites_simulator
from tf_betavae.data.ground_truth_data import FiniteGroundTruth
import data_test_utils as utils


@pytest.fixture(scope="module")
def gt():
  return data.ground_truth("noisy_dsprites")


def _check_noise(images, sprites):
  """Sprite pixels exactly 1; the rest uniform [0, 1) noise per channel."""
  mask = np.broadcast_to(sprites == 1.0, images.shape)
  assert np.all(images[mask] == 1.0)
  background = images[~mask]
  assert background.min() >= 0.0 and background.max() < 1.0
  # Uniform [0, 1): mean 1/2, standard deviation 1/sqrt(12).
  assert background.mean() == pytest.approx(0.5, abs=0.01)
  assert background.std() == pytest.approx(12 ** -0.5, abs=0.01)
  assert np.mean(background < 0.25) == pytest.approx(0.25, abs=0.01)
  # Channels are drawn independently: grey noise would repeat them.
  assert not np.array_equal(images[..., 0], images[..., 1])


def test_ground_truth_is_dsprites_on_noise(gt):
  assert gt.factor_names == dsprites_simulator.FACTOR_NAMES
  assert gt.factors_num_values == [3, 6, 40, 32, 32]
  assert gt.observation_shape == (64, 64, 3)
  assert not isinstance(gt, FiniteGroundTruth)
  factors = gt.sample_factors(20, np.random.RandomState(0))
  images = gt.sample_observations_from_factors(factors,
                                               np.random.RandomState(1))
  assert images.shape == (20, 64, 64, 3) and images.dtype == np.float32
  simulator = dsprites_simulator.DSpritesSimulator()
  _check_noise(images, simulator.sample_observations_from_factors(factors))
  # The noise is drawn per image.
  assert not np.array_equal(images[0][images[0] < 1], images[1][images[1] < 1])


def test_noise_comes_from_the_random_state(gt):
  factors = gt.sample_factors(3, np.random.RandomState(0))
  first = gt.sample_observations_from_factors(factors,
                                              np.random.RandomState(7))
  np.testing.assert_array_equal(
      first, gt.sample_observations_from_factors(factors,
                                                 np.random.RandomState(7)))
  assert not np.array_equal(
      first, gt.sample_observations_from_factors(factors,
                                                 np.random.RandomState(8)))
  with pytest.raises(ValueError, match="noisy_dsprites.*RandomState"):
    gt.sample_observations_from_factors(factors, None)


def test_stream_is_the_simulators_stream_on_noise():
  run = utils.check_seeded_and_resumable("noisy_dsprites")
  sprites = utils.stream_batches("dsprites", 5)
  _check_noise(np.concatenate(run), np.concatenate(sprites))


def test_a_metric_runs_without_a_code_table(gt):
  utils.check_cheap_metric(gt)
  utils.check_no_code_table(gt)


def test_two_training_steps(tmp_path):
  utils.check_two_training_steps("noisy_dsprites", tmp_path / "run")
