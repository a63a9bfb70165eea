"""Synthetic ground truths and representations with known answers.

``FactorGroundTruth`` renders each factor vector as a 1x1xK "image" holding
the factor indices, so representation functions can be any function of the
factors: the identity (ideal), random codes (chance), mixtures of two factors
per latent (in between) and the identity plus noise dimensions.
"""

import os
import sys

import numpy as np
import pytest

from tf_betavae.data.ground_truth_data import GroundTruthData

# dl_reference.py beside this file is imported by name (pytest runs in
# importlib mode, which does not put test folders on sys.path).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


class FactorGroundTruth(GroundTruthData):
  """Ground truth whose observations are the factor indices, [N, 1, 1, K]."""

  def __init__(self, factors_num_values=(3, 6, 10, 8, 8)):
    self.factors_num_values = list(factors_num_values)
    self.num_factors = len(factors_num_values)
    self.factor_names = tuple(f"f{i}" for i in range(self.num_factors))
    self.observation_shape = (1, 1, self.num_factors)
    self.render_calls = []

  def sample_factors(self, num, random_state):
    return np.stack([random_state.randint(n, size=num)
                     for n in self.factors_num_values], axis=1).astype(np.int64)

  def sample_observations_from_factors(self, factors, random_state=None):
    factors = np.asarray(factors)
    self.render_calls.append(len(factors))
    return factors.astype(np.float32).reshape(-1, 1, 1, self.num_factors)


def _normalised(images, num_values):
  f = images.reshape(len(images), -1).astype(np.float64)
  return f / (np.asarray(num_values, np.float64) - 1)


def identity_representation(gt):
  return lambda images: _normalised(images, gt.factors_num_values).astype(
      np.float32)


def random_representation(dim=5, seed=123):
  rs = np.random.RandomState(seed)
  return lambda images: rs.randn(len(images), dim).astype(np.float32)


def mixed_representation(gt, weight=1.0):
  """Each latent mixes two factors: z_a = f_a + w f_b, z_b = f_b - w f_a.

  With weight 1 these are 45-degree rotations of factor pairs.

  Pairs (0, 1), (2, 3), ...; an unpaired last factor is kept as is.  Use a
  ground truth whose paired factors have equally many values (e.g.
  ``FactorGroundTruth((8, 8, 8, 8))``): fixing either factor of a pair then
  changes the codes in exactly the same way, so the metrics cannot tell the
  two apart (known answers around 1/2).
  """

  def fn(images):
    f = _normalised(images, gt.factors_num_values)
    z = f.copy()
    for a in range(0, gt.num_factors - 1, 2):
      z[:, a] = f[:, a] + weight * f[:, a + 1]
      z[:, a + 1] = f[:, a + 1] - weight * f[:, a]
    return z.astype(np.float32)

  return fn


def noisy_extra_dims_representation(gt, extra=5, seed=7):
  """Identity followed by ``extra`` pure-noise dimensions."""
  rs = np.random.RandomState(seed)
  ident = identity_representation(gt)

  def fn(images):
    z = ident(images)
    return np.concatenate(
        [z, 0.3 * rs.randn(len(images), extra).astype(np.float32)], axis=1)

  return fn


def noisy_identity_representation(gt, noise=0.25, seed=11):
  """Identity plus independent noise on each latent (a mid-range score)."""
  rs = np.random.RandomState(seed)
  ident = identity_representation(gt)
  return lambda images: ident(images) + noise * rs.randn(
      len(images), gt.num_factors).astype(np.float32)


class Synthetic:
  FactorGroundTruth = FactorGroundTruth
  identity = staticmethod(identity_representation)
  random = staticmethod(random_representation)
  mixed = staticmethod(mixed_representation)
  extra_noise_dims = staticmethod(noisy_extra_dims_representation)
  noisy_identity = staticmethod(noisy_identity_representation)


@pytest.fixture
def synthetic():
  return Synthetic


@pytest.fixture
def gt():
  return FactorGroundTruth()
