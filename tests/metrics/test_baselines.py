import numpy as np
import pytest

from tf_betavae.data.ground_truth_data import GroundTruthData
from tf_betavae.metrics import baselines
from tf_betavae.metrics import mig


class StripesGroundTruth(GroundTruthData):
  """8x8 images: a horizontal bar at row f0 and a vertical bar at col f1."""
  factors_num_values = [8, 8]
  num_factors = 2
  factor_names = ("row", "col")
  observation_shape = (8, 8, 1)

  def sample_factors(self, num, random_state):
    return random_state.randint(8, size=(num, 2))

  def sample_observations_from_factors(self, factors, random_state=None):
    images = np.zeros((len(factors), 8, 8, 1), np.float32)
    images[np.arange(len(factors)), factors[:, 0], :, 0] = 1.0
    images[np.arange(len(factors)), :, factors[:, 1], 0] = 1.0
    return images


@pytest.mark.parametrize("name", ["pca", "ica", "pixels"])
def test_linear_baselines_are_representation_functions(name):
  gt = StripesGroundTruth()
  fn = baselines.make_baseline(name, gt, np.random.RandomState(0),
                               num_components=4, num_fit=2000)
  factors = gt.sample_factors(3000, np.random.RandomState(1))
  codes = fn(gt.sample_observations_from_factors(factors))
  assert codes.dtype == np.float32
  assert codes.shape == (3000, 64 if name == "pixels" else 4)
  score = mig.compute_mig_from_codes(codes, factors)["score"]
  # Pixels: each factor is read exactly by one pixel column/row; PCA/ICA mix.
  assert 0.0 <= score <= 1.0
  if name == "pixels":
    np.testing.assert_array_equal(
        codes, gt.sample_observations_from_factors(factors).reshape(3000, 64))


def test_same_seed_same_baseline():
  gt = StripesGroundTruth()
  images = gt.sample_observations_from_factors(
      gt.sample_factors(100, np.random.RandomState(2)))
  a = baselines.make_baseline("ica", gt, np.random.RandomState(0), 0, 4, 500)
  b = baselines.make_baseline("ica", gt, np.random.RandomState(0), 0, 4, 500)
  np.testing.assert_array_equal(a(images), b(images))


def test_untrained_encoder():
  fn = baselines.untrained_encoder_representation(latent_dim=6, seed=3,
                                                  batch_size=5)
  images = np.random.RandomState(0).rand(12, 64, 64, 1).astype(np.float32)
  codes = fn(images)
  assert codes.shape == (12, 6) and np.all(np.isfinite(codes))
  again = baselines.untrained_encoder_representation(latent_dim=6, seed=3)
  np.testing.assert_allclose(again(images), codes, rtol=1e-5, atol=1e-6)
  mean, _ = fn.encoder(images)
  np.testing.assert_allclose(codes, mean.numpy(), rtol=1e-5, atol=1e-6)


def test_unknown_baseline():
  with pytest.raises(ValueError, match="unknown baseline"):
    baselines.make_baseline("nope", StripesGroundTruth(),
                            np.random.RandomState(0))
